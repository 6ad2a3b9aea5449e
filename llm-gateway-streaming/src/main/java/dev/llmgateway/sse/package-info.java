/**
 * Server-sent events (WHATWG event-stream) reading and writing.
 */
@NullMarked
package dev.llmgateway.sse;

import org.jspecify.annotations.NullMarked;
