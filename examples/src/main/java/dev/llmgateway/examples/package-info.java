/**
 * Runnable examples of llm-gateway-java.
 */
package dev.llmgateway.examples;
