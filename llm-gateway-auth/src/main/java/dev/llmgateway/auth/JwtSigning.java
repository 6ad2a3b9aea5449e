package dev.llmgateway.auth;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTCreationException;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.UserContext;
import dev.llmgateway.internal.Ids;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Mints HS256 JWTs carrying the scheme-2 user claims. Immutable and thread-safe. */
final class JwtSigning {
  static final String ALGORITHM = "HS256";

  private final JwtKeySet keys;
  private final Algorithm algorithm;
  private final String audience;
  private final String issuer;
  private final long ttlSeconds;
  private final Clock clock;

  JwtSigning(JwtKeySet keys, String audience, String issuer, Duration ttl, Clock clock) {
    this.keys = keys;
    this.algorithm = Algorithm.HMAC256(keys.activeSecret());
    this.audience = audience;
    this.issuer = issuer;
    this.ttlSeconds = ttl.toSeconds();
    this.clock = clock;
  }

  Clock clock() {
    return clock;
  }

  /**
   * Mints a token for {@code user} granting {@code scopes}, with {@code extraClaims} (string or map
   * values) added.
   */
  ServiceJwt sign(UserContext user, List<String> scopes, Map<String, Object> extraClaims) {
    Instant issuedAt = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    Instant expiresAt = issuedAt.plusSeconds(ttlSeconds);
    String jti = Ids.randomUuid(); // unpredictable, without UUID.randomUUID()'s JVM-wide lock
    String keyId = keys.activeKeyId();
    JWTCreator.Builder jwt = JWT.create()
        .withKeyId(keyId)
        .withSubject(user.userId())
        .withClaim("company_id", user.companyId())
        .withClaim("role", user.role());
    @Nullable String companyRole = user.companyRole();
    if (companyRole != null) {
      jwt.withClaim("company_role", companyRole);
    }
    jwt.withArrayClaim("scopes", scopes.toArray(new String[0]))
        .withAudience(audience)
        .withIssuer(issuer)
        .withIssuedAt(issuedAt)
        .withExpiresAt(expiresAt)
        .withJWTId(jti);
    for (Map.Entry<String, Object> claim : extraClaims.entrySet()) {
      Object value = claim.getValue();
      if (value instanceof Map) {
        @SuppressWarnings("unchecked")
        Map<String, ?> map = (Map<String, ?>) value;
        jwt.withClaim(claim.getKey(), map);
      } else {
        jwt.withClaim(claim.getKey(), (String) value);
      }
    }
    try {
      return new ServiceJwt(jwt.sign(algorithm), keyId, jti, scopes, issuedAt, expiresAt);
    } catch (JWTCreationException | IllegalArgumentException e) {
      throw new LlmGatewayException("Could not sign the JWT (kid " + keyId + ")", null, 0, e);
    }
  }
}
