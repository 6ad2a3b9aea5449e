package dev.llmgateway.interop;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts one {@link ReferenceService} for the whole test run (kept in the root store, which closes
 * it after the last test), resets its state before each test and injects it into test constructors
 * and methods. A service that fails to start fails every test class with its output; nothing is
 * skipped.
 */
final class ReferenceServiceExtension implements BeforeAllCallback, BeforeEachCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ReferenceServiceExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    service(context);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    service(context).reset();
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == ReferenceService.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return service(context);
  }

  private static ReferenceService service(ExtensionContext context) {
    return context.getRoot().getStore(NAMESPACE)
        .getOrComputeIfAbsent(ReferenceService.class, key -> ReferenceService.start(), ReferenceService.class);
  }
}
