package dev.llmgateway.spring.boot;

import dev.llmgateway.LlmGatewayClient;

/**
 * Adjusts the auto-configured client's builder after the {@code llm-gateway.*} properties are
 * applied: the place for settings that are objects rather than properties (an OkHttp client, a
 * callback executor, an audit sink). Every bean of this type is applied, in {@code @Order}.
 */
@FunctionalInterface
public interface LlmGatewayClientBuilderCustomizer {
  /**
   * Adjusts the builder.
   *
   * @param builder the builder, with the properties applied
   */
  void customize(LlmGatewayClient.Builder builder);
}
