package dev.llmgateway.auth;

import java.time.Instant;
import java.util.List;

/**
 * A minted scheme-2 service JWT and what it says about itself.
 *
 * <p>Immutable and thread-safe. {@link #toString()} shows the key id, jti, scopes and times, never
 * the token.
 */
public final class ServiceJwt {
  private final String token;
  private final String keyId;
  private final String jti;
  private final List<String> scopes;
  private final Instant issuedAt;
  private final Instant expiresAt;

  ServiceJwt(
      String token, String keyId, String jti, List<String> scopes, Instant issuedAt, Instant expiresAt) {
    this.token = token;
    this.keyId = keyId;
    this.jti = jti;
    this.scopes = List.copyOf(scopes);
    this.issuedAt = issuedAt;
    this.expiresAt = expiresAt;
  }

  /**
   * Returns the compact JWT, for an {@code Authorization: Bearer} header. It is a credential: do
   * not log it.
   *
   * @return the token
   */
  public String token() {
    return token;
  }

  /**
   * Returns the {@code kid} the token was signed with.
   *
   * @return the key id
   */
  public String keyId() {
    return keyId;
  }

  /**
   * Returns the token's unique id.
   *
   * @return the {@code jti} claim
   */
  public String jti() {
    return jti;
  }

  /**
   * Returns the scopes the token grants.
   *
   * @return an immutable list, in the order minted
   */
  public List<String> scopes() {
    return scopes;
  }

  /**
   * Returns when the token was minted.
   *
   * @return the {@code iat} claim
   */
  public Instant issuedAt() {
    return issuedAt;
  }

  /**
   * Returns when the token stops being valid.
   *
   * @return the {@code exp} claim
   */
  public Instant expiresAt() {
    return expiresAt;
  }

  /** Shows everything but the token. */
  @Override
  public String toString() {
    return "ServiceJwt{kid=" + keyId + ", jti=" + jti + ", scopes=" + scopes + ", issuedAt=" + issuedAt
        + ", expiresAt=" + expiresAt + ", token=<redacted>}";
  }
}
