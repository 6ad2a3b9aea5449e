/**
 * OpenTelemetry tracing for {@code llm-gateway-core}'s client: {@link
 * dev.llmgateway.opentelemetry.GatewayTracing} makes a {@link
 * dev.llmgateway.GatewayListener.Factory} that starts a {@code CLIENT} span per logical call
 * (retries as events, a stream's time to first event, the tokens used, errors) and sends the W3C
 * trace context ({@code traceparent}, {@code tracestate}) on every attempt, so the service's spans
 * join the host's trace.
 */
@NullMarked
package dev.llmgateway.opentelemetry;

import org.jspecify.annotations.NullMarked;
