package dev.llmgateway.compat;

import static dev.llmgateway.compat.Wire.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Operation;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.ServiceJwtAuth;
import dev.llmgateway.auth.ServiceJwtMinter;
import dev.llmgateway.auth.ServiceJwtVerifier;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.auth.StreamTokenVerifier;
import dev.llmgateway.auth.TokenVerificationException;
import dev.llmgateway.auth.VerifiedServiceToken;
import dev.llmgateway.auth.VerifiedStreamToken;
import dev.llmgateway.webhooks.CompletionWebhook;
import dev.llmgateway.webhooks.VerifiedWebhook;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerificationException;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;

/** Service JWTs and stream tokens (java-jwt 4.6.2 on Jackson 2.15.0) and Standard Webhooks signatures. */
class AuthCompatTest {
  private static final String SECRET = "compat-secret-0123456789abcdefghijklmnopqrstuvwxyz";
  private static final JwtKeySet KEYS = JwtKeySet.of("2026-11", SECRET);
  private static final Instant NOW = Instant.parse("2026-11-20T10:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  @Test
  void aClientSendsAServiceJwtThatTheVerifierAccepts() throws Exception {
    ServiceJwtMinter minter = ServiceJwtMinter.builder().keys(KEYS).clock(CLOCK).environment(name -> null).build();
    try (MockWebServer server = new MockWebServer();
        LlmGatewayClient client = LlmGatewayClient.builder().baseUrl(startedUrl(server)).auth(ServiceJwtAuth.of(minter))
            .environment(name -> null).auditSink(AuditSink.none()).build()) {
      server.enqueue(Wire.json(200, Wire.CHAT));

      client.chat(ChatRequest.of("hi"), USER);

      String authorization = server.takeRequest().getHeaders().get("Authorization");
      assertThat(authorization).startsWith("Bearer ");
      VerifiedServiceToken verified = ServiceJwtVerifier.builder().keys(KEYS).clock(CLOCK).build()
          .verify(authorization.substring("Bearer ".length()), Operation.CHAT);
      assertThat(verified.toUserContext()).isEqualTo(USER);
      assertThat(verified.expiresAt()).isEqualTo(NOW.plusSeconds(180));
    }
  }

  @Test
  void aServiceJwtSignedWithAnotherSecretIsRefused() {
    String token = ServiceJwtMinter.builder().keys(JwtKeySet.of("2026-11", "other-" + SECRET)).clock(CLOCK)
        .environment(name -> null).build().mint(USER, List.of("llm:chat:send")).token();

    TokenVerificationException e = catchThrowableOfType(TokenVerificationException.class,
        () -> ServiceJwtVerifier.builder().keys(KEYS).clock(CLOCK).build().verify(token));

    assertThat(e.reason()).isEqualTo(TokenVerificationException.Reason.BAD_SIGNATURE);
  }

  @Test
  void aStreamTokenCarriesTheRequestToItsVerifierOnce() {
    ChatRequest request = ChatRequest.builder().query("Find Rails engineers").sessionId("sess_1").build();
    StreamToken issued = StreamTokenIssuer.builder().keys(KEYS).serviceBaseUrl("https://llm.example").clock(CLOCK)
        .environment(name -> null).build().issue(request, USER, "req-1");
    StreamTokenVerifier verifier = StreamTokenVerifier.builder().keys(KEYS).clock(CLOCK).build();

    VerifiedStreamToken verified = verifier.verify(issued.token());
    TokenVerificationException replayed = catchThrowableOfType(TokenVerificationException.class,
        () -> verifier.verify(issued.token()));

    assertThat(verified.request()).isEqualTo(request);
    assertThat(verified.user()).isEqualTo(USER);
    assertThat(verified.requestId()).isEqualTo("req-1");
    assertThat(issued.url()).startsWith("https://llm.example/");
    assertThat(replayed.reason()).isEqualTo(TokenVerificationException.Reason.REPLAYED);
  }

  @Test
  void aSignedCompletionWebhookVerifiesAndParsesOnceThenIsADuplicate() {
    WebhookSecret secret = WebhookSecret.ofBytes("compat-webhook-secret-0123456789".getBytes(StandardCharsets.UTF_8));
    byte[] body = ("{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"req-1\",\"status\":\"completed\","
        + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3},\"cost\":{\"eur\":0.01}}}")
        .getBytes(StandardCharsets.UTF_8);
    Map<String, List<String>> headers = listValues(WebhookSigner.of(secret).headers("msg_1", NOW, body));
    WebhookVerifier verifier = WebhookVerifier.builder().secret(secret).clock(CLOCK).build();

    VerifiedWebhook first = verifier.verify(headers, body);
    VerifiedWebhook second = verifier.verify(headers, body);

    assertThat(first.isDuplicate()).isFalse();
    assertThat(first.completion().requestId()).isEqualTo("req-1");
    assertThat(first.completion().status()).isEqualTo(CompletionWebhook.Status.COMPLETED);
    assertThat(second.isDuplicate()).isTrue();
  }

  @Test
  void thePublishedStandardWebhooksVectorsSignAndVerify() throws IOException {
    JsonNode vectors;
    try (InputStream in = AuthCompatTest.class.getResourceAsStream("/standard-webhooks.json")) {
      vectors = new ObjectMapper().readTree(in).get("published").get("sign_vectors");
    }
    assertThat(vectors).hasSize(2);
    for (JsonNode vector : vectors) {
      WebhookSecret secret = WebhookSecret.parse(vector.get("secret").textValue());
      String id = vector.get("msg_id").textValue();
      long timestamp = vector.get("timestamp").longValue();
      byte[] payload = vector.get("payload").textValue().getBytes(StandardCharsets.UTF_8);
      String expected = vector.get("expected_signature").textValue();
      WebhookVerifier verifier = WebhookVerifier.builder().secret(secret)
          .clock(Clock.fixed(Instant.ofEpochSecond(timestamp), ZoneOffset.UTC)).build();

      assertThat(WebhookSigner.of(secret).sign(id, timestamp, payload)).isEqualTo(expected);
      assertThat(verifier.verify(Map.of("webhook-id", List.of(id), "webhook-timestamp", List.of(Long.toString(timestamp)),
          "webhook-signature", List.of(expected)), payload).id()).isEqualTo(id);
      assertThat(catchThrowableOfType(WebhookVerificationException.class, () -> verifier.verify(Map.of(
          "webhook-id", List.of(id), "webhook-timestamp", List.of(Long.toString(timestamp)),
          "webhook-signature", List.of(expected)), "{}".getBytes(StandardCharsets.UTF_8))).reason())
          .isEqualTo(WebhookVerificationException.Reason.BAD_SIGNATURE);
    }
  }

  private static String startedUrl(MockWebServer server) throws IOException {
    server.start();
    return server.url("/").toString();
  }

  private static Map<String, List<String>> listValues(Map<String, String> headers) {
    return Map.of("webhook-id", List.of(headers.get("webhook-id")),
        "webhook-timestamp", List.of(headers.get("webhook-timestamp")),
        "webhook-signature", List.of(headers.get("webhook-signature")));
  }
}
