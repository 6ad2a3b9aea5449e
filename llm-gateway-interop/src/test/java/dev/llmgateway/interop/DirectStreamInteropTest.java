package dev.llmgateway.interop;

import static dev.llmgateway.interop.Fixtures.ADA;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static dev.llmgateway.interop.Fixtures.withFault;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Usage;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import dev.llmgateway.webhooks.CompletionWebhook;
import dev.llmgateway.webhooks.VerifiedWebhook;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Direct browser streaming (CONTRACT sections 4 and 5): the host mints a stream token, the "browser"
 * (OkHttp plus the SDK's {@link SseReader}, since the client has no direct-URL method) opens it, and
 * the service reports the end of the stream to the host's webhook.
 */
@InteropTest
class DirectStreamInteropTest {
  private static final Duration WEBHOOK_WAIT = Duration.ofSeconds(10);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final ReferenceService service;
  private final OkHttpClient browser = new OkHttpClient.Builder().readTimeout(Duration.ofSeconds(10)).build();
  private StreamTokenIssuer issuer;
  private WebhookReceiver receiver;
  private WebhookVerifier verifier;

  DirectStreamInteropTest(ReferenceService service) {
    this.service = service;
  }

  @BeforeEach
  void setUp() throws IOException {
    issuer = StreamTokenIssuer.builder().keys(service.streamKeys()).serviceBaseUrl(service.baseUrl()).build();
    receiver = WebhookReceiver.start();
    verifier = WebhookVerifier.builder().secret(WebhookSecret.parse(service.webhookSecret())).build();
  }

  @AfterEach
  void tearDown() {
    receiver.close();
    browser.dispatcher().executorService().shutdown();
    browser.connectionPool().evictAll();
  }

  /** What a browser's EventSource saw. */
  record Opened(int status, String requestId, List<String> data, String body) {
    List<JsonNode> events() throws IOException {
      List<JsonNode> events = new ArrayList<>();
      for (String d : data) {
        if (!d.equals("[DONE]")) {
          events.add(MAPPER.readTree(d));
        }
      }
      return events;
    }

    String text() throws IOException {
      StringBuilder text = new StringBuilder();
      for (JsonNode e : events()) {
        if (e.path("type").asText().equals("token")) {
          text.append(e.path("content").asText());
        }
      }
      return text.toString();
    }

    JsonNode event(String type) throws IOException {
      return events().stream().filter(e -> e.path("type").asText().equals(type)).findFirst().orElseThrow();
    }
  }

  private Opened open(StreamToken token) throws IOException {
    Request request = new Request.Builder().url(token.url()).header("Accept", "text/event-stream").build();
    try (Response response = browser.newCall(request).execute()) {
      String requestId = response.header("X-Request-Id");
      if (response.code() != 200) {
        return new Opened(response.code(), requestId, List.of(), response.body().string());
      }
      List<String> data = new ArrayList<>();
      try (SseReader reader = SseReader.create(response.body().source())) {
        for (ServerSentEvent event; (event = reader.next()) != null; ) {
          data.add(event.data());
        }
      }
      return new Opened(200, requestId, data, "");
    }
  }

  private String syncAnswer(String query) {
    try (LlmGatewayClient client = service.client()) {
      return client.chat(ChatRequest.of(query), ADA).answer();
    }
  }

  private CompletionWebhook nextVerifiedWebhook() throws InterruptedException {
    WebhookReceiver.Delivery delivery = receiver.next(WEBHOOK_WAIT);
    return verifier.verify(delivery.headers(), delivery.body()).completion();
  }

  @Test
  void aStreamTokenStreamsTheSameAnswerAsAChat() throws Exception {
    String expected = syncAnswer(SEARCH_QUERY);
    StreamToken token = issuer.issue(ChatRequest.of(SEARCH_QUERY), ADA);

    Opened opened = open(token);

    assertThat(opened.status()).isEqualTo(200);
    assertThat(opened.requestId()).isEqualTo(token.requestId());
    assertThat(opened.data()).last().isEqualTo("[DONE]");
    assertThat(opened.text()).isEqualTo(expected);
  }

  @Test
  void aStreamTokenWorksOnlyOnce() throws Exception {
    StreamToken token = issuer.issue(ChatRequest.of(SEARCH_QUERY), ADA);
    assertThat(open(token).status()).isEqualTo(200);

    Opened reused = open(token);

    assertThat(reused.status()).isEqualTo(401);
    assertThat(MAPPER.readTree(reused.body()).path("detail").asText()).contains("already used");
    assertThat(service.stats().generationsForRequestId(token.requestId())).isEqualTo(1);
  }

  @Test
  void theCompletionWebhookVerifiesAndDescribesTheStream() throws Exception {
    service.webhookUrl(receiver.url());
    StreamToken token = issuer.issue(ChatRequest.of(SEARCH_QUERY), ADA);
    Opened opened = open(token);

    WebhookReceiver.Delivery delivery = receiver.next(WEBHOOK_WAIT);
    VerifiedWebhook webhook = verifier.verify(delivery.headers(), delivery.body());

    CompletionWebhook completion = webhook.completion();
    JsonNode done = opened.event("done").path("usage");
    assertThat(webhook.isDuplicate()).isFalse();
    assertThat(completion.type()).isEqualTo("chat.completed");
    assertThat(completion.requestId()).isEqualTo(token.requestId());
    assertThat(completion.status()).isEqualTo(CompletionWebhook.Status.COMPLETED);
    assertThat(completion.finishReason()).isEqualTo("stop");
    assertThat(completion.userId()).isEqualTo(ADA.userId());
    assertThat(completion.companyId()).isEqualTo(ADA.companyId());
    assertThat(completion.sessionId()).isEqualTo(opened.event("session").path("session_id").asText());
    assertThat(completion.messageId()).isEqualTo(opened.event("session").path("message_id").asText());
    assertThat(completion.usage()).isEqualTo(new Usage(done.path("prompt_tokens").asLong(),
        done.path("completion_tokens").asLong(), done.path("total_tokens").asLong()));
    assertThat(completion.completedAt()).isNotNull();
  }

  @Test
  void aWebhookAnsweredWithAnErrorIsRedeliveredUnderTheSameId() throws Exception {
    service.webhookUrl(receiver.url());
    receiver.answer(500);
    open(issuer.issue(ChatRequest.of(SEARCH_QUERY), ADA));

    WebhookReceiver.Delivery first = receiver.next(WEBHOOK_WAIT);
    WebhookReceiver.Delivery second = receiver.next(WEBHOOK_WAIT);

    assertThat(second.header("webhook-id")).isEqualTo(first.header("webhook-id"));
    assertThat(second.body()).isEqualTo(first.body());
    assertThat(verifier.verify(first.headers(), first.body()).isDuplicate()).isFalse();
    assertThat(verifier.verify(second.headers(), second.body()).isDuplicate()).isTrue();
  }

  @Test
  void aStreamThatFailsMidWayIsReportedAsFailed() throws Exception {
    service.webhookUrl(receiver.url());
    StreamToken token = issuer.issue(ChatRequest.of(withFault(SEARCH_QUERY, "error_after=2")), ADA);
    Opened opened = open(token);

    CompletionWebhook completion = nextVerifiedWebhook();

    assertThat(opened.event("error").path("code").asText()).isEqualTo("model_overloaded");
    assertThat(completion.requestId()).isEqualTo(token.requestId());
    assertThat(completion.status()).isEqualTo(CompletionWebhook.Status.FAILED);
  }

  @Test
  void aBrowserThatGoesAwayIsReportedAsCancelled() throws Exception {
    service.webhookUrl(receiver.url());
    StreamToken token = issuer.issue(ChatRequest.of(withFault(SEARCH_QUERY, "stall_after=2")), ADA);
    Call call = browser.newCall(new Request.Builder().url(token.url()).build());
    try (Response response = call.execute(); SseReader reader = SseReader.create(response.body().source())) {
      for (int i = 0; i < 4; i++) { // session, intent, two tokens; then the service stalls
        assertThat(reader.next()).isNotNull();
      }
      call.cancel();
    }

    CompletionWebhook completion = nextVerifiedWebhook();

    assertThat(completion.requestId()).isEqualTo(token.requestId());
    assertThat(completion.status()).isEqualTo(CompletionWebhook.Status.CANCELLED);
    assertThat(completion.usage()).isNotNull();
    assertThat(completion.usage().completionTokens()).isEqualTo(2);
  }
}
