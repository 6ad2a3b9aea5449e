/**
 * Implementation details of the server-sent events support. Do not use any of the classes in this
 * package: they change without notice.
 */
@NullMarked
package dev.llmgateway.sse.internal;

import org.jspecify.annotations.NullMarked;
