package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.auth.ServiceJwtAuth;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.sse.SseReader;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code Automatic-Module-Name} of each published jar names a package inside that jar (its main
 * package), as the JDK reads the jar when it is put on the module path. Runs on the packaged jars,
 * which the reactor's {@code verify} has built by the time this module's tests run.
 */
class ModuleNamesTest {

  /** Each published artifact with a class its jar holds. A new artifact is one more line. */
  static Stream<Arguments> publishedArtifacts() {
    return Stream.of(
        arguments("llm-gateway-core", LlmGatewayClient.class),
        arguments("llm-gateway-sse", SseReader.class),
        arguments("llm-gateway-auth", ServiceJwtAuth.class),
        arguments("llm-gateway-host", ChatGateway.class));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("publishedArtifacts")
  void theAutomaticModuleNameIsAPackageInsideTheJar(String artifactId, Class<?> knownClass)
      throws Exception {
    Path jar = codeSourceOf(knownClass);
    assumeTrue(
        Files.isRegularFile(jar),
        () -> knownClass.getName() + " was loaded from " + jar + ", not a jar: run the reactor's"
            + " verify (or package), not test, to check the jars' manifests");

    try (JarFile jarFile = new JarFile(jar.toFile())) {
      var attributes = jarFile.getManifest().getMainAttributes();
      assertThat(attributes.getValue("Implementation-Title")).as("the jar of %s", knownClass)
          .isEqualTo(artifactId);
      assertThat(attributes.getValue("Automatic-Module-Name")).as("%s's manifest", artifactId)
          .isNotBlank();
    }

    // The JDK's own reading of the jar as an automatic module: it refuses an invalid name, and
    // lists the packages the jar holds.
    ModuleDescriptor module =
        ModuleFinder.of(jar).findAll().stream()
            .map(ModuleReference::descriptor)
            .findFirst()
            .orElseThrow();
    Set<String> packages = module.packages();
    assertThat(module.isAutomatic()).isTrue();
    assertThat(packages)
        .as("packages of %s, whose Automatic-Module-Name is %s", artifactId, module.name())
        .contains(module.name())
        .contains(knownClass.getPackageName());
  }

  private static Path codeSourceOf(Class<?> type) throws URISyntaxException {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
  }
}
