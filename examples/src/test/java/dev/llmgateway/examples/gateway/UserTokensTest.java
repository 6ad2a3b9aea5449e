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

/** The host's user authentication refuses what it cannot use, without throwing. */
class UserTokensTest {
  private static final byte[] SECRET = "user-token-secret-of-the-host-0123456789".getBytes(StandardCharsets.UTF_8);
  private static final UserContext ADA = UserContext.builder().userId("ada").companyId("c1").role("recruiter").build();
  private static final Instant NOW = Instant.parse("2026-11-20T10:00:00Z");
  private static final UserContext USER = UserContext.builder().userId("123").companyId("456").role("recruiter").build();
  private final UserTokens tokens = new UserTokens(SECRET, Clock.systemUTC(), Map.of(ADA.userId(), ADA));
  private final UserTokens users = new UserTokens(SECRET, Clock.fixed(NOW, ZoneOffset.UTC), Map.of("123", USER));

  @Test
  void aValidTokenOfAKnownUserSignsIn() {
    assertThat(tokens.authenticate("Bearer " + tokens.issue(ADA.userId()))).contains(ADA);
    assertThat(users.authenticate("Bearer " + users.issue("123"))).contains(USER);
  }

  @Test
  void aSignedTokenWithoutASubjectIsRefusedNotAnError() {
    String noSubject = JWT.create().withClaim("scp", "user").withExpiresAt(Instant.now().plusSeconds(60))
        .sign(Algorithm.HMAC256(SECRET));
    assertThat(tokens.authenticate("Bearer " + noSubject)).isEmpty();
  }

  /** Header or payload segments that are JSON null, an array, a number: not a user, never an exception (a 500). */
  @ParameterizedTest
  @ValueSource(strings = {"bnVsbA.e30.x", "e30.bnVsbA.x", "WzFd.e30.x", "MQ.e30.x", "bnVsbA.bnVsbA.", "..", ""})
  void refusesTokensWhoseHeaderOrPayloadIsNotAJsonObject(String token) {
    assertThat(users.authenticate("Bearer " + token)).isEmpty();
  }

  @Test
  void junkHeadersAreRefused() {
    for (String junk : new String[] {null, "", "Bearer", "Bearer ", "bearer " + tokens.issue(ADA.userId()),
        "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer \u00ff\u00fe", "Bearer " + "x".repeat(10_000),
        "Bearer " + tokens.issue("ghost"), "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEiLCJzY3AiOiJ1c2VyIn0."}) {
      assertThat(tokens.authenticate(junk)).as(String.valueOf(junk)).isEmpty();
    }
  }
}
