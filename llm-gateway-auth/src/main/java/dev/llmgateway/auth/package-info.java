/**
 * Scheme-2 service JWTs and stream tokens for direct browser streaming (CONTRACT sections 1 and 4).
 *
 * <p>Sending side (the host): {@link dev.llmgateway.auth.ServiceJwtAuth} is the {@link
 * dev.llmgateway.AuthStrategy} that puts a least-privilege {@code Authorization: Bearer} JWT on
 * every call, minted by a {@link dev.llmgateway.auth.ServiceJwtMinter}; {@link
 * dev.llmgateway.auth.StreamTokenIssuer} mints the stream tokens a browser opens the stream with.
 * Signing keys live in a {@link dev.llmgateway.auth.JwtKeySet}, which supports rotation by {@code
 * kid}.
 *
 * <p>Receiving side (Java services and tests): {@link dev.llmgateway.auth.ServiceJwtVerifier} and
 * {@link dev.llmgateway.auth.StreamTokenVerifier} check tokens the way the service does and report
 * every refusal as a {@link dev.llmgateway.auth.TokenVerificationException} with a {@link
 * dev.llmgateway.auth.TokenVerificationException.Reason}.
 *
 * <p>No secret, JWT or service token ever appears in an exception message, a log line or a {@code
 * toString()} of the types in this package.
 */
@NullMarked
package dev.llmgateway.auth;

import org.jspecify.annotations.NullMarked;
