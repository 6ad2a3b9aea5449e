package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.llmgateway.UserContext;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UserTokensTest {
  private static final byte[] SECRET = "user-token-secret-0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  private static final Instant NOW = Instant.parse("2026-11-20T10:00:00Z");
  private static final UserContext USER = UserContext.builder().userId("123").companyId("456").role("recruiter").build();

  private final UserTokens users = new UserTokens(SECRET, Clock.fixed(NOW, ZoneOffset.UTC), Map.of("123", USER));

  @Test
  void authenticatesATokenItIssued() {
    assertThat(users.authenticate("Bearer " + users.issue("123"))).contains(USER);
  }

  /** Header or payload segments that are JSON null, an array, a number: not a user, never an exception (a 500). */
  @ParameterizedTest
  @ValueSource(strings = {"bnVsbA.e30.x", "e30.bnVsbA.x", "WzFd.e30.x", "MQ.e30.x", "bnVsbA.bnVsbA.", "..", ""})
  void refusesTokensWhoseHeaderOrPayloadIsNotAJsonObject(String token) {
    assertThat(users.authenticate("Bearer " + token)).isEmpty();
  }

  @Test
  void refusesAValidlySignedTokenWithoutSubject() {
    String token = JWT.create().withClaim("scp", "user").withIssuedAt(NOW).withExpiresAt(NOW.plusSeconds(60))
        .sign(Algorithm.HMAC256(SECRET));

    assertThat(users.authenticate("Bearer " + token)).isEmpty();
  }
}
