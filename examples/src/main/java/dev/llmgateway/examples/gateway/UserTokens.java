package dev.llmgateway.examples.gateway;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.interfaces.DecodedJWT;
import dev.llmgateway.UserContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The host's own end-user authentication, as a Devise-JWT Rails app would do it: an HS256 bearer
 * token with {@code sub}, {@code scp}, {@code jti} and a one-day expiry, and a user directory that
 * says which company and role the user has. Thread-safe.
 */
public final class UserTokens {
  /** How long a user token lives. */
  public static final Duration LIFETIME = Duration.ofDays(1);

  private final Algorithm algorithm;
  private final JWTVerifier verifier;
  private final Clock clock;
  private final Map<String, UserContext> directory;

  /**
   * Creates the authenticator.
   *
   * @param secret the HMAC secret of user tokens (not the service's secrets)
   * @param clock the clock
   * @param directory the users by id
   */
  public UserTokens(byte[] secret, Clock clock, Map<String, UserContext> directory) {
    this.algorithm = Algorithm.HMAC256(secret);
    this.clock = clock;
    this.directory = Map.copyOf(directory);
    this.verifier = ((JWTVerifier.BaseVerification) JWT.require(algorithm).withClaim("scp", "user"))
        .build(clock);
  }

  /**
   * Issues a token for a user of the directory.
   *
   * @param userId the user
   * @return the token
   */
  public String issue(String userId) {
    Instant now = clock.instant();
    return JWT.create()
        .withSubject(userId)
        .withClaim("scp", "user")
        .withJWTId(UUID.randomUUID().toString())
        .withIssuedAt(now)
        .withExpiresAt(now.plus(LIFETIME))
        .sign(algorithm);
  }

  /**
   * Authenticates an {@code Authorization} header.
   *
   * @param authorization the header value, or null
   * @return the user, or empty when the header is missing, the token is invalid or expired, or the
   *     user is unknown
   */
  public Optional<UserContext> authenticate(String authorization) {
    if (authorization == null || !authorization.startsWith("Bearer ")) {
      return Optional.empty();
    }
    String subject;
    try {
      DecodedJWT jwt = verifier.verify(authorization.substring("Bearer ".length()).trim());
      subject = jwt.getSubject();
    } catch (JWTVerificationException e) {
      return Optional.empty();
    } catch (NullPointerException e) {
      // java-jwt 4 throws this for a header that is JSON null ("bnVsbA.e30.x"): not a valid token either.
      return Optional.empty();
    }
    return subject == null ? Optional.empty() : Optional.ofNullable(directory.get(subject));
  }
}
