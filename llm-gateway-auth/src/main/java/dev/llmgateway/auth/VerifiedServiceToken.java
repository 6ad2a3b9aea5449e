package dev.llmgateway.auth;

import dev.llmgateway.UserContext;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The principal of a service JWT whose signature and claims were checked by a {@link
 * ServiceJwtVerifier}.
 *
 * <p>Immutable and thread-safe. Holds no token or secret.
 */
public final class VerifiedServiceToken {
  private final String userId;
  private final String companyId;
  private final @Nullable String role;
  private final @Nullable String companyRole;
  private final List<String> scopes;
  private final String jti;
  private final String keyId;
  private final Instant issuedAt;
  private final Instant expiresAt;

  VerifiedServiceToken(JwtChecks.Verified claims) {
    this.userId = claims.subject;
    this.companyId = claims.companyId;
    this.role = claims.role;
    this.companyRole = claims.companyRole;
    this.scopes = claims.scopes;
    this.jti = claims.jti;
    this.keyId = claims.keyId;
    this.issuedAt = claims.issuedAt;
    this.expiresAt = claims.expiresAt;
  }

  /**
   * Returns the end user's id.
   *
   * @return the {@code sub} claim
   */
  public String userId() {
    return userId;
  }

  /**
   * Returns the user's company id.
   *
   * @return the {@code company_id} claim
   */
  public String companyId() {
    return companyId;
  }

  /**
   * Returns the user's role.
   *
   * @return the {@code role} claim, or null when the token has none
   */
  public @Nullable String role() {
    return role;
  }

  /**
   * Returns the user's role in the company.
   *
   * @return the {@code company_role} claim, or null when the token has none
   */
  public @Nullable String companyRole() {
    return companyRole;
  }

  /**
   * Returns the scopes the token grants.
   *
   * @return an immutable list, in token order
   */
  public List<String> scopes() {
    return scopes;
  }

  /**
   * Tells whether the token grants a scope.
   *
   * @param scope e.g. {@code llm:chat:read}
   * @return true when {@link #scopes()} contains it
   */
  public boolean hasScope(String scope) {
    return scopes.contains(scope);
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
   * Returns the key that verified the token.
   *
   * @return the {@code kid} header, or the active key id when the token had none
   */
  public String keyId() {
    return keyId;
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
   * Returns when the token expires.
   *
   * @return the {@code exp} claim
   */
  public Instant expiresAt() {
    return expiresAt;
  }

  /**
   * Returns the user as the core module models it.
   *
   * @return a user context with the token's ids and roles
   * @throws TokenVerificationException with {@link TokenVerificationException.Reason#MISSING_CLAIM}
   *     when the token carries no {@code role} (the contract's tokens always do)
   */
  public UserContext toUserContext() {
    if (role == null) {
      throw new TokenVerificationException(TokenVerificationException.Reason.MISSING_CLAIM,
          "Service JWT has no role claim, so it names no complete UserContext");
    }
    return UserContext.builder().userId(userId).companyId(companyId).role(role).companyRole(companyRole)
        .build();
  }

  @Override
  public String toString() {
    return "VerifiedServiceToken{userId=" + userId + ", companyId=" + companyId + ", role=" + role
        + (companyRole == null ? "" : ", companyRole=" + companyRole) + ", scopes=" + scopes + ", jti=" + jti
        + ", kid=" + keyId + ", expiresAt=" + expiresAt + "}";
  }
}
