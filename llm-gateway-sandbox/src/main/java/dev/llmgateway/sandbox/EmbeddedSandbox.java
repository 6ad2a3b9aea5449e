package dev.llmgateway.sandbox;

import dev.llmgateway.sandbox.internal.SandboxService;
import dev.llmgateway.spi.SandboxProvider;
import java.time.Clock;
import okhttp3.Interceptor;

/**
 * The {@link SandboxProvider} of this artifact, registered in {@code
 * META-INF/services/dev.llmgateway.spi.SandboxProvider}: with this artifact on the classpath, a
 * client built with {@link dev.llmgateway.LlmGatewayClient.Builder#sandbox(boolean) sandbox(true)}
 * answers every call from a fresh simulation of the service, and never calls the network. Nothing
 * to call by hand:
 *
 * <pre>{@code
 * try (LlmGatewayClient client = LlmGatewayClient.builder().sandbox(true).build()) {
 *   ChatResponse answer = client.chat(ChatRequest.of("Find senior Rails engineers in Berlin"), user);
 * }
 * }</pre>
 *
 * <p>The simulation follows the service's HTTP contract (chat, streams, sessions, idempotency keys)
 * with deterministic, keyword-based answers, and fails on request: a query containing {@code
 * #sandbox:status=503,times=2} or {@code #sandbox:stream=cut} gets that fault.
 *
 * <p>Thread-safe; {@link java.util.ServiceLoader} creates it with the public no-argument
 * constructor.
 */
public final class EmbeddedSandbox implements SandboxProvider {
  /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
  public EmbeddedSandbox() {}

  /**
   * Creates a new, empty simulation: no sessions, counters at zero.
   *
   * @param clock the source of every timestamp it answers ({@code created_at}, {@code Date}, ...)
   * @return an interceptor that answers each request itself; thread-safe
   * @throws NullPointerException if {@code clock} is null
   */
  @Override
  public Interceptor newSandbox(Clock clock) {
    return new SandboxService(clock);
  }
}
