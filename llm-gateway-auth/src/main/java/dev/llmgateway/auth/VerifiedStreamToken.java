package dev.llmgateway.auth;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.UserContext;
import java.time.Instant;

/**
 * A stream token checked by a {@link StreamTokenVerifier} and recorded as used: the request to run,
 * for whom, and under which request id.
 *
 * <p>Immutable and thread-safe. Holds no token or secret.
 */
public final class VerifiedStreamToken {
  private final ChatRequest request;
  private final UserContext user;
  private final String requestId;
  private final String jti;
  private final Instant expiresAt;

  VerifiedStreamToken(
      ChatRequest request, UserContext user, String requestId, String jti, Instant expiresAt) {
    this.request = request;
    this.user = user;
    this.requestId = requestId;
    this.jti = jti;
    this.expiresAt = expiresAt;
  }

  /**
   * Returns the chat request carried in the {@code req} claim.
   *
   * @return the request, without metadata
   */
  public ChatRequest request() {
    return request;
  }

  /**
   * Returns the end user named by the token's user claims.
   *
   * @return the user
   */
  public UserContext user() {
    return user;
  }

  /**
   * Returns the request id from the {@code rid} claim.
   *
   * @return the request id
   */
  public String requestId() {
    return requestId;
  }

  /**
   * Returns the token's unique id, now recorded as used.
   *
   * @return the {@code jti} claim
   */
  public String jti() {
    return jti;
  }

  /**
   * Returns when the token expires.
   *
   * @return the {@code exp} claim
   */
  public Instant expiresAt() {
    return expiresAt;
  }

  @Override
  public String toString() {
    return "VerifiedStreamToken{requestId=" + requestId + ", jti=" + jti + ", user=" + user + ", request="
        + request + ", expiresAt=" + expiresAt + "}";
  }
}
