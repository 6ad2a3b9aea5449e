/**
 * Runnable examples of llm-gateway-java.
 */
@NullMarked
package dev.llmgateway.examples;

import org.jspecify.annotations.NullMarked;
