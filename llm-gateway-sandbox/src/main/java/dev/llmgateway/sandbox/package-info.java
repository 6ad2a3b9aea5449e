/**
 * The embedded sandbox: an in-process simulation of the LLM chat service that a {@link
 * dev.llmgateway.LlmGatewayClient} built with {@code sandbox(true)} (or the environment variable
 * {@value dev.llmgateway.LlmGatewayClient#ENV_SANDBOX}) answers from. Put this artifact on the
 * classpath of tests, demos and local development only; the client finds it by itself ({@link
 * dev.llmgateway.sandbox.EmbeddedSandbox}).
 */
@NullMarked
package dev.llmgateway.sandbox;

import org.jspecify.annotations.NullMarked;
