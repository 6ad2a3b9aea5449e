package dev.llmgateway.compat;

import static dev.llmgateway.compat.Wire.CHAT;
import static dev.llmgateway.compat.Wire.USER;
import static dev.llmgateway.compat.Wire.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.ApiException;
import dev.llmgateway.AuditSink;
import dev.llmgateway.BadRequestException;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.Session;
import dev.llmgateway.SessionMessage;
import dev.llmgateway.SessionPage;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.Usage;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client's calls end to end over OkHttp 5.0.0 to a MockWebServer 5.0.0, read with Jackson 2.15.0. */
class ClientCompatTest {
  private final MockWebServer server = new MockWebServer();
  private final List<Duration> sleeps = Wire.sleeps();
  private LlmGatewayClient client;

  @BeforeEach
  void start() throws IOException {
    server.start();
    client = Wire.client(server, sleeps).auditSink(AuditSink.none()).build();
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  @Test
  void syncChatSendsTheContractRequestAndReadsATypedAnswer() throws Exception {
    server.enqueue(json(200, CHAT));

    ChatResponse response = client.chat(ChatRequest.builder().query("Find Rails engineers")
        .putMetadata("source", "web").build(), USER);

    assertThat(response.answer()).isEqualTo("I found 1 candidate");
    assertThat(response.candidates()).singleElement().satisfies(c -> assertThat(c.score()).isEqualTo(0.92));
    assertThat(response.usage()).isEqualTo(new Usage(120, 48, 168));
    RecordedRequest recorded = server.takeRequest();
    assertThat(recorded.getUrl().encodedPath()).isEqualTo("/api/v1/llm-chat/recruiter/chat");
    assertThat(recorded.getHeaders().get("X-Service-Token")).isEqualTo(Wire.SERVICE_TOKEN);
    assertThat(recorded.getHeaders().get("X-Request-Id")).isEqualTo(response.requestId());
    assertThat(recorded.getBody().utf8())
        .isEqualTo("{\"query\":\"Find Rails engineers\",\"metadata\":{\"source\":\"web\"}}");
  }

  /** Json.extra walks the unknown fields with JsonNode.properties(), which Jackson 2.15 added. */
  @Test
  void unknownFieldsAreKeptInExtra() {
    server.enqueue(json(200, "{\"session_id\":\"s\",\"message_id\":\"m\",\"intent\":\"summarize\",\"answer\":\"ok\","
        + "\"confidence\":0.5,\"trace\":{\"spans\":[1,2]},\"candidates\":[{\"profile_id\":\"id_1\",\"badge\":\"new\"}]}"));

    ChatResponse response = client.chat(ChatRequest.of("hi"), USER);

    assertThat(response.rawIntent()).isEqualTo("summarize");
    assertThat(response.extra()).containsEntry("confidence", 0.5).containsEntry("trace", Map.of("spans", List.of(1, 2)));
    assertThat(response.candidates().get(0).extra()).containsEntry("badge", "new");
  }

  @Test
  void asyncChatCompletesOnOkHttpsDispatcher() throws Exception {
    server.enqueue(json(200, CHAT));

    ChatResponse response = client.chatAsync(ChatRequest.of("hi"), USER).get(10, TimeUnit.SECONDS);

    assertThat(response.sessionId()).isEqualTo("sess_1");
  }

  @Test
  void streamedChatIteratesTypedEventsAndEndsWithUsage() throws Exception {
    server.enqueue(Wire.eventStream(Wire.STREAM));
    List<String> types = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    Usage usage = null;

    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      for (StreamEvent event : stream) {
        types.add(event.type());
        if (event instanceof StreamEvent.Token token) {
          text.append(token.content());
        } else if (event instanceof StreamEvent.Done done) {
          usage = done.usage();
        }
      }
    }

    assertThat(types).containsExactly("session", "intent", "token", "token", "done");
    assertThat(text).hasToString("Hello world");
    assertThat(usage).isEqualTo(new Usage(5, 2, 7));
    assertThat(server.takeRequest().getHeaders().get("Accept")).isEqualTo("text/event-stream");
  }

  @Test
  void streamCompletionGathersTheAnswer() {
    server.enqueue(Wire.eventStream(Wire.STREAM));

    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      StreamCompletion done = stream.completion();
      assertThat(done.text()).isEqualTo("Hello world");
      assertThat(done.usage()).isEqualTo(new Usage(5, 2, 7));
    }
  }

  @Test
  void sessionsAreListedAndReadWithTheirDates() throws Exception {
    server.enqueue(json(200, "{\"sessions\":[{\"session_id\":\"sess_1\",\"title\":\"Rails\","
        + "\"created_at\":\"2026-11-20T10:00:00Z\",\"last_activity_at\":\"2026-11-20T10:05:00+00:00\","
        + "\"message_count\":2,\"pinned\":true}],\"next_cursor\":\"abc\"}"));
    server.enqueue(json(200, "{\"session_id\":\"sess_1\",\"title\":\"Rails\",\"created_at\":\"2026-11-20T10:00:00Z\","
        + "\"last_activity_at\":\"2026-11-20T10:05:00Z\",\"message_count\":1,\"messages\":[{\"message_id\":\"m1\","
        + "\"role\":\"user\",\"content\":\"hi\",\"created_at\":\"2026-11-20T10:00:00Z\"}]}"));
    server.enqueue(json(204, ""));

    SessionPage page = client.sessions().list(USER, 25, null);
    Session session = client.sessions().get("sess_1", USER);
    client.sessions().delete("sess_1", USER);

    assertThat(page.nextCursor()).isEqualTo("abc");
    assertThat(page.sessions()).singleElement().satisfies(s -> {
      assertThat(s.lastActivityAt()).isEqualTo(Instant.parse("2026-11-20T10:05:00Z"));
      assertThat(s.extra()).containsEntry("pinned", true);
    });
    assertThat(session.messages()).singleElement().satisfies(m -> assertThat(m.content()).isEqualTo("hi"));
    assertThat(server.takeRequest().getUrl().queryParameter("limit")).isEqualTo("25");
    assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/api/v1/llm-chat/recruiter/sessions/sess_1");
    assertThat(server.takeRequest().getMethod()).isEqualTo("DELETE");
  }

  /** The embedded sandbox answers through an OkHttp 5.0.0 interceptor: a session is kept, read back, deleted. */
  @Test
  void theSandboxKeepsASessionAcrossCalls() {
    try (LlmGatewayClient sandbox = LlmGatewayClient.builder().sandbox(true).environment(name -> null)
        .sleeper(sleeps::add).auditSink(AuditSink.none()).build()) {
      ChatResponse first = sandbox.chat(ChatRequest.of("Find Rails engineers"), USER);
      sandbox.chat(ChatRequest.builder().query("Tell me more").sessionId(first.sessionId()).build(), USER);

      assertThat(sandbox.sessions().get(first.sessionId(), USER).messages()).extracting(SessionMessage::role)
          .containsExactly("user", "assistant", "user", "assistant");
      sandbox.sessions().delete(first.sessionId(), USER);
      assertThat(sandbox.sessions().list(USER).sessions()).isEmpty();
    }
  }

  @Test
  void aFastApiValidationEnvelopeBecomesFieldErrors() {
    client.close();
    client = Wire.client(server, sleeps).auditSink(AuditSink.none()).retryPolicy(RetryPolicy.none()).build();
    server.enqueue(json(422, "{\"detail\":[{\"loc\":[\"body\",\"query\"],\"msg\":\"field required\","
        + "\"type\":\"value_error.missing\"}]}"));

    BadRequestException e = catchThrowableOfType(BadRequestException.class,
        () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.status()).isEqualTo(422);
    assertThat(e.fieldErrors()).containsExactly(
        new ApiException.FieldError(List.of("body", "query"), "field required", "value_error.missing"));
  }

  @Test
  void a503IsRetriedWithTheSameIdsThenGivesUpWithTheDetail() throws Exception {
    server.enqueue(json(503, "{\"detail\":\"overloaded\"}"));
    server.enqueue(json(200, CHAT));
    for (int i = 0; i < 3; i++) {
      server.enqueue(json(503, "{\"detail\":\"overloaded\"}"));
    }

    ChatResponse response = client.chat(ChatRequest.of("hi"), USER);
    ServiceUnavailableException e = catchThrowableOfType(ServiceUnavailableException.class,
        () -> client.chat(ChatRequest.of("hi"), USER));

    RecordedRequest first = server.takeRequest();
    RecordedRequest second = server.takeRequest();
    assertThat(second.getHeaders().get("X-Request-Id")).isEqualTo(first.getHeaders().get("X-Request-Id"))
        .isEqualTo(response.requestId());
    assertThat(second.getHeaders().get("Idempotency-Key")).isEqualTo(first.getHeaders().get("Idempotency-Key"));
    assertThat(e.detail()).isEqualTo("overloaded");
    assertThat(e.attempts()).isEqualTo(3);
    assertThat(sleeps).hasSize(3);
  }
}
