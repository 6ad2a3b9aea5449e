/**
 * The example gateway: a host API on the JDK's built-in HTTP server, with no framework, that puts
 * the LLM chat service behind itself through {@link dev.llmgateway.host.ChatGateway}.
 */
@NullMarked
package dev.llmgateway.examples.gateway;

import org.jspecify.annotations.NullMarked;
