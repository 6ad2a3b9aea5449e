/**
 * The sandbox: an in-process simulation of the LLM chat service's HTTP contract, answered by an
 * OkHttp interceptor when a client is built with {@code sandbox(true)}. Implementation detail; do
 * not use.
 */
@NullMarked
package dev.llmgateway.sandbox.internal;

import org.jspecify.annotations.NullMarked;
