/**
 * Implementation details of llm-gateway-auth. Do not use any of the classes in this package: they
 * change without notice.
 */
@NullMarked
package dev.llmgateway.auth.internal;

import org.jspecify.annotations.NullMarked;
