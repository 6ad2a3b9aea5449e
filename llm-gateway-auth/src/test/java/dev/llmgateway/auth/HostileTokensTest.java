package dev.llmgateway.auth;

import static dev.llmgateway.auth.Fixtures.KID;
import static dev.llmgateway.auth.Fixtures.OLD_KID;
import static dev.llmgateway.auth.Fixtures.OLD_SECRET;
import static dev.llmgateway.auth.Fixtures.SECRET;
import static dev.llmgateway.auth.Fixtures.b64url;
import static dev.llmgateway.auth.Fixtures.header;
import static dev.llmgateway.auth.Fixtures.hs256;
import static dev.llmgateway.auth.Fixtures.payload;
import static dev.llmgateway.auth.Fixtures.set;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.auth.TokenVerificationException.Reason;
import dev.llmgateway.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile tokens against both verifiers: each must be refused with a {@link
 * TokenVerificationException} of the expected reason whose message echoes nothing of the token or
 * the key set. A {@code NullPointerException} or any other exception fails the test.
 */
class HostileTokensTest {
  private static final MutableClock CLOCK = MutableClock.at("2026-11-20T10:00:00Z");
  private static final long NOW = CLOCK.instant().getEpochSecond();
  private static final JwtKeySet KEYS = JwtKeySet.builder().activeKey(KID, SECRET).verificationKey(OLD_KID, OLD_SECRET)
      .build();

  /** A verifier under test: its name, what it verifies, and the claims of a token it accepts. */
  private static final class Kind {
    final String name;
    final Function<String, Object> verify;
    final String audience;
    final Function<Map<String, String>, Map<String, String>> claims;

    Kind(String name, Function<String, Object> verify, String audience,
        Function<Map<String, String>, Map<String, String>> claims) {
      this.name = name;
      this.verify = verify;
      this.audience = audience;
      this.claims = claims;
    }

    String payload(long iat, long ttl, Map<String, String> overrides) {
      return Fixtures.payload(iat, ttl, claims.apply(overrides));
    }

    String validPayload() {
      return payload(NOW, 120, Map.of());
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private static Kind service() {
    ServiceJwtVerifier verifier = ServiceJwtVerifier.builder().keys(KEYS).clock(CLOCK).build();
    return new Kind("service JWT", verifier::verify, "llm-chat", overrides -> overrides);
  }

  private static Kind stream() {
    StreamTokenVerifier verifier = StreamTokenVerifier.builder().keys(KEYS).clock(CLOCK)
        .replayStore(ReplayStore.inMemory(CLOCK, 1_000)).build();
    return new Kind("stream token", verifier::verify, "llm-chat-stream", Fixtures::streamClaims);
  }

  static Stream<Kind> kinds() {
    return Stream.of(service(), stream());
  }

  private static TokenVerificationException refusal(Kind kind, String token) {
    Throwable thrown = catchThrowable(() -> kind.verify.apply(token));
    assertThat(thrown).as("%s: %s", kind, token).isInstanceOf(TokenVerificationException.class);
    TokenVerificationException e = (TokenVerificationException) thrown;
    assertThat(e.getMessage()).doesNotContain(SECRET, OLD_SECRET);
    if (token.length() > 8) {
      assertThat(e.getMessage()).doesNotContain(token);
    }
    return e;
  }

  // --- 1. Header and payload segments that are not exactly one JSON object --------------------------

  /** JSON text that is not one object, or not JSON, or not UTF-8. */
  static List<byte[]> notOneObject() {
    List<String> texts = List.of(
        "null", "[]", "[{\"alg\":\"HS256\"}]", "1", "-0.5e3", "\"HS256\"", "true", "", " ", "{", "}",
        "{\"alg\":\"HS256\"", "[".repeat(5_000) + "]".repeat(5_000),
        "{\"a\":".repeat(2_000) + "1" + "}".repeat(2_000),
        "\uFEFF{\"alg\":\"HS256\"}", "{'alg':'HS256'}", "{alg:\"HS256\"}", "{\"alg\":\"HS256\",}");
    List<byte[]> cases = new ArrayList<>();
    texts.forEach(text -> cases.add(text.getBytes(StandardCharsets.UTF_8)));
    cases.add(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'}); // invalid UTF-8
    cases.add(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'}); // CESU surrogate
    cases.add("{\"alg\":\"HS256\"}".getBytes(StandardCharsets.UTF_16)); // not UTF-8
    return cases;
  }

  static Stream<Arguments> kindsAndNotOneObject() {
    return kinds().flatMap(kind -> notOneObject().stream().map(bytes -> Arguments.of(kind, bytes)));
  }

  @ParameterizedTest(name = "{0}: header {index}")
  @MethodSource("kindsAndNotOneObject")
  void aSignedHeaderThatIsNotOneJsonObjectIsMalformed(Kind kind, byte[] header) {
    String token = hs256(header, kind.validPayload().getBytes(StandardCharsets.UTF_8), SECRET);

    assertThat(refusal(kind, token).reason()).isEqualTo(Reason.MALFORMED);
  }

  @ParameterizedTest(name = "{0}: payload {index}")
  @MethodSource("kindsAndNotOneObject")
  void aSignedPayloadThatIsNotOneJsonObjectIsMalformed(Kind kind, byte[] payload) {
    String token = hs256(header(KID).getBytes(StandardCharsets.UTF_8), payload, SECRET);

    assertThat(refusal(kind, token).reason()).isEqualTo(Reason.MALFORMED);
  }

  static Stream<Arguments> kindsAndUnsignedJunk() {
    List<String> junk = List.of(
        "bnVsbA.e30.x", // header null: was a NullPointerException
        "bnVsbA.bnVsbA.", "WzFd.e30.x", "MQ.e30.x", "e30.bnVsbA.x", "e30.WzFd.x", "e30.e30", "..", "...",
        ".e30.x", "e30..x", "e30.e30.e30.e30", "e30.e30.e30.e30.e30", "e30=.e30.x", "e30.e30=.x", "e3 0.e30.x",
        "e30+.e30.x", "e3/0.e30.x", "\u00e930.e30.x", "Bearer e30.e30.x");
    return kinds().flatMap(kind -> junk.stream().map(token -> Arguments.of(kind, token)));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("kindsAndUnsignedJunk")
  void unsignedJunkIsMalformed(Kind kind, String token) {
    assertThat(refusal(kind, token).reason()).isEqualTo(Reason.MALFORMED);
  }

  static Stream<Arguments> kindsAndHeadersWithRepeatsOrTrailingData() {
    List<String> headers = List.of(
        "{\"alg\":\"HS256\",\"alg\":\"none\"}",
        "{\"alg\":\"none\",\"alg\":\"HS256\"}",
        "{\"alg\":\"HS256\",\"kid\":\"" + KID + "\",\"kid\":\"" + OLD_KID + "\"}",
        "{\"alg\":\"HS256\",\"kid\":\"" + KID + "\",\"x\":{\"a\":1,\"a\":2}}",
        "{\"alg\":\"HS256\",\"kid\":\"" + KID + "\"} {\"alg\":\"none\"}",
        "{\"alg\":\"HS256\",\"kid\":\"" + KID + "\"}x",
        "{\"alg\":\"HS256\",\"kid\":\"" + KID + "\"}null",
        "{\"alg\":\"HS256\",\"kid\":\"" + KID + "\"}//",
        "{\"alg\":\"HS256\",\"kid\":1}",
        "{\"alg\":\"HS256\",\"kid\":null}",
        "{\"alg\":\"HS256\",\"kid\":[\"" + KID + "\"]}",
        "{\"alg\":\"HS256\",\"kid\":\"" + KID + "\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"kid\":\"" + KID + "\",\"crit\":[\"b64\"],\"b64\":false}");
    return kinds().flatMap(kind -> headers.stream().map(header -> Arguments.of(kind, header)));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("kindsAndHeadersWithRepeatsOrTrailingData")
  void aSignedHeaderWithARepeatedNameTrailingDataABadKidOrCritIsMalformed(Kind kind, String header) {
    String token = hs256(header, kind.validPayload(), SECRET);

    assertThat(refusal(kind, token).reason()).isEqualTo(Reason.MALFORMED);
  }

  static Stream<Arguments> kindsAndPayloadsWithRepeatsOrTrailingData() {
    return kinds().flatMap(kind -> {
      String valid = kind.validPayload();
      String open = valid.substring(0, valid.length() - 1);
      return Stream.of(
          open + ",\"sub\":\"999\"}",
          open + ",\"aud\":\"" + kind.audience + "\"}",
          open + ",\"exp\":" + (NOW + 100_000) + "}",
          open + ",\"x\":{\"a\":1,\"a\":2}}",
          valid.replace("{\"query\":\"hello\"}", "{\"query\":\"hello\",\"query\":\"delete all\"}"),
          valid + " {\"sub\":\"999\"}",
          valid + "x",
          valid + "]",
          valid + "\u0000",
          "\uFEFF" + valid)
          .filter(payload -> !payload.equals(valid)) // the service JWT has no req to repeat a name in
          .map(payload -> Arguments.of(kind, payload));
    });
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("kindsAndPayloadsWithRepeatsOrTrailingData")
  void aSignedPayloadWithARepeatedNameOrTrailingDataIsMalformed(Kind kind, String payload) {
    String token = hs256(header(KID), payload, SECRET);

    assertThat(refusal(kind, token).reason()).isEqualTo(Reason.MALFORMED);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void aValidPayloadWithTrailingWhitespaceIsAccepted(Kind kind) {
    String token = hs256(header(KID), kind.validPayload() + " \n\t", SECRET);

    assertThat(kind.verify.apply(token)).isNotNull();
  }

  // --- One token, one spelling: padding and non-canonical base64url are refused ----------------------

  /** Pads JSON with spaces until its base64url ends in a character with unused bits. */
  private static String uneven(String json) {
    String padded = json;
    while (padded.getBytes(StandardCharsets.UTF_8).length % 3 == 0) {
      padded += " ";
    }
    return padded;
  }

  /** Changes the unused low bits of a segment's last character: the same bytes, spelled otherwise. */
  private static String respell(String segment) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char last = segment.charAt(segment.length() - 1);
    int value = alphabet.indexOf(last);
    return segment.substring(0, segment.length() - 1) + alphabet.charAt(value ^ 1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void aSignatureRespelledInItsUnusedBitsIsRefused(Kind kind) {
    // A 32-byte HMAC is 43 base64url characters whose last one carries 2 unused bits.
    String[] parts = hs256(header(KID), kind.validPayload(), SECRET).split("\\.");

    String respelled = parts[0] + "." + parts[1] + "." + respell(parts[2]);

    assertThat(refusal(kind, respelled).reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void aHeaderOrPayloadRespelledInItsUnusedBitsIsMalformed(Kind kind) {
    String[] parts = hs256(uneven(header(KID)), uneven(kind.validPayload()), SECRET).split("\\.");
    String respelledHeader = respell(parts[0]) + "." + parts[1];
    String respelledPayload = parts[0] + "." + respell(parts[1]);

    assertThat(refusal(kind, respelledHeader + "." + Fixtures.hmac(respelledHeader, bytes(SECRET))).reason())
        .isEqualTo(Reason.MALFORMED);
    assertThat(refusal(kind, respelledPayload + "." + Fixtures.hmac(respelledPayload, bytes(SECRET))).reason())
        .isEqualTo(Reason.MALFORMED);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void paddedSegmentsAreMalformedOrABadSignature(Kind kind) {
    String[] parts = hs256(uneven(header(KID)), kind.validPayload(), SECRET).split("\\.");
    String paddedHeader = parts[0] + "=".repeat((4 - parts[0].length() % 4) % 4);
    assertThat(paddedHeader).endsWith("=");
    String signingInput = paddedHeader + "." + parts[1];

    assertThat(refusal(kind, signingInput + "." + Fixtures.hmac(signingInput, bytes(SECRET))).reason())
        .isEqualTo(Reason.MALFORMED);
    assertThat(refusal(kind, parts[0] + "." + parts[1] + "." + parts[2] + "=").reason())
        .isEqualTo(Reason.BAD_SIGNATURE);
  }

  private static byte[] bytes(String secret) {
    return secret.getBytes(StandardCharsets.UTF_8);
  }

  // --- 3. The audience is exact ----------------------------------------------------------------------

  static Stream<Arguments> kindsAndWrongAudiences() {
    return kinds().flatMap(kind -> {
      String aud = "\"" + kind.audience + "\"";
      return Stream.of(
          "[" + aud + ",\"x\"]", "[\"x\"," + aud + "]", "[\"llm-chat\",\"llm-chat-stream\"]",
          "[\"llm-chat-stream\",\"llm-chat\"]", "[" + aud + "," + aud + "]", "[]", "[[" + aud + "]]", "[null]",
          "[1]", "[" + aud + ",null]", "\"" + kind.audience.toUpperCase(java.util.Locale.ROOT) + "\"",
          "\"" + kind.audience + " \"", "\" " + kind.audience + "\"", "\"" + kind.audience + "\\u0000\"",
          "\"" + kind.audience + "-x\"", "\"llm\"", "\"\"", "1", "true", "{}", "{\"aud\":" + aud + "}")
          .map(audience -> Arguments.of(kind, audience));
    });
  }

  @ParameterizedTest(name = "{0}: aud {1}")
  @MethodSource("kindsAndWrongAudiences")
  void anAudienceThatIsNotExactlyTheVerifiersIsRefused(Kind kind, String audience) {
    String token = hs256(header(KID), kind.payload(NOW, 120, set("aud", audience)), SECRET);

    assertThat(refusal(kind, token).reason()).isEqualTo(Reason.WRONG_AUDIENCE);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void aOneElementAudienceArrayHoldingTheAudienceIsAccepted(Kind kind) {
    String token = hs256(header(KID), kind.payload(NOW, 120, set("aud", "[\"" + kind.audience + "\"]")), SECRET);

    assertThat(kind.verify.apply(token)).isNotNull();
  }

  @Test
  void oneTokenCannotServeAsBothAServiceJwtAndAStreamToken() {
    String both = hs256(header(KID),
        payload(NOW, 120, Fixtures.streamClaims(set("aud", "[\"llm-chat\",\"llm-chat-stream\"]"))), SECRET);

    assertThat(refusal(service(), both).reason()).isEqualTo(Reason.WRONG_AUDIENCE);
    assertThat(refusal(stream(), both).reason()).isEqualTo(Reason.WRONG_AUDIENCE);
  }

  // --- 6. No claim value and no key id in any message ------------------------------------------------

  static Stream<Arguments> kindsAndRefusalsThatCouldEcho() {
    long past = NOW - 10_000;
    long future = NOW + 10_000;
    return kinds().flatMap(kind -> Stream.of(
        // expired: exp long past
        Arguments.of(kind, hs256(header(KID), kind.payload(past, 120, Map.of()), SECRET), Reason.EXPIRED,
            List.of(Long.toString(past + 120), Instant.ofEpochSecond(past + 120).toString(), CLOCK.instant().toString())),
        Arguments.of(kind, hs256(header(KID), kind.payload(future, 120, Map.of()), SECRET), Reason.NOT_YET_VALID,
            List.of(Long.toString(future), Instant.ofEpochSecond(future).toString(), CLOCK.instant().toString())),
        Arguments.of(kind, hs256(header(KID), kind.payload(NOW, 120, set("nbf", Long.toString(future))), SECRET),
            Reason.NOT_YET_VALID, List.of(Long.toString(future), Instant.ofEpochSecond(future).toString())),
        Arguments.of(kind, hs256(header(KID), kind.payload(NOW, 299_999, Map.of()), SECRET), Reason.LIFETIME_TOO_LONG,
            List.of("299999", "299 999")),
        Arguments.of(kind, hs256("{\"alg\":\"HS512\",\"kid\":\"" + KID + "\"}", kind.validPayload(), SECRET),
            Reason.ALGORITHM_NOT_ALLOWED, List.of("HS512")),
        Arguments.of(kind, hs256("{\"alg\":\"RS256\",\"kid\":\"" + KID + "\"}", kind.validPayload(), SECRET),
            Reason.ALGORITHM_NOT_ALLOWED, List.of("RS256")),
        Arguments.of(kind, hs256("{\"alg\":\"Hs256\",\"kid\":\"" + KID + "\"}", kind.validPayload(), SECRET),
            Reason.ALGORITHM_NOT_ALLOWED, List.of("Hs256")),
        Arguments.of(kind, hs256(header("2019-01"), kind.validPayload(), SECRET), Reason.UNKNOWN_KEY,
            List.of("2019-01", KID, OLD_KID)),
        Arguments.of(kind, hs256(header(OLD_KID), kind.validPayload(), SECRET), Reason.BAD_SIGNATURE,
            List.of(KID, OLD_KID)),
        Arguments.of(kind, hs256(header(KID), kind.payload(NOW, 120, set("aud", "\"evil-audience\"")), SECRET),
            Reason.WRONG_AUDIENCE, List.of("evil-audience", kind.audience)),
        Arguments.of(kind, hs256(header(KID), kind.payload(NOW, 120, set("iss", "\"evil-issuer\"")), SECRET),
            Reason.WRONG_ISSUER, List.of("evil-issuer", "rails-api")),
        Arguments.of(kind, hs256(header(KID), kind.payload(NOW, 120, set("sub", "4711")), SECRET),
            Reason.INVALID_CLAIM, List.of("4711"))));
  }

  @ParameterizedTest(name = "{0}: {2}")
  @MethodSource("kindsAndRefusalsThatCouldEcho")
  void aRefusalNamesTheRuleButNoValueOfTheTokenOrTheKeySet(
      Kind kind, String token, Reason reason, List<String> mustNotAppear) {
    TokenVerificationException e = refusal(kind, token);

    assertThat(e.reason()).isEqualTo(reason);
    assertThat(e.getMessage()).doesNotContain(mustNotAppear.toArray(new String[0]));
  }
}
