package dev.llmgateway.spi;

import java.time.Clock;
import okhttp3.Interceptor;

/**
 * Supplies the simulation of the service that a client built with {@link
 * dev.llmgateway.LlmGatewayClient.Builder#sandbox(boolean) sandbox(true)} (or the environment
 * variable {@value dev.llmgateway.LlmGatewayClient#ENV_SANDBOX}) answers from. The artifact {@code
 * dev.llmgateway:llm-gateway-sandbox} provides it; the client finds it with {@link
 * java.util.ServiceLoader}, through a {@code META-INF/services/dev.llmgateway.spi.SandboxProvider}
 * entry, when such a client is built.
 *
 * <p>Implementations have a public no-argument constructor and are thread-safe.
 */
public interface SandboxProvider {
  /**
   * Creates a new, empty simulation: an OkHttp application interceptor that answers every request
   * itself, as the service would, and never proceeds to the network. Each client built gets its
   * own.
   *
   * @param clock the source of the simulation's timestamps (the client's {@link
   *     dev.llmgateway.LlmGatewayClient.Builder#clock(Clock) clock})
   * @return a thread-safe interceptor with no state shared with any other
   */
  Interceptor newSandbox(Clock clock);
}
