package dev.llmgateway.auth;

import static dev.llmgateway.auth.Fixtures.SECRET;
import static dev.llmgateway.auth.Fixtures.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.testkit.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okhttp3.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ServiceJwtAuthTest {
  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final ServiceJwtMinter minter =
      ServiceJwtMinter.builder().keys(Fixtures.keys()).clock(clock).environment(Fixtures.NO_ENV).build();
  private final ServiceJwtVerifier verifier =
      ServiceJwtVerifier.builder().keys(Fixtures.keys()).clock(clock).build();
  private final ServiceJwtAuth auth = ServiceJwtAuth.of(minter);

  private String bearer(ServiceJwtAuth strategy, UserContext user, Operation operation) {
    Request.Builder request = new Request.Builder().url("https://llm.example/api");
    strategy.authenticate(request, user, operation);
    String header = request.build().header("Authorization");
    assertThat(header).startsWith("Bearer ");
    return header.substring("Bearer ".length());
  }

  @ParameterizedTest
  @EnumSource(Operation.class)
  void grantsOnlyTheScopeTheOperationNeeds(Operation operation) {
    String token = bearer(auth, USER, operation);

    assertThat(verifier.verify(token).scopes()).containsExactly(operation.scope());
  }

  @Test
  void setsNoSchemeOneHeaders() {
    Request.Builder request = new Request.Builder().url("https://llm.example/api");
    auth.authenticate(request, USER, Operation.CHAT);

    assertThat(request.build().headers().names()).containsExactly("Authorization");
  }

  @Test
  void reusesTheCachedTokenUntil30SecondsBeforeExpiry() {
    String first = bearer(auth, USER, Operation.CHAT);
    clock.advance(Duration.ofSeconds(180 - 31));

    assertThat(bearer(auth, USER, Operation.CHAT)).isEqualTo(first);
  }

  @Test
  void mintsAFreshToken30SecondsBeforeExpiry() {
    String first = bearer(auth, USER, Operation.CHAT);
    clock.advance(Duration.ofSeconds(180 - 30));

    String second = bearer(auth, USER, Operation.CHAT);

    assertThat(second).isNotEqualTo(first);
    assertThat(verifier.verify(second).expiresAt()).isEqualTo(clock.instant().plusSeconds(180));
  }

  @Test
  void keepsTheCachedTokenUntilOneMillisecondBeforeTheRefreshPointThenMintsAgain() {
    String first = bearer(auth, USER, Operation.CHAT);
    clock.advance(Duration.ofSeconds(180 - 30).minusMillis(1));
    assertThat(bearer(auth, USER, Operation.CHAT)).isEqualTo(first);

    clock.advance(Duration.ofMillis(1));
    String second = bearer(auth, USER, Operation.CHAT);

    assertThat(second).isNotEqualTo(first);
    clock.advance(Duration.ofSeconds(1));
    assertThat(bearer(auth, USER, Operation.CHAT)).isEqualTo(second);
  }

  @Test
  void equalUsersShareATokenButUsersDifferingInAnyFieldDoNot() {
    UserContext same = USER.toBuilder().build();
    UserContext otherRole = USER.toBuilder().role("admin").build();
    UserContext otherCompanyRole = USER.toBuilder().companyRole("member").build();
    UserContext otherCompany = USER.toBuilder().companyId("457").build();
    String token = bearer(auth, USER, Operation.CHAT);

    assertThat(bearer(auth, same, Operation.CHAT)).isEqualTo(token);
    assertThat(verifier.verify(bearer(auth, otherRole, Operation.CHAT)).role()).isEqualTo("admin");
    assertThat(verifier.verify(bearer(auth, otherCompanyRole, Operation.CHAT)).companyRole()).isEqualTo("member");
    assertThat(verifier.verify(bearer(auth, otherCompany, Operation.CHAT)).companyId()).isEqualTo("457");
    assertThat(verifier.verify(bearer(auth, USER, Operation.DELETE_SESSION)).scopes())
        .containsExactly(Operation.DELETE_SESSION.scope());
    assertThat(bearer(auth, USER, Operation.CHAT)).isEqualTo(token);
  }

  @Test
  void sharesOneTokenBetweenOperationsNeedingTheSameScope() {
    assertThat(bearer(auth, USER, Operation.CHAT_STREAM)).isEqualTo(bearer(auth, USER, Operation.CHAT));
  }

  @Test
  void keepsSeparateTokensPerScope() {
    assertThat(bearer(auth, USER, Operation.LIST_SESSIONS)).isNotEqualTo(bearer(auth, USER, Operation.CHAT));
  }

  @Test
  void keepsSeparateTokensPerUser() {
    String other = bearer(auth, Fixtures.USER_WITHOUT_COMPANY_ROLE, Operation.CHAT);

    assertThat(verifier.verify(other).userId()).isEqualTo("124");
    assertThat(other).isNotEqualTo(bearer(auth, USER, Operation.CHAT));
  }

  @Test
  void usersWhoseCacheKeysHashAlikeStillGetTheirOwnTokens() {
    UserContext aa = USER.toBuilder().userId("Aa").build();
    UserContext bb = USER.toBuilder().userId("BB").build(); // "Aa".hashCode() == "BB".hashCode()
    assertThat(aa.hashCode()).isEqualTo(bb.hashCode());

    String first = bearer(auth, aa, Operation.CHAT);
    String second = bearer(auth, bb, Operation.CHAT);

    assertThat(verifier.verify(first).userId()).isEqualTo("Aa");
    assertThat(verifier.verify(second).userId()).isEqualTo("BB");
  }

  @Test
  void boundsTheCache() {
    ServiceJwtAuth small = ServiceJwtAuth.builder().minter(minter).maxCachedTokens(10).build();
    for (int i = 0; i < 100; i++) {
      bearer(small, USER.toBuilder().userId("u" + i).build(), Operation.CHAT);
    }

    assertThat(small.cachedTokenCount()).isLessThanOrEqualTo(10);
  }

  @Test
  void evictsStaleTokensFirstWhenFull() {
    ServiceJwtAuth small = ServiceJwtAuth.builder().minter(minter).maxCachedTokens(3).build();
    bearer(small, USER.toBuilder().userId("a").build(), Operation.CHAT);
    bearer(small, USER.toBuilder().userId("b").build(), Operation.CHAT);
    bearer(small, USER.toBuilder().userId("c").build(), Operation.CHAT);
    clock.advance(Duration.ofSeconds(160));
    String fresh = bearer(small, USER.toBuilder().userId("d").build(), Operation.CHAT);

    assertThat(small.cachedTokenCount()).isEqualTo(1);
    assertThat(bearer(small, USER.toBuilder().userId("d").build(), Operation.CHAT)).isEqualTo(fresh);
  }

  @Test
  void servesConcurrentCallersWithValidTokens() throws Exception {
    ServiceJwtAuth shared = ServiceJwtAuth.builder().minter(minter).maxCachedTokens(20).build();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        UserContext user = USER.toBuilder().userId("u" + (i % 30)).build();
        results.add(pool.submit(() -> bearer(shared, user, Operation.GET_SESSION)));
      }
      for (Future<String> result : results) {
        assertThat(verifier.verify(result.get(10, TimeUnit.SECONDS), Operation.GET_SESSION)).isNotNull();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(shared.cachedTokenCount()).isLessThanOrEqualTo(20 + 4);
  }

  @Test
  void refusesRefreshMarginNotShorterThanTheTtl() {
    ServiceJwtMinter shortLived = ServiceJwtMinter.builder().keys(Fixtures.keys()).environment(Fixtures.NO_ENV)
        .ttl(Duration.ofSeconds(30)).build();

    assertThatThrownBy(() -> ServiceJwtAuth.of(shortLived))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("refreshBefore");
  }

  @Test
  void neverShowsTheSecretOrATokenInToString() {
    String token = bearer(auth, USER, Operation.CHAT);

    assertThat(auth.toString()).doesNotContain(SECRET).doesNotContain(token);
  }
}
