package dev.llmgateway.webhooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.Usage;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.webhooks.WebhookVerificationException.Reason;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class WebhookVerifierTest {
  static final byte[] SECRET_BYTES = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  static final String SECRET_B64 = Base64.getEncoder().encodeToString(SECRET_BYTES);
  static final String WHSEC = "whsec_" + SECRET_B64;
  static final String ID = "msg_2LhQ8xzH2yE0kqB1";
  static final String BODY_TEXT = "{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"req-42\","
      + "\"session_id\":\"sess_8f14e45f\",\"message_id\":\"msg_01\",\"user_id\":\"123\",\"company_id\":\"456\","
      + "\"status\":\"completed\",\"finish_reason\":\"stop\","
      + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3},"
      + "\"completed_at\":\"2026-11-20T10:05:00Z\"}}";
  static final byte[] BODY = BODY_TEXT.getBytes(StandardCharsets.UTF_8);

  private final MutableClock clock = MutableClock.at("2026-11-20T10:05:01Z");
  private final WebhookSigner signer = WebhookSigner.of(WebhookSecret.parse(WHSEC));
  private final WebhookVerifier verifier =
      WebhookVerifier.builder().secret(WebhookSecret.parse(WHSEC)).clock(clock).build();

  private Map<String, List<String>> signed(String id, Instant at, byte[] body) {
    Map<String, List<String>> headers = new HashMap<>();
    signer.headers(id, at, body).forEach((name, value) -> headers.put(name, List.of(value)));
    return headers;
  }

  private Map<String, List<String>> signedNow() {
    return signed(ID, clock.instant(), BODY);
  }

  /** Headers carrying exactly the given id and timestamp text, signed over exactly that text. */
  private Map<String, List<String>> signedRaw(String id, String timestamp, byte[] body) {
    WebhookSecret secret = WebhookSecret.parse(WHSEC);
    Map<String, List<String>> headers = new HashMap<>();
    headers.put("webhook-id", List.of(id));
    headers.put("webhook-timestamp", List.of(timestamp));
    headers.put("webhook-signature", List.of("v1," + WebhookSigner.signature(secret, id, timestamp, body)));
    return headers;
  }

  private String now() {
    return Long.toString(clock.instant().getEpochSecond());
  }

  private WebhookVerificationException refusal(Map<String, List<String>> headers, byte[] body) {
    try {
      verifier.verify(headers, body);
    } catch (WebhookVerificationException e) {
      assertThat(e.getMessage()).doesNotContain(SECRET_B64).doesNotContain(new String(SECRET_BYTES,
          StandardCharsets.US_ASCII));
      return e;
    }
    throw new AssertionError("verification should have failed");
  }

  @Test
  void acceptsAValidDeliveryAndParsesTheCompletion() {
    VerifiedWebhook webhook = verifier.verify(signedNow(), BODY);

    assertThat(webhook.id()).isEqualTo(ID);
    assertThat(webhook.isDuplicate()).isFalse();
    assertThat(webhook.completion().requestId()).isEqualTo("req-42");
    assertThat(webhook.completion().status()).isEqualTo(CompletionWebhook.Status.COMPLETED);
    assertThat(webhook.completion().usage()).isEqualTo(new Usage(1, 2, 3));
    assertThat(webhook.body()).isEqualTo(BODY);
  }

  @Test
  void refusesABodyChangedByOneWhitespace() {
    byte[] changed = BODY_TEXT.replace("\"type\":", "\"type\": ").getBytes(StandardCharsets.UTF_8);

    assertThat(refusal(signedNow(), changed).reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesADeliveryWhoseIdWasChanged() {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-id", List.of("msg_other"));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesADeliveryWhoseTimestampWasChanged() {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-timestamp", List.of(Long.toString(clock.instant().getEpochSecond() - 1)));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesADeliverySignedWithAnotherSecret() {
    WebhookSigner other = WebhookSigner.of(WebhookSecret.ofBytes(new byte[32]));
    Map<String, List<String>> headers = new HashMap<>();
    other.headers(ID, clock.instant(), BODY).forEach((name, value) -> headers.put(name, List.of(value)));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesATimestampOlderThanFiveMinutes() {
    Map<String, List<String>> headers = signed(ID, clock.instant().minusSeconds(301), BODY);

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.STALE_TIMESTAMP);
  }

  @Test
  void acceptsATimestampExactlyFiveMinutesOld() {
    assertThat(verifier.verify(signed(ID, clock.instant().minusSeconds(300), BODY), BODY).id()).isEqualTo(ID);
  }

  @Test
  void refusesATimestampMoreThanFiveMinutesAhead() {
    Map<String, List<String>> headers = signed(ID, clock.instant().plusSeconds(301), BODY);

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.FUTURE_TIMESTAMP);
  }

  @Test
  void appliesAConfiguredTolerance() {
    WebhookVerifier strict = WebhookVerifier.builder().secret(WebhookSecret.parse(WHSEC)).clock(clock)
        .tolerance(Duration.ofSeconds(60)).build();

    assertThatThrownBy(() -> strict.verify(signed(ID, clock.instant().minusSeconds(61), BODY), BODY))
        .isInstanceOfSatisfying(WebhookVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.STALE_TIMESTAMP));
  }

  @Test
  void reportsARedeliveryAsDuplicate() {
    verifier.verify(signedNow(), BODY);
    clock.advance(Duration.ofMinutes(30));

    assertThat(verifier.verify(signedNow(), BODY).isDuplicate()).isTrue();
  }

  @Test
  void processesARedeliveryAfterTheHostForgotAFailedAttempt() {
    VerifiedWebhook first = verifier.verify(signedNow(), BODY);
    verifier.forget(first.id());

    assertThat(verifier.verify(signedNow(), BODY).isDuplicate()).isFalse();
  }

  @Test
  void forgetsAnIdAfterTheDuplicateWindow() {
    WebhookVerifier shortMemory = WebhookVerifier.builder().secret(WebhookSecret.parse(WHSEC)).clock(clock)
        .duplicateWindow(Duration.ofHours(1)).build();
    shortMemory.verify(signedNow(), BODY);
    clock.advance(Duration.ofHours(1));

    assertThat(shortMemory.verify(signedNow(), BODY).isDuplicate()).isFalse();
  }

  @Test
  void doesNotRecordTheIdOfARefusedDelivery() {
    Map<String, List<String>> forged = signedNow();
    forged.put("webhook-signature", List.of("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="));
    refusal(forged, BODY);

    assertThat(verifier.verify(signedNow(), BODY).isDuplicate()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"webhook-id", "webhook-timestamp", "webhook-signature"})
  void refusesADeliveryMissingAHeader(String header) {
    Map<String, List<String>> headers = signedNow();
    headers.remove(header);

    WebhookVerificationException e = refusal(headers, BODY);

    assertThat(e.reason()).isEqualTo(Reason.MISSING_HEADER);
    assertThat(e.getMessage()).contains(header);
  }

  @Test
  void refusesABlankHeaderAsMissing() {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-signature", List.of("  "));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.MISSING_HEADER);
  }

  @ParameterizedTest
  @ValueSource(strings = {"1614265330.5", "-1614265330", "2026-11-20T10:05:01Z", "abc"})
  void refusesATimestampThatIsNotUnixSeconds(String timestamp) {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-timestamp", List.of(timestamp));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1", "garbage", ",abc", "v1;abc"})
  void refusesASignatureHeaderWithoutVersionCommaSignatureEntries(String signature) {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-signature", List.of(signature));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  /** Whitespace other than space and tab, which HTTP parsers leave in a field value. */
  static Stream<String> whitespaceHttpKeeps() {
    return Stream.of("\u2028", "\u2029", "\u00a0", "\u3000", "\u2003", "\u1680", "\u0085", "\ufeff", "\u200b",
        "\u000b", "\f", "\r", "\n", "\u001c", "\u001f", "\u0000", " \u2028", "\u2028\t");
  }

  @ParameterizedTest
  @MethodSource("whitespaceHttpKeeps")
  void refusesATimestampSurroundedByWhitespaceHttpKeeps(String space) {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-timestamp", List.of(space + now() + space));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @ParameterizedTest
  @MethodSource("whitespaceHttpKeeps")
  void refusesAnIdSurroundedByWhitespaceHttpKeeps(String space) {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-id", List.of(space + ID + space));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @ParameterizedTest
  @ValueSource(strings = {" ", "\t", " \t  "})
  void removesSpacesAndTabsAroundEachValueAsHttpParsersDo(String space) {
    Map<String, List<String>> headers = new HashMap<>();
    signedNow().forEach((name, values) -> headers.put(name, List.of(space + values.get(0) + space)));

    assertThat(verifier.verify(headers, BODY).id()).isEqualTo(ID);
  }

  @ParameterizedTest
  @ValueSource(strings = {"+1795169101", "-1795169101", "1795169101.0", "1 795169101", "0x6AFF8F4D",
      "1.795169101e9", "\uff11\uff17\uff19\uff15\uff11\uff16\uff19\uff11\uff10\uff11",
      "\u0661\u0667\u0669\u0665", "00000000000000000001795169101", "9999999999999999999", "99999999999999999999",
      "1795169101\u0000", "1795169101,1795169101"})
  void refusesATimestampThatIsNotOneToNineteenAsciiDigitsEvenWhenSigned(String timestamp) {
    assertThat(refusal(signedRaw(ID, timestamp, BODY), BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @Test
  void acceptsNineteenDigitsWithLeadingZeros() {
    String timestamp = "0".repeat(19 - now().length()) + now();

    assertThat(verifier.verify(signedRaw(ID, timestamp, BODY), BODY).timestamp()).isEqualTo(clock.instant());
  }

  @ParameterizedTest
  @ValueSource(strings = {"msg 1", "msg\t1", "msg\u00e91", "msg\u20281", "msg\u00a01", "msg\u007f", "msg\u0001",
      "\u00e9", "msg_\ud83d\ude00"})
  void refusesAnIdThatIsNotVisibleAsciiEvenWhenSigned(String id) {
    assertThat(refusal(signedRaw(id, now(), BODY), BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @Test
  void acceptsAnIdOf256VisibleAsciiCharactersAndRefusesOneMore() {
    String longest = "!~" + "m".repeat(254);

    assertThat(verifier.verify(signedRaw(longest, now(), BODY), BODY).id()).isEqualTo(longest);
    assertThat(refusal(signedRaw(longest + "m", now(), BODY), BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @Test
  void refusesAnIdWithControlCharacters() {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-id", List.of("msg\u0000x"));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @Test
  void refusesRepeatedIdHeadersThatDisagree() {
    Map<String, List<String>> headers = signedNow();
    headers.put("Webhook-Id", List.of("msg_other"));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @Test
  void refusesRepeatedTimestampHeadersThatDisagree() {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-timestamp", List.of(now(), Long.toString(clock.instant().getEpochSecond() - 1)));

    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @Test
  void treatsRepeatedHeadersThatDifferOnlyInSpacesAsOne() {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-id", List.of(ID, " " + ID + "\t"));
    headers.put("Webhook-Timestamp", List.of(now() + " "));

    assertThat(verifier.verify(headers, BODY).id()).isEqualTo(ID);
  }

  /** A lookup such as JAX-RS {@code getHeaderString}, which joins repeated values with commas. */
  private static Function<String, String> joiningLookup(Map<String, List<String>> headers, String separator) {
    return name -> headers.containsKey(name) ? String.join(separator, headers.get(name)) : null;
  }

  @Test
  void refusesRepeatedIdsThatALookupJoinedWithCommaAndSpace() {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-id", List.of("msg_other", ID));

    assertThatThrownBy(() -> verifier.verify(joiningLookup(headers, ", "), BODY))
        .isInstanceOfSatisfying(WebhookVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED_HEADER));
  }

  @Test
  void refusesRepeatedIdsThatALookupJoinedWithACommaAsTheirSignatureCannotMatch() {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-id", List.of(ID, "msg_other"));

    assertThatThrownBy(() -> verifier.verify(joiningLookup(headers, ","), BODY))
        .isInstanceOfSatisfying(WebhookVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE));
  }

  @Test
  void refusesRepeatedTimestampsThatALookupJoined() {
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-timestamp", List.of(now(), now()));

    for (String separator : List.of(",", ", ")) {
      assertThatThrownBy(() -> verifier.verify(joiningLookup(headers, separator), BODY))
          .isInstanceOfSatisfying(WebhookVerificationException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED_HEADER));
    }
  }

  @Test
  void aFirstValueLookupCannotTellThatAnIdWasRepeatedButTheMapVariantRefusesIt() {
    // As documented: hosts whose lookup returns the first value (Servlet getHeader) use the map variant.
    Map<String, List<String>> headers = signedNow();
    headers.put("webhook-id", List.of(ID, "msg_other"));
    Function<String, String> firstValue = name -> headers.containsKey(name) ? headers.get(name).get(0) : null;

    assertThat(verifier.verify(firstValue, BODY).id()).isEqualTo(ID);
    verifier.forget(ID);
    assertThat(refusal(headers, BODY).reason()).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @Test
  void combinesRepeatedSignatureHeaders() {
    Map<String, List<String>> headers = signedNow();
    String valid = headers.get("webhook-signature").get(0);
    headers.put("webhook-signature", List.of("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", valid));

    assertThat(verifier.verify(headers, BODY).id()).isEqualTo(ID);
  }

  @Test
  void matchesHeaderNamesIgnoringCase() {
    Map<String, List<String>> headers = new TreeMap<>();
    signedNow().forEach((name, values) -> headers.put(name.toUpperCase(java.util.Locale.ROOT), values));

    assertThat(verifier.verify(headers, BODY).id()).isEqualTo(ID);
  }

  @Test
  void readsHeadersThroughALookupFunction() {
    Map<String, String> canonical = new HashMap<>();
    signer.headers(ID, clock.instant(), BODY).forEach((name, value) ->
        canonical.put(name.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + name.substring(1)
            .replace("-i", "-I").replace("-t", "-T").replace("-s", "-S"), value));
    Function<String, String> caseSensitiveLookup = canonical::get;

    assertThat(verifier.verify(caseSensitiveLookup, BODY).id()).isEqualTo(ID);
  }

  @Test
  void refusesAValidlySignedBodyThatIsNotJson() {
    byte[] notJson = "not json".getBytes(StandardCharsets.UTF_8);

    assertThat(refusal(signed(ID, clock.instant(), notJson), notJson).reason()).isEqualTo(Reason.MALFORMED_BODY);
  }

  static Stream<String> signedBodiesThatAreNotExactlyOneObject() {
    String second = BODY_TEXT.replace("req-42", "req-43");
    String open = BODY_TEXT.substring(0, BODY_TEXT.length() - 1);
    return Stream.of(
        BODY_TEXT + " " + second, BODY_TEXT + second, BODY_TEXT + "\n" + second, BODY_TEXT + "x", BODY_TEXT + "]",
        BODY_TEXT + "null", BODY_TEXT + " //", BODY_TEXT + "\u0000",
        open + ",\"type\":\"chat.failed\"}",
        BODY_TEXT.replace("\"request_id\":\"req-42\",", "\"request_id\":\"req-42\",\"request_id\":\"req-43\","),
        BODY_TEXT.replace("\"prompt_tokens\":1,", "\"prompt_tokens\":1,\"prompt_tokens\":1000000,"),
        "\uFEFF" + BODY_TEXT, "null", "\"text\"", "42", "", " ");
  }

  @ParameterizedTest
  @MethodSource("signedBodiesThatAreNotExactlyOneObject")
  void refusesAValidlySignedBodyThatIsNotExactlyOneJsonObject(String text) {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);

    assertThat(refusal(signed(ID, clock.instant(), body), body).reason()).isEqualTo(Reason.MALFORMED_BODY);
  }

  @Test
  void refusesAValidlySignedBodyThatIsNotUtf8() {
    byte[] body = "{\"type\":\"chat.completed\",\"x\":\"\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);

    assertThat(refusal(signed(ID, clock.instant(), body), body).reason()).isEqualTo(Reason.MALFORMED_BODY);
  }

  @Test
  void acceptsABodyFollowedByWhitespace() {
    byte[] body = (BODY_TEXT + "\r\n").getBytes(StandardCharsets.UTF_8);

    assertThat(verifier.verify(signed(ID, clock.instant(), body), body).completion().requestId()).isEqualTo("req-42");
  }

  @Test
  void refusalsNameTheRuleButNoHeaderValueOrPartOfTheBody() {
    long stale = clock.instant().getEpochSecond() - 1_234;
    long future = clock.instant().getEpochSecond() + 4_321;
    Map<String, List<String>> forged = signedNow();
    forged.put("webhook-signature", List.of("v1,AAAA v1,BBBB v1,CCCC"));
    byte[] duplicated = BODY_TEXT.replace("\"status\":\"completed\",", "\"status\":\"completed\",\"status\":\"oops\",")
        .getBytes(StandardCharsets.UTF_8);

    assertThat(refusal(signed(ID, Instant.ofEpochSecond(stale), BODY), BODY).getMessage())
        .doesNotContain(Long.toString(stale), "1234", "1 234");
    assertThat(refusal(signed(ID, Instant.ofEpochSecond(future), BODY), BODY).getMessage())
        .doesNotContain(Long.toString(future), "4321", "4 321");
    assertThat(refusal(forged, BODY).getMessage()).doesNotContain("AAAA", "3 tried", ID);
    assertThat(refusal(signedRaw("msg 1", now(), BODY), BODY).getMessage()).doesNotContain("msg 1");
    assertThat(refusal(signedRaw(ID, "17a9", BODY), BODY).getMessage()).doesNotContain("17a9");
    assertThat(refusal(signed(ID, clock.instant(), duplicated), duplicated).getMessage())
        .doesNotContain("oops", "req-42", "status");
  }

  @Test
  void refusesAValidlySignedJsonArray() {
    byte[] array = "[]".getBytes(StandardCharsets.UTF_8);

    assertThat(refusal(signed(ID, clock.instant(), array), array).reason()).isEqualTo(Reason.MALFORMED_BODY);
  }

  @Test
  void refusesASecretShorterThan24BytesNamingTheRule() {
    String shortSecret = "whsec_" + Base64.getEncoder().encodeToString(new byte[16]);

    assertThatThrownBy(() -> WebhookSecret.parse(shortSecret))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 24 bytes")
        .hasMessageNotContaining(shortSecret.substring(6));
  }

  @Test
  void refusesASecretThatIsNotBase64WithoutEchoingIt() {
    String bad = "whsec_not*base64*at*all*but*long*enough*to*matter";

    assertThatThrownBy(() -> WebhookSecret.parse(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("base64")
        .hasMessageNotContaining("not*base64")
        .hasNoCause();
  }

  @Test
  void acceptsTheSecretWithoutItsPrefix() {
    WebhookVerifier unprefixed = WebhookVerifier.builder().secret(WebhookSecret.parse(SECRET_B64)).clock(clock).build();

    assertThat(unprefixed.verify(signedNow(), BODY).id()).isEqualTo(ID);
  }

  @Test
  void refusesToBuildWithoutASecret() {
    assertThatThrownBy(() -> WebhookVerifier.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("secret(");
  }

  @Test
  void neverShowsTheSecretInToString() {
    WebhookSecret secret = WebhookSecret.parse(WHSEC);

    assertThat(List.of(secret.toString(), signer.toString(), verifier.toString()))
        .allSatisfy(text -> assertThat(text).doesNotContain(SECRET_B64)
            .doesNotContain(new String(SECRET_BYTES, StandardCharsets.US_ASCII)));
  }
}
