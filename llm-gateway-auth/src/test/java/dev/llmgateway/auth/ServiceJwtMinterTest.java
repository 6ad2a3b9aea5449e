package dev.llmgateway.auth;

import static dev.llmgateway.auth.Fixtures.KID;
import static dev.llmgateway.auth.Fixtures.NO_ENV;
import static dev.llmgateway.auth.Fixtures.SECRET;
import static dev.llmgateway.auth.Fixtures.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.auth0.jwt.JWT;
import com.auth0.jwt.interfaces.DecodedJWT;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ServiceJwtMinterTest {
  private static final String SERVICE_TOKEN = "scheme-1-service-token-0123456789abcdef";

  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00.750Z");

  private ServiceJwtMinter.Builder minterBuilder() {
    return ServiceJwtMinter.builder().keys(Fixtures.keys()).clock(clock).environment(NO_ENV);
  }

  private static JsonNode payloadOf(String token) throws Exception {
    return new ObjectMapper().readTree(Base64.getUrlDecoder().decode(token.split("\\.")[1]));
  }

  @Test
  void mintsTheContractClaimsWithStringIds() throws Exception {
    ServiceJwt jwt = minterBuilder().build().mint(USER, List.of("llm:chat:send", "llm:chat:read"));

    JsonNode payload = payloadOf(jwt.token());
    assertThat(payload.get("sub").isTextual()).isTrue();
    assertThat(payload.get("sub").textValue()).isEqualTo("123");
    assertThat(payload.get("company_id").isTextual()).isTrue();
    assertThat(payload.get("company_id").textValue()).isEqualTo("456");
    assertThat(payload.get("role").textValue()).isEqualTo("client");
    assertThat(payload.get("company_role").textValue()).isEqualTo("owner");
    assertThat(payload.get("scopes").toString()).isEqualTo("[\"llm:chat:send\",\"llm:chat:read\"]");
    assertThat(payload.get("aud").textValue()).isEqualTo("llm-chat");
    assertThat(payload.get("iss").textValue()).isEqualTo("rails-api");
  }

  @Test
  void datesTokensInWholeSecondsWithTheDefaultLifetimeOf180Seconds() throws Exception {
    ServiceJwt jwt = minterBuilder().build().mint(USER, List.of("llm:chat:send"));

    JsonNode payload = payloadOf(jwt.token());
    long iat = Instant.parse("2026-11-20T10:00:00Z").getEpochSecond();
    assertThat(payload.get("iat").longValue()).isEqualTo(iat);
    assertThat(payload.get("exp").longValue()).isEqualTo(iat + 180);
    assertThat(jwt.expiresAt()).isEqualTo(Instant.ofEpochSecond(iat + 180));
  }

  @Test
  void signsWithHs256AndNamesTheKeyInTheHeader() {
    DecodedJWT decoded = JWT.decode(minterBuilder().build().mint(USER, List.of("llm:chat:send")).token());

    assertThat(decoded.getAlgorithm()).isEqualTo("HS256");
    assertThat(decoded.getKeyId()).isEqualTo(KID);
  }

  @Test
  void givesEveryTokenARandomUuidJti() {
    ServiceJwtMinter minter = minterBuilder().build();
    Set<String> jtis = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      jtis.add(minter.mint(USER, List.of("llm:chat:send")).jti());
    }

    assertThat(jtis).hasSize(50);
    assertThat(UUID.fromString(jtis.iterator().next())).isNotNull();
  }

  @Test
  void leavesOutCompanyRoleWhenTheUserHasNone() throws Exception {
    ServiceJwt jwt = minterBuilder().build().mint(Fixtures.USER_WITHOUT_COMPANY_ROLE, List.of("llm:chat:send"));

    assertThat(payloadOf(jwt.token()).has("company_role")).isFalse();
  }

  @Test
  void usesConfiguredAudienceIssuerAndTtl() throws Exception {
    ServiceJwt jwt = minterBuilder().audience("other-aud").issuer("other-iss").ttl(Duration.ofSeconds(300))
        .build().mint(USER, List.of("llm:chat:send"));

    JsonNode payload = payloadOf(jwt.token());
    assertThat(payload.get("aud").textValue()).isEqualTo("other-aud");
    assertThat(payload.get("iss").textValue()).isEqualTo("other-iss");
    assertThat(payload.get("exp").longValue() - payload.get("iat").longValue()).isEqualTo(300);
  }

  @ParameterizedTest
  @ValueSource(longs = {30, 300})
  void acceptsTtlAtTheEdgesOfTheRange(long seconds) {
    assertThatCode(() -> minterBuilder().ttl(Duration.ofSeconds(seconds))).doesNotThrowAnyException();
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 29, 301, 3600})
  void refusesTtlOutsideTheRange(long seconds) {
    assertThatThrownBy(() -> minterBuilder().ttl(Duration.ofSeconds(seconds)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("between 30 s and 300 s");
  }

  @Test
  void refusesTtlWithFractionalSeconds() {
    assertThatThrownBy(() -> minterBuilder().ttl(Duration.ofMillis(60_500)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("whole seconds");
  }

  @Test
  void refusesSecretEqualToTheServiceTokenToAvoid() {
    ServiceJwtMinter.Builder builder = ServiceJwtMinter.builder()
        .keys(JwtKeySet.of(KID, SERVICE_TOKEN)).environment(NO_ENV).serviceTokenToAvoid(SERVICE_TOKEN);

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("serviceTokenToAvoid")
        .hasMessageNotContaining(SERVICE_TOKEN);
  }

  @Test
  void refusesSecretEqualToTheServiceTokenInTheEnvironment() {
    ServiceJwtMinter.Builder builder = ServiceJwtMinter.builder()
        .keys(JwtKeySet.of(KID, SERVICE_TOKEN)).environment(Map.of("LLM_SERVICE_TOKEN", SERVICE_TOKEN)::get);

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("LLM_SERVICE_TOKEN")
        .hasMessageNotContaining(SERVICE_TOKEN);
  }

  @Test
  void refusesSecretEqualToTheServiceTokenReadWithATrailingNewline() {
    // Secrets mounted from files often end in a newline; the comparison strips it.
    ServiceJwtMinter.Builder builder = ServiceJwtMinter.builder()
        .keys(JwtKeySet.of(KID, SERVICE_TOKEN)).environment(Map.of("LLM_SERVICE_TOKEN", SERVICE_TOKEN + "\n")::get);

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("LLM_SERVICE_TOKEN");
  }

  @Test
  void refusesOlderVerificationKeyEqualToTheServiceToken() {
    JwtKeySet keys = JwtKeySet.builder().activeKey(KID, SECRET).verificationKey("old", SERVICE_TOKEN).build();

    assertThatThrownBy(() -> ServiceJwtMinter.builder().keys(keys).environment(NO_ENV)
            .serviceTokenToAvoid(SERVICE_TOKEN).build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void acceptsSecretThatDiffersFromTheServiceToken() {
    assertThatCode(() -> ServiceJwtMinter.builder().keys(Fixtures.keys())
            .environment(Map.of("LLM_SERVICE_TOKEN", SERVICE_TOKEN)::get)
            .serviceTokenToAvoid(SERVICE_TOKEN).build())
        .doesNotThrowAnyException();
  }

  @Test
  void refusesToBuildWithoutKeys() {
    assertThatThrownBy(() -> ServiceJwtMinter.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("keys(");
  }

  @Test
  void refusesToMintWithoutScopes() {
    assertThatThrownBy(() -> minterBuilder().build().mint(USER, List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void refusesToMintForAUserWithAnUnsafeId() {
    UserContext user = USER.toBuilder().userId("12\r\n3").build();

    assertThatThrownBy(() -> minterBuilder().build().mint(user, List.of("llm:chat:send")))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("user.user_id");
  }

  @Test
  void neverShowsTheSecretOrTokenInToString() {
    ServiceJwtMinter minter = minterBuilder().build();
    ServiceJwt jwt = minter.mint(USER, List.of("llm:chat:send"));

    assertThat(minter.toString()).doesNotContain(SECRET).contains(KID);
    assertThat(jwt.toString()).doesNotContain(jwt.token()).doesNotContain(SECRET).contains(jwt.jti());
  }
}
