/**
 * Spring Boot auto-configuration of the LLM gateway: {@link
 * dev.llmgateway.spring.boot.LlmGatewayProperties llm-gateway.* properties}, the {@link
 * dev.llmgateway.LlmGatewayClient}, and the beans of the optional modules found on the classpath.
 */
@NullMarked
package dev.llmgateway.spring.boot;

import org.jspecify.annotations.NullMarked;
