package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.auth.StreamTokenVerifier;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The keys a demo gateway shares with a real service, read from the environment. */
class DemoGatewayTest {
  private static final String STREAM_SECRET = "stream-token-secret-shared-with-the-service-0123";
  private static final byte[] WEBHOOK_BYTES = "webhook-secret-shared-with-the-service".getBytes(StandardCharsets.UTF_8);
  private static final String WHSEC = "whsec_" + Base64.getEncoder().encodeToString(WEBHOOK_BYTES);

  @Test
  void streamTokensAreSignedWithTheFirstConfiguredKey() {
    Map<String, String> env = Map.of(DemoGateway.ENV_STREAM_TOKEN_KEYS,
        "{\"2026-11\": \"" + STREAM_SECRET + "\", \"2026-10\": \"an-older-secret-the-service-still-accepts-0123\"}");
    JwtKeySet keys = DemoGateway.streamKeys(env::get);

    String token = StreamTokenIssuer.builder().keys(keys).serviceBaseUrl("https://llm.internal.example")
        .environment(name -> null).build().issue(ChatRequest.of("hi"), GatewayExample.DEMO_USER).token();

    assertThat(keys.activeKeyId()).isEqualTo("2026-11");
    assertThat(StreamTokenVerifier.builder().keys(JwtKeySet.of("2026-11", STREAM_SECRET)).build().verify(token)
        .requestId()).isNotBlank();
  }

  @Test
  void unsetKeysAreLeftToTheBuilder() {
    assertThat(DemoGateway.streamKeys(name -> null)).isNull();
    assertThat(DemoGateway.webhookSecret(name -> null)).isNull();
  }

  @Test
  void malformedStreamKeysAreRefusedWithoutEchoingThem() {
    for (String malformed : new String[] {"{\"k\": " + STREAM_SECRET, "{}", "[\"" + STREAM_SECRET + "\"]",
        "{\"\": \"" + STREAM_SECRET + "\"}"}) {
      assertThatThrownBy(() -> DemoGateway.streamKeys(Map.of(DemoGateway.ENV_STREAM_TOKEN_KEYS, malformed)::get))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(DemoGateway.ENV_STREAM_TOKEN_KEYS)
          .hasMessageNotContaining(STREAM_SECRET);
    }
  }

  @Test
  void theWebhookSecretIsTheConfiguredOne() {
    Map<String, String> env = Map.of(DemoGateway.ENV_WEBHOOK_SECRET, WHSEC);
    byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
    String expected = WebhookSigner.of(WebhookSecret.ofBytes(WEBHOOK_BYTES)).sign("msg_1", 1, body);

    assertThat(WebhookSigner.of(DemoGateway.webhookSecret(env::get)).sign("msg_1", 1, body)).isEqualTo(expected);
  }

  @Test
  void aMalformedWebhookSecretIsRefusedWithoutEchoingIt() {
    String malformed = "whsec_not base64 " + STREAM_SECRET;
    assertThatThrownBy(() -> DemoGateway.webhookSecret(Map.of(DemoGateway.ENV_WEBHOOK_SECRET, malformed)::get))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(DemoGateway.ENV_WEBHOOK_SECRET)
        .hasMessageNotContaining(STREAM_SECRET);
  }
}
