package dev.llmgateway.spring.boot;

import dev.llmgateway.host.ChatGateway;

/**
 * Settings of the auto-configured {@link ChatGateway} that are objects rather than properties (a
 * pricing function, an estimate per request, rate-limit keys, settlement retries...): every bean
 * of this type is applied to the gateway's builder after the {@code llm-gateway.*} properties and
 * the context's beans, in {@code @Order}, so a customizer may also override those.
 *
 * <pre>{@code
 * @Bean
 * ChatGatewayBuilderCustomizer perClientAddress() {
 *   return gateway -> gateway.rateLimitKeys(RateLimitKeys.perUser().and(RateLimitKeys.perClientAddress()));
 * }
 * }</pre>
 *
 * <p>Called once, on the thread that creates the gateway bean.
 */
@FunctionalInterface
public interface ChatGatewayBuilderCustomizer {
  /**
   * Applies settings.
   *
   * @param builder the gateway's builder, already configured from the properties
   */
  void customize(ChatGateway.Builder builder);
}
