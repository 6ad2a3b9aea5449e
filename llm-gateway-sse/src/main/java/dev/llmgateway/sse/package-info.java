/**
 * A server-sent-events codec: {@link dev.llmgateway.sse.SseReader} reads an event stream ({@code
 * text/event-stream}) exactly as the WHATWG HTML standard interprets it, and {@link
 * dev.llmgateway.sse.SseWriter} writes one that reads back as the same {@link
 * dev.llmgateway.sse.ServerSentEvent}s. Nothing here knows the LLM chat service: the codec works on
 * any SSE endpoint; the chat stream built on it lives in {@code llm-gateway-core}.
 *
 * <p>Memory is bounded: a line or an event larger than the reader's limit ends reading with {@link
 * dev.llmgateway.sse.SseLimitExceededException}.
 */
@NullMarked
package dev.llmgateway.sse;

import org.jspecify.annotations.NullMarked;
