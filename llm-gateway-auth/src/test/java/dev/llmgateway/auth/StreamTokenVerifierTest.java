package dev.llmgateway.auth;

import static dev.llmgateway.auth.Fixtures.KID;
import static dev.llmgateway.auth.Fixtures.SECRET;
import static dev.llmgateway.auth.Fixtures.USER;
import static dev.llmgateway.auth.Fixtures.b64url;
import static dev.llmgateway.auth.Fixtures.header;
import static dev.llmgateway.auth.Fixtures.hs256;
import static dev.llmgateway.auth.Fixtures.payload;
import static dev.llmgateway.auth.Fixtures.set;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.auth.TokenVerificationException.Reason;
import dev.llmgateway.auth.internal.InMemoryReplayStore;
import dev.llmgateway.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StreamTokenVerifierTest {
  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final long now = clock.instant().getEpochSecond();
  private final StreamTokenIssuer issuer = StreamTokenIssuer.builder().keys(Fixtures.keys())
      .serviceBaseUrl("https://llm.example").clock(clock).environment(Fixtures.NO_ENV).build();
  private final InMemoryReplayStore store = (InMemoryReplayStore) ReplayStore.inMemory(clock, 100);
  private final StreamTokenVerifier verifier =
      StreamTokenVerifier.builder().keys(Fixtures.keys()).clock(clock).replayStore(store).build();

  private TokenVerificationException refusal(String token) {
    TokenVerificationException e = catchThrowableOfType(TokenVerificationException.class, () -> verifier.verify(token));
    assertThat(e).as("verification should have failed").isNotNull();
    assertThat(e.getMessage()).doesNotContain(SECRET).doesNotContain(token);
    return e;
  }

  private String streamToken(Map<String, String> overrides) {
    return hs256(header(KID), payload(now, 120, Fixtures.streamClaims(overrides)), SECRET);
  }

  @Test
  void returnsTheRequestUserAndRequestIdOfTheToken() {
    ChatRequest request = ChatRequest.builder().query("hi").sessionId("sess_1").userIntent("chat").build();
    StreamToken token = issuer.issue(request, USER, "req-7");

    VerifiedStreamToken verified = verifier.verify(token.token());

    assertThat(verified.request()).isEqualTo(request);
    assertThat(verified.user()).isEqualTo(USER);
    assertThat(verified.requestId()).isEqualTo("req-7");
    assertThat(verified.jti()).isEqualTo(token.jti());
    assertThat(verified.expiresAt()).isEqualTo(token.expiresAt());
  }

  @Test
  void refusesTheSecondUseOfAToken() {
    String token = issuer.issue(ChatRequest.of("hello"), USER).token();
    verifier.verify(token);

    assertThat(refusal(token).reason()).isEqualTo(Reason.REPLAYED);
  }

  @Test
  void acceptsTwoDifferentTokensForTheSameRequest() {
    verifier.verify(issuer.issue(ChatRequest.of("hello"), USER, "req-1").token());

    assertThat(verifier.verify(issuer.issue(ChatRequest.of("hello"), USER, "req-1").token())).isNotNull();
  }

  @Test
  void refusesATokenWhoseRequestWasAltered() {
    String[] parts = issuer.issue(ChatRequest.of("hello"), USER).token().split("\\.");
    String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
    String altered = parts[0] + "." + b64url(payload.replace("\"hello\"", "\"delete everything\"")) + "." + parts[2];

    assertThat(refusal(altered).reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesAServiceJwtUsedAsStreamToken() {
    ServiceJwtMinter minter =
        ServiceJwtMinter.builder().keys(Fixtures.keys()).clock(clock).environment(Fixtures.NO_ENV).build();

    assertThat(refusal(minter.mint(USER, List.of("llm:chat:send")).token()).reason())
        .isEqualTo(Reason.WRONG_AUDIENCE);
  }

  @Test
  void refusesAnExpiredToken() {
    String token = issuer.issue(ChatRequest.of("hello"), USER).token();
    clock.advance(Duration.ofSeconds(120 + 30));

    assertThat(refusal(token).reason()).isEqualTo(Reason.EXPIRED);
  }

  @Test
  void refusesATokenWithoutRequestClaim() {
    assertThat(refusal(streamToken(set("req", null))).reason()).isEqualTo(Reason.MISSING_CLAIM);
  }

  @Test
  void refusesATokenWhoseRequestHasNoQuery() {
    assertThat(refusal(streamToken(set("req", "{\"session_id\":\"s\"}"))).reason())
        .isEqualTo(Reason.INVALID_CLAIM);
  }

  @Test
  void refusesATokenWithoutRequestId() {
    assertThat(refusal(streamToken(set("rid", null))).reason()).isEqualTo(Reason.MISSING_CLAIM);
  }

  @Test
  void refusesATokenWithoutRole() {
    assertThat(refusal(streamToken(set("role", null))).reason()).isEqualTo(Reason.MISSING_CLAIM);
  }

  @Test
  void refusesATokenWithoutTheSendScope() {
    assertThat(refusal(streamToken(set("scopes", "[\"llm:chat:read\"]"))).reason())
        .isEqualTo(Reason.INSUFFICIENT_SCOPE);
  }

  @Test
  void refusesALifetimeOver300Seconds() {
    String token = hs256(header(KID), payload(now, 301, set(
        "aud", "\"llm-chat-stream\"", "scopes", "[\"llm:chat:send\"]", "req", "{\"query\":\"q\"}", "rid", "\"r\"")),
        SECRET);

    assertThat(refusal(token).reason()).isEqualTo(Reason.LIFETIME_TOO_LONG);
  }

  @Test
  void doesNotSpendTheJtiOfARefusedToken() {
    String token = streamToken(set("scopes", "[\"llm:chat:read\"]"));
    refusal(token);

    assertThat(store.size()).isZero();
  }

  @Test
  void keepsTheJtiWhileItsTokenCouldStillVerify() {
    StreamTokenVerifier tiny = StreamTokenVerifier.builder().keys(Fixtures.keys()).clock(clock)
        .replayStore(ReplayStore.inMemory(clock, 1)).build();
    tiny.verify(issuer.issue(ChatRequest.of("hello"), USER).token());
    clock.advance(Duration.ofSeconds(120 + 30 - 1));
    String next = issuer.issue(ChatRequest.of("hello"), USER).token();

    assertThatThrownBy(() -> tiny.verify(next))
        .isInstanceOf(LlmGatewayException.class)
        .isNotInstanceOf(TokenVerificationException.class)
        .hasMessageContaining("replay store is full");
  }

  @Test
  void dropsTheJtiOnceItsTokenExpiredPlusTheLeeway() {
    InMemoryReplayStore oneSlot = (InMemoryReplayStore) ReplayStore.inMemory(clock, 1);
    StreamTokenVerifier tiny =
        StreamTokenVerifier.builder().keys(Fixtures.keys()).clock(clock).replayStore(oneSlot).build();
    tiny.verify(issuer.issue(ChatRequest.of("hello"), USER).token());
    clock.advance(Duration.ofSeconds(120 + 30));

    assertThat(tiny.verify(issuer.issue(ChatRequest.of("hello"), USER).token())).isNotNull();
    assertThat(oneSlot.size()).isEqualTo(1);
  }

  @Test
  void refusesToBeConfiguredForTokensLivingLongerThanTheContractAllows() {
    assertThatThrownBy(() -> StreamTokenVerifier.builder().maxLifetime(Duration.ofDays(3_650)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxLifetime")
        .hasMessageContaining("300 s");
    assertThatThrownBy(() -> StreamTokenVerifier.builder().maxLifetime(Duration.ofSeconds(301)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(StreamTokenVerifier.builder().maxLifetime(Duration.ofSeconds(300))).isNotNull();
  }

  @Test
  void keepsTheLeewayWithinFiveMinutes() {
    assertThatThrownBy(() -> StreamTokenVerifier.builder().leeway(Duration.ofMinutes(6)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("leeway");
  }

  @Test
  void neverShowsASecretInToString() {
    assertThat(verifier.toString()).doesNotContain(SECRET);
  }
}
