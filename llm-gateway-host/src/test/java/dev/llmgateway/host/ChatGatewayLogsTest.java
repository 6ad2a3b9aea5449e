package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.UserContext;
import dev.llmgateway.testkit.LogCapture;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the gateway logs for its operators, and that no secret is in any log line. */
class ChatGatewayLogsTest {
  private static final UserContext USER = UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();
  private static final String SERVICE_TOKEN = "svc-token-never-logged-4f9a1c";
  private static final String SECRET_B64 =
      Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
  private static final String WHSEC = "whsec_" + SECRET_B64;
  private static final String CHAT = "{\"session_id\":\"s\",\"message_id\":\"m\",\"intent\":\"chat\",\"answer\":\"ok\","
      + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":10,\"total_tokens\":20}}";
  private static final byte[] UNKNOWN_REQUEST_WEBHOOK = ("{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"req-none\","
      + "\"session_id\":\"s\",\"message_id\":\"m\",\"user_id\":\"u1\",\"company_id\":\"c1\",\"status\":\"completed\","
      + "\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3},"
      + "\"completed_at\":\"2026-11-20T10:05:00Z\"}}").getBytes(StandardCharsets.UTF_8);

  private final MockWebServer service = new MockWebServer();
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private LlmGatewayClient client;
  private ChatGateway gateway;

  @BeforeEach
  void setUp() throws IOException {
    service.start();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken(SERVICE_TOKEN)
        .environment(n -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
    ledger.deposit("u1", 100);
    gateway = ChatGateway.builder().client(client).ledger(ledger)
        .webhooks(WebhookVerifier.builder().secret(WebhookSecret.parse(WHSEC)).build())
        .settlementListener(e -> {
          throw new IllegalStateException("listener broke");
        })
        .build();
  }

  @AfterEach
  void tearDown() {
    client.close();
    service.close();
  }

  @Test
  void operatorsSeeEachRefusalAndFailureButNoSecret() {
    String logged;
    try (LogCapture logs = new LogCapture()) {
      service.enqueue(new MockResponse.Builder().code(403).body("{\"detail\":\"Session belongs to another user\"}").build());
      assertThat(catchThrowable(() -> gateway.deleteSession(USER, "sess_8f14e45f"))).isInstanceOf(NotFoundException.class);

      service.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
      gateway.chat(USER, ChatRequest.of("hi")); // the settlement listener throws

      service.enqueue(new MockResponse.Builder().code(503).body("{\"detail\":\"overloaded\"}").build());
      assertThat(catchThrowable(() -> gateway.chat(USER, ChatRequest.of("hi"))))
          .isInstanceOf(ServiceUnavailableException.class);

      Map<String, String> headers = WebhookSigner.of(WebhookSecret.parse(WHSEC))
          .headers("msg_1", Instant.now(), UNKNOWN_REQUEST_WEBHOOK);
      assertThat(gateway.handleCompletionWebhook(headers::get, UNKNOWN_REQUEST_WEBHOOK))
          .isEqualTo(ChatGateway.WebhookOutcome.UNKNOWN_REQUEST);
      logged = logs.allText();
    }

    assertThat(logged)
        .contains("refused a session call with 403")
        .contains("Settlement listener threw")
        .contains("matches no open reservation");
    assertThat(logged).doesNotContain(SERVICE_TOKEN).doesNotContain(WHSEC).doesNotContain(SECRET_B64);
  }

  @Test
  void aWebhookRequestIdIsLoggedBoundedAndWithoutLineBreaksOrDirectionOverrides() {
    String hostile = "req\u2028FORGED LINE\u202Ereversed\r\nanother" + "x".repeat(5_000);
    byte[] body = new String(UNKNOWN_REQUEST_WEBHOOK, StandardCharsets.UTF_8)
        .replace("req-none", hostile.replace("\r", "\\r").replace("\n", "\\n")).getBytes(StandardCharsets.UTF_8);
    String message;
    try (LogCapture logs = new LogCapture()) {
      Map<String, String> headers = WebhookSigner.of(WebhookSecret.parse(WHSEC)).headers("msg_2", Instant.now(), body);
      assertThat(gateway.handleCompletionWebhook(headers::get, body)).isEqualTo(ChatGateway.WebhookOutcome.UNKNOWN_REQUEST);
      message = logs.events().stream().map(e -> e.getFormattedMessage())
          .filter(m -> m.contains("matches no open reservation")).findFirst().orElseThrow();
    }

    assertThat(message).hasSizeLessThan(300).doesNotContain("\u2028", "\u202E", "\r", "\n").contains("FORGED LINE");
  }
}
