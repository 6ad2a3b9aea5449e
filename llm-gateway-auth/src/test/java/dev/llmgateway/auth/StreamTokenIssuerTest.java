package dev.llmgateway.auth;

import static dev.llmgateway.auth.Fixtures.NO_ENV;
import static dev.llmgateway.auth.Fixtures.SECRET;
import static dev.llmgateway.auth.Fixtures.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.Intent;
import dev.llmgateway.ValidationException;
import dev.llmgateway.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StreamTokenIssuerTest {
  private static final ChatRequest FULL_REQUEST = ChatRequest.builder()
      .query("Find senior Rails engineers in Berlin & Köln?")
      .sessionId("sess_8f14e45f")
      .userIntent(Intent.SEARCH)
      .profileId("id_1a2b3c4d")
      .putMetadata("source", "web")
      .build();

  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");

  private StreamTokenIssuer.Builder issuerBuilder() {
    return StreamTokenIssuer.builder().keys(Fixtures.keys()).serviceBaseUrl("https://llm.example")
        .clock(clock).environment(NO_ENV);
  }

  private static JsonNode payloadOf(String token) throws Exception {
    return new ObjectMapper().readTree(Base64.getUrlDecoder().decode(token.split("\\.")[1]));
  }

  @Test
  void mintsTheStreamAudienceWithOnlyTheSendScope() throws Exception {
    JsonNode payload = payloadOf(issuerBuilder().build().issue(FULL_REQUEST, USER).token());

    assertThat(payload.get("aud").textValue()).isEqualTo("llm-chat-stream");
    assertThat(payload.get("iss").textValue()).isEqualTo("rails-api");
    assertThat(payload.get("scopes").toString()).isEqualTo("[\"llm:chat:send\"]");
  }

  @Test
  void carriesTheUserClaimsOfSchemeTwo() throws Exception {
    JsonNode payload = payloadOf(issuerBuilder().build().issue(FULL_REQUEST, USER).token());

    assertThat(payload.get("sub").textValue()).isEqualTo("123");
    assertThat(payload.get("company_id").textValue()).isEqualTo("456");
    assertThat(payload.get("role").textValue()).isEqualTo("client");
    assertThat(payload.get("company_role").textValue()).isEqualTo("owner");
  }

  @Test
  void carriesTheValidatedRequestWithoutMetadata() throws Exception {
    JsonNode req = payloadOf(issuerBuilder().build().issue(FULL_REQUEST, USER).token()).get("req");

    assertThat(req.toString()).isEqualTo("{\"query\":\"Find senior Rails engineers in Berlin & Köln?\","
        + "\"session_id\":\"sess_8f14e45f\",\"user_intent\":\"search\",\"profile_id\":\"id_1a2b3c4d\"}");
  }

  @Test
  void leavesOutNullRequestFields() throws Exception {
    JsonNode req = payloadOf(issuerBuilder().build().issue(ChatRequest.of("hello"), USER).token()).get("req");

    assertThat(req.toString()).isEqualTo("{\"query\":\"hello\"}");
  }

  @Test
  void usesTheCallersRequestId() throws Exception {
    StreamToken token = issuerBuilder().build().issue(FULL_REQUEST, USER, "req-42");

    assertThat(token.requestId()).isEqualTo("req-42");
    assertThat(payloadOf(token.token()).get("rid").textValue()).isEqualTo("req-42");
  }

  @Test
  void inventsARandomRequestIdWhenNoneIsGiven() {
    StreamToken token = issuerBuilder().build().issue(FULL_REQUEST, USER);

    assertThat(UUID.fromString(token.requestId()).version()).isEqualTo(4);
  }

  @Test
  void givesEachTokenItsOwnJti() {
    StreamTokenIssuer issuer = issuerBuilder().build();

    assertThat(issuer.issue(FULL_REQUEST, USER).jti()).isNotEqualTo(issuer.issue(FULL_REQUEST, USER).jti());
  }

  @Test
  void livesFor120SecondsByDefault() throws Exception {
    StreamToken token = issuerBuilder().build().issue(FULL_REQUEST, USER);

    JsonNode payload = payloadOf(token.token());
    assertThat(payload.get("exp").longValue() - payload.get("iat").longValue()).isEqualTo(120);
    assertThat(token.expiresAt()).isEqualTo(Instant.parse("2026-11-20T10:02:00Z"));
  }

  @ParameterizedTest
  @ValueSource(longs = {29, 301})
  void refusesTtlOutsideTheRange(long seconds) {
    assertThatThrownBy(() -> issuerBuilder().ttl(Duration.ofSeconds(seconds)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void refusesAnInvalidRequestListingEveryProblemAndMintsNothing() {
    ChatRequest bad = ChatRequest.builder().query("  ").profileId("nope").build();

    assertThatThrownBy(() -> issuerBuilder().build().issue(bad, USER, "req-1"))
        .isInstanceOfSatisfying(ValidationException.class, e -> {
          assertThat(e.violations()).extracting(ValidationException.Violation::field)
              .containsExactly("query", "profile_id");
          assertThat(e.requestId()).isEqualTo("req-1");
        });
  }

  @Test
  void refusesAnInvalidUser() {
    assertThatThrownBy(() -> issuerBuilder().build().issue(FULL_REQUEST, USER.toBuilder().role(" ").build()))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("user.role");
  }

  @Test
  void refusesARequestIdThatCannotTravelInAHeader() {
    assertThatThrownBy(() -> issuerBuilder().build().issue(FULL_REQUEST, USER, "req\n1"))
        .isInstanceOfSatisfying(ValidationException.class,
            e -> assertThat(e.requestId()).isNull())
        .hasMessageContaining("request_id");
  }

  @Test
  void buildsTheStreamUrlWithTheTokenAsQueryParameter() {
    StreamToken token = issuerBuilder().build().issue(FULL_REQUEST, USER);

    HttpUrl url = HttpUrl.get(token.url());
    assertThat(url.encodedPath()).isEqualTo("/api/v1/llm-chat/recruiter/chat/stream");
    assertThat(url.queryParameter("token")).isEqualTo(token.token());
    assertThat(url.querySize()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://gw.example/llm", "https://gw.example/llm/"})
  void keepsThePathPrefixOfTheBaseUrl(String baseUrl) {
    StreamToken token = issuerBuilder().serviceBaseUrl(baseUrl).build().issue(FULL_REQUEST, USER);

    assertThat(HttpUrl.get(token.url()).encodedPath()).isEqualTo("/llm/api/v1/llm-chat/recruiter/chat/stream");
  }

  @ParameterizedTest
  @ValueSource(strings = {"llm.example", "ftp://llm.example", "https://llm.example/?x=1"})
  void refusesABaseUrlThatIsNotAPlainHttpUrl(String baseUrl) {
    assertThatThrownBy(() -> issuerBuilder().serviceBaseUrl(baseUrl)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void refusesToBuildWithoutABaseUrl() {
    assertThatThrownBy(() -> StreamTokenIssuer.builder().keys(Fixtures.keys()).environment(NO_ENV).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("serviceBaseUrl");
  }

  @Test
  void refusesASecretEqualToTheServiceToken() {
    assertThatThrownBy(() -> issuerBuilder().serviceTokenToAvoid(SECRET).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining(SECRET);
  }

  @Test
  void rendersTheBrowserValueAsJson() throws Exception {
    StreamToken token = issuerBuilder().build().issue(FULL_REQUEST, USER, "req-42");

    JsonNode json = new ObjectMapper().readTree(token.toJson());
    assertThat(json.get("stream_token").textValue()).isEqualTo(token.token());
    assertThat(json.get("url").textValue()).isEqualTo(token.url());
    assertThat(json.get("expires_at").textValue()).isEqualTo("2026-11-20T10:02:00Z");
    assertThat(json.get("request_id").textValue()).isEqualTo("req-42");
    assertThat(token.toMap()).containsOnlyKeys("stream_token", "url", "expires_at", "request_id");
  }

  @Test
  void neverShowsTheTokenInToString() {
    StreamTokenIssuer issuer = issuerBuilder().build();
    StreamToken token = issuer.issue(FULL_REQUEST, USER, "req-42");

    assertThat(token.toString()).doesNotContain(token.token()).doesNotContain(token.token().split("\\.")[2])
        .contains("req-42");
    assertThat(issuer.toString()).doesNotContain(SECRET);
  }

  @Test
  void verifiesWithTheStreamVerifier() {
    StreamToken token = issuerBuilder().build().issue(FULL_REQUEST, USER, "req-42");
    StreamTokenVerifier verifier = StreamTokenVerifier.builder().keys(Fixtures.keys()).clock(clock).build();

    VerifiedStreamToken verified = verifier.verify(token.token());

    assertThat(verified.request()).isEqualTo(FULL_REQUEST.toBuilder().metadata(Map.of()).build());
    assertThat(verified.user()).isEqualTo(USER);
    assertThat(verified.requestId()).isEqualTo("req-42");
  }
}
