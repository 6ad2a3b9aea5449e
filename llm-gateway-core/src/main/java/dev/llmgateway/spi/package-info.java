/**
 * Service-provider interfaces: what other llm-gateway-java artifacts plug into the client through
 * {@link java.util.ServiceLoader}. Applications do not implement them.
 */
@NullMarked
package dev.llmgateway.spi;

import org.jspecify.annotations.NullMarked;
