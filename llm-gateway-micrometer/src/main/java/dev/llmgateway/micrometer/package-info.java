/**
 * Micrometer meters for the LLM gateway: {@link dev.llmgateway.micrometer.GatewayMetrics} for the
 * client's calls and {@link dev.llmgateway.micrometer.HostMetrics} for {@code llm-gateway-host}'s
 * refusals and credit settlements.
 */
@NullMarked
package dev.llmgateway.micrometer;

import org.jspecify.annotations.NullMarked;
