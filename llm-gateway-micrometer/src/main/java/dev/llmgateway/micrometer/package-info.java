/**
 * Micrometer meters for the LLM gateway: {@link dev.llmgateway.micrometer.GatewayMetrics} for the
 * client's calls and the requests refused before any call (the client's and {@code
 * llm-gateway-host}'s refusals), and {@link dev.llmgateway.micrometer.HostMetrics} for {@code
 * llm-gateway-host}'s credit settlements.
 */
@NullMarked
package dev.llmgateway.micrometer;

import org.jspecify.annotations.NullMarked;
