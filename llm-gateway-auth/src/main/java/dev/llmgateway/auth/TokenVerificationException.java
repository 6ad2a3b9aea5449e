package dev.llmgateway.auth;

import dev.llmgateway.LlmGatewayException;
import java.util.Objects;

/**
 * A service JWT or stream token was refused. {@link #reason()} says why, one actionable meaning
 * each; the message names the rule that failed (which claim, which header) but never the token, a
 * secret, a value copied from the refused token ({@code alg}, {@code kid}, {@code exp}, ...) or the
 * verifier's configuration (its key ids), none of which a caller who sent a bad token should
 * learn.
 *
 * <p>Receiving sides answer {@code 401} for every reason except {@link
 * Reason#INSUFFICIENT_SCOPE}, which is {@code 403} (CONTRACT section 1).
 */
public final class TokenVerificationException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  /** Why a token was refused. */
  public enum Reason {
    /**
     * Not a JWT: not three base64url parts, or a header or payload that is not exactly one JSON
     * object (JSON {@code null}, an array, a number, data after the object, a name twice, nesting
     * too deep), a {@code kid} that is not a string, or a {@code crit} header.
     */
    MALFORMED,
    /**
     * The header's {@code alg} is not {@code HS256} ({@code none}, {@code RS256}, {@code ES256},
     * {@code HS512}, ...). Only HS256 is ever accepted, whatever the token says.
     */
    ALGORITHM_NOT_ALLOWED,
    /** The header's {@code kid} names no key of the verifier's {@link JwtKeySet}. */
    UNKNOWN_KEY,
    /** The signature does not match: forged, altered, or signed with another secret. */
    BAD_SIGNATURE,
    /** A required claim is absent; the message names it. */
    MISSING_CLAIM,
    /** A claim has the wrong type or an impossible value (e.g. a numeric {@code sub}). */
    INVALID_CLAIM,
    /**
     * {@code aud} is not exactly the audience the verifier expects: a string equal to it, or an
     * array holding only it.
     */
    WRONG_AUDIENCE,
    /** {@code iss} is not the issuer the verifier expects. */
    WRONG_ISSUER,
    /** {@code exp - iat} is longer than allowed (300 s by default). */
    LIFETIME_TOO_LONG,
    /** {@code exp} has passed, beyond the leeway. Mint a new token. */
    EXPIRED,
    /** {@code nbf} or {@code iat} lies in the future, beyond the leeway: check the clocks. */
    NOT_YET_VALID,
    /** The token is valid but lacks the scope the operation needs ({@code 403}). */
    INSUFFICIENT_SCOPE,
    /** The token's {@code jti} was used before; single-use tokens cannot be reused. */
    REPLAYED
  }

  private final Reason reason;

  /**
   * Creates the exception.
   *
   * @param reason why the token was refused
   * @param message detail for logs; must not contain the token or a secret
   */
  public TokenVerificationException(Reason reason, String message) {
    super(message, null, 0, null);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /**
   * Returns why the token was refused.
   *
   * @return the reason
   */
  public Reason reason() {
    return reason;
  }
}
