/**
 * Implementation details of llm-gateway-java. Do not use any of the classes in this package: they
 * change without notice.
 */
@NullMarked
package dev.llmgateway.internal;

import org.jspecify.annotations.NullMarked;
