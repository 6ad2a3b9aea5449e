/**
 * Implementation details of llm-gateway-host. Do not use any of the classes in this package: they
 * change without notice.
 */
@NullMarked
package dev.llmgateway.host.internal;

import org.jspecify.annotations.NullMarked;
