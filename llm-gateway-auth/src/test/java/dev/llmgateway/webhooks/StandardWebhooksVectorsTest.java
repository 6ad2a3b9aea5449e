package dev.llmgateway.webhooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.webhooks.WebhookVerificationException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every value of the published Standard Webhooks vectors (src/test/resources/standard-webhooks.json). */
class StandardWebhooksVectorsTest {
  private static final JsonNode PUBLISHED = load().get("published");
  private static final JsonNode FIRST = PUBLISHED.get("sign_vectors").get(0);
  private static final JsonNode DECOYS = PUBLISHED.get("invalid_signature_entries");

  private static JsonNode load() {
    try (InputStream in = StandardWebhooksVectorsTest.class.getResourceAsStream("/standard-webhooks.json")) {
      return new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static Stream<JsonNode> signVectors() {
    List<JsonNode> vectors = new ArrayList<>();
    PUBLISHED.get("sign_vectors").forEach(vectors::add);
    assertThat(vectors).hasSize(2);
    return vectors.stream();
  }

  static Stream<String> v1Decoys() {
    List<String> decoys = new ArrayList<>(List.of(
        DECOYS.get("decoy_v1").textValue(),
        DECOYS.get("garbage_value").textValue(),
        DECOYS.get("garbage_value_js_php").textValue(),
        DECOYS.get("rust_no_verify").textValue()));
    DECOYS.get("rust_multi_decoys").forEach(decoy -> decoys.add(decoy.textValue()));
    return decoys.stream();
  }

  private static byte[] payload(JsonNode vector) {
    return vector.get("payload").textValue().getBytes(StandardCharsets.UTF_8);
  }

  private static WebhookSecret secret(JsonNode vector) {
    return WebhookSecret.parse(vector.get("secret").textValue());
  }

  private static VerifiedWebhook verify(JsonNode vector, String signatureHeader) {
    long timestamp = vector.get("timestamp").longValue();
    WebhookVerifier verifier = WebhookVerifier.builder().secret(secret(vector))
        .clock(new MutableClock(Instant.ofEpochSecond(timestamp))).build();
    return verifier.verify(Map.of(
        "webhook-id", List.of(vector.get("msg_id").textValue()),
        "webhook-timestamp", List.of(Long.toString(timestamp)),
        "webhook-signature", List.of(signatureHeader)), payload(vector));
  }

  private static Reason refusal(JsonNode vector, String signatureHeader) {
    try {
      verify(vector, signatureHeader);
    } catch (WebhookVerificationException e) {
      assertThat(e.getMessage()).doesNotContain(vector.get("secret").textValue().substring("whsec_".length()));
      return e.reason();
    }
    throw new AssertionError("verification should have failed for " + signatureHeader);
  }

  @ParameterizedTest
  @MethodSource("signVectors")
  void signsEachPublishedVectorByteForByte(JsonNode vector) {
    String signature = WebhookSigner.of(secret(vector))
        .sign(vector.get("msg_id").textValue(), vector.get("timestamp").longValue(), payload(vector));

    assertThat(signature.getBytes(StandardCharsets.US_ASCII))
        .isEqualTo(vector.get("expected_signature").textValue().getBytes(StandardCharsets.US_ASCII));
  }

  @ParameterizedTest
  @MethodSource("signVectors")
  void signsEachVectorAlikeFromTheRawSecretBytes(JsonNode vector) {
    byte[] raw = Base64.getDecoder().decode(vector.get("secret").textValue().substring("whsec_".length()));

    String signature = WebhookSigner.of(WebhookSecret.ofBytes(raw))
        .sign(vector.get("msg_id").textValue(), vector.get("timestamp").longValue(), payload(vector));

    assertThat(signature).isEqualTo(vector.get("expected_signature").textValue());
  }

  @ParameterizedTest
  @MethodSource("signVectors")
  void verifiesEachPublishedVector(JsonNode vector) {
    VerifiedWebhook webhook = verify(vector, vector.get("expected_signature").textValue());

    assertThat(webhook.id()).isEqualTo(vector.get("msg_id").textValue());
    assertThat(webhook.isDuplicate()).isFalse();
  }

  @ParameterizedTest
  @MethodSource("v1Decoys")
  void refusesEachPublishedV1Decoy(String decoy) {
    assertThat(refusal(FIRST, decoy)).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesTheV2Decoy() {
    assertThat(refusal(FIRST, DECOYS.get("decoy_v2").textValue())).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesTheValidSignatureUnderAnotherVersion() {
    assertThat(refusal(FIRST, DECOYS.get("wrong_version_of_valid_sig").textValue()))
        .isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesAnEntryWithoutSeparatorAsMalformed() {
    assertThat(refusal(FIRST, DECOYS.get("no_separator").textValue())).isEqualTo(Reason.MALFORMED_HEADER);
  }

  @Test
  void refusesAllRustDecoysTogether() {
    List<String> decoys = new ArrayList<>();
    DECOYS.get("rust_multi_decoys").forEach(decoy -> decoys.add(decoy.textValue()));

    assertThat(refusal(FIRST, String.join(" ", decoys))).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @ParameterizedTest
  @MethodSource("signVectors")
  void acceptsTheMultiSignaturePatternWithTheValidEntryThird(JsonNode vector) {
    List<String> entries = new ArrayList<>();
    PUBLISHED.get("multi_signature_pattern").get("entries").forEach(entry -> entries.add(
        entry.textValue().equals("<the valid v1 signature>")
            ? vector.get("expected_signature").textValue()
            : entry.textValue()));

    assertThat(entries).hasSize(4);
    assertThat(verify(vector, String.join(" ", entries)).id()).isEqualTo(vector.get("msg_id").textValue());
  }

  @Test
  void ignoresAnAsymmetricV1aEntryBesideAValidV1() {
    String v1a = PUBLISHED.get("spec_format_example_unverifiable").get("webhook-signature").textValue().split(" ")[1];

    assertThat(v1a).startsWith("v1a,");
    assertThat(verify(FIRST, v1a + " " + FIRST.get("expected_signature").textValue()).isDuplicate()).isFalse();
  }

  @Test
  void readsTheSpecExampleHeaderAsWellFormedButUnverifiableWithoutItsSecret() {
    String header = PUBLISHED.get("spec_format_example_unverifiable").get("webhook-signature").textValue();

    assertThat(refusal(FIRST, header)).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesAVectorSignatureOverABodyWithOneMoreSpace() {
    WebhookVerifier verifier = WebhookVerifier.builder().secret(secret(FIRST))
        .clock(new MutableClock(Instant.ofEpochSecond(FIRST.get("timestamp").longValue()))).build();
    byte[] changed = (FIRST.get("payload").textValue() + " ").getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> verifier.verify(Map.of(
            "webhook-id", List.of(FIRST.get("msg_id").textValue()),
            "webhook-timestamp", List.of(FIRST.get("timestamp").asText()),
            "webhook-signature", List.of(FIRST.get("expected_signature").textValue())), changed))
        .isInstanceOfSatisfying(WebhookVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE));
  }
}
