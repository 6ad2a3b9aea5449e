/**
 * Scheme-2 service JWTs, stream tokens for direct browser streaming, and completion webhooks.
 */
@NullMarked
package dev.llmgateway.auth;

import org.jspecify.annotations.NullMarked;
