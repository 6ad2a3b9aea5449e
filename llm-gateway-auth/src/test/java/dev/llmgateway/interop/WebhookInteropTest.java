package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.webhooks.CompletionWebhook;
import dev.llmgateway.webhooks.VerifiedWebhook;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Standard Webhooks signatures between this module and a Python reference built from the spec. */
@Tag("interop")
class WebhookInteropTest {
  private static final String WHSEC = "whsec_" + Base64.getEncoder()
      .encodeToString("interop-webhook-secret-0123456789".getBytes(StandardCharsets.US_ASCII));
  private static final long TIMESTAMP = 1_795_169_101L;
  private static final String ID = "msg_2LhQ8xzH2yE0kqB1interop";
  private static final byte[] BODY = ("{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"req-42\","
      + "\"user_id\":\"123\",\"company_id\":\"456\",\"status\":\"cancelled\",\"note\":\"Köln ✓\"}}")
      .getBytes(StandardCharsets.UTF_8);

  private static String b64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  private static JsonNode pythonVerify(Map<String, String> headers, byte[] body) throws Exception {
    return Python.run("verify-webhook", Map.of("secret", WHSEC, "headers", headers, "body_b64", b64(body),
        "now", TIMESTAMP, "tolerance", 300));
  }

  @Test
  void javaVerifiesAWebhookSignedInPython() throws Exception {
    String signature = Python.run("sign-webhook",
        Map.of("secret", WHSEC, "msg_id", ID, "timestamp", TIMESTAMP, "body_b64", b64(BODY)))
        .get("signature").textValue();
    WebhookVerifier verifier = WebhookVerifier.builder().secret(WebhookSecret.parse(WHSEC))
        .clock(new MutableClock(Instant.ofEpochSecond(TIMESTAMP))).build();

    VerifiedWebhook webhook = verifier.verify(Map.of(
        "webhook-id", List.of(ID),
        "webhook-timestamp", List.of(Long.toString(TIMESTAMP)),
        "webhook-signature", List.of(signature)), BODY);

    assertThat(webhook.completion().status()).isEqualTo(CompletionWebhook.Status.CANCELLED);
    assertThat(webhook.completion().requestId()).isEqualTo("req-42");
  }

  @Test
  void pythonVerifiesAWebhookSignedInJava() throws Exception {
    Map<String, String> headers = WebhookSigner.of(WebhookSecret.parse(WHSEC))
        .headers(ID, Instant.ofEpochSecond(TIMESTAMP), BODY);

    assertThat(pythonVerify(headers, BODY).get("valid").booleanValue()).isTrue();
  }

  @Test
  void pythonRefusesAJavaSignatureOverAnAlteredBody() throws Exception {
    Map<String, String> headers = WebhookSigner.of(WebhookSecret.parse(WHSEC))
        .headers(ID, Instant.ofEpochSecond(TIMESTAMP), BODY);
    byte[] altered = new String(BODY, StandardCharsets.UTF_8).replace("cancelled", "completed")
        .getBytes(StandardCharsets.UTF_8);

    JsonNode out = pythonVerify(headers, altered);

    assertThat(out.get("valid").booleanValue()).isFalse();
    assertThat(out.get("reason").textValue()).isEqualTo("signature");
  }

  @Test
  void pythonReferenceReproducesBothPublishedVectors() throws Exception {
    JsonNode vectors;
    try (InputStream in = getClass().getResourceAsStream("/standard-webhooks.json")) {
      vectors = new ObjectMapper().readTree(in).get("published").get("sign_vectors");
    }
    assertThat(vectors).hasSize(2);
    for (JsonNode vector : vectors) {
      String signature = Python.run("sign-webhook", Map.of(
          "secret", vector.get("secret").textValue(),
          "msg_id", vector.get("msg_id").textValue(),
          "timestamp", vector.get("timestamp").longValue(),
          "body_b64", b64(vector.get("payload").textValue().getBytes(StandardCharsets.UTF_8))))
          .get("signature").textValue();

      assertThat(signature).isEqualTo(vector.get("expected_signature").textValue());
    }
  }
}
