/**
 * The client of the LLM chat service: {@link dev.llmgateway.LlmGatewayClient}, its requests,
 * responses, policies and exceptions.
 */
@NullMarked
package dev.llmgateway;

import org.jspecify.annotations.NullMarked;
