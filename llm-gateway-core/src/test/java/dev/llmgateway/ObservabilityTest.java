package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ObservabilityTest extends MockServerTest {
  private final List<String> events = new CopyOnWriteArrayList<>();

  private final GatewayListener recorder = new GatewayListener() {
    @Override
    public void callStart(CallInfo call) {
      events.add("callStart " + call.operation());
    }

    @Override
    public void attemptStart(CallInfo call, int attempt) {
      events.add("attemptStart " + attempt);
    }

    @Override
    public void attemptEnd(CallInfo call, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {
      events.add("attemptEnd " + attempt + " " + status + (failure == null ? "" : " " + failure.getClass().getSimpleName()));
    }

    @Override
    public void retryScheduled(CallInfo call, int nextAttempt, Duration delay, LlmGatewayException failure) {
      events.add("retry " + nextAttempt + " after " + delay.toMillis());
    }

    @Override
    public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
      events.add("callEnd" + (failure == null ? "" : " " + failure.getClass().getSimpleName()));
    }
  };

  @Override
  LlmGatewayClient.Builder configure(LlmGatewayClient.Builder builder) {
    return builder.listener(recorder);
  }

  @Test
  void listenerSeesEveryAttemptAndRetryInOrder() {
    server.enqueue(json(503, "{}"));
    server.enqueue(chatOk());
    client.chat(ChatRequest.of("hi"), USER);

    assertThat(events).containsExactly(
        "callStart CHAT",
        "attemptStart 1", "attemptEnd 1 503 ServiceUnavailableException", "retry 2 after 500",
        "attemptStart 2", "attemptEnd 2 200",
        "callEnd");
  }

  @Test
  void oneAuditEventPerLogicalCallWithUsageAndAttempts() {
    server.enqueue(json(503, "{}"));
    server.enqueue(chatOk());
    ChatResponse response = client.chat(ChatRequest.of("Find Rails engineers"), USER);

    assertThat(audit.events).singleElement().satisfies(e -> {
      assertThat(e.requestId()).isEqualTo(response.requestId());
      assertThat(e.action()).isEqualTo(Operation.CHAT);
      assertThat(e.userId()).isEqualTo("123");
      assertThat(e.companyId()).isEqualTo("456");
      assertThat(e.queryPreview()).isEqualTo("Find Rails engineers");
      assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
      assertThat(e.status()).isEqualTo(200);
      assertThat(e.attempts()).isEqualTo(2);
      assertThat(e.usage()).isEqualTo(new Usage(120, 48, 168));
      assertThat(e.latency()).isEqualTo(Duration.ofMillis(500));
      assertThat(e.errorType()).isNull();
    });
  }

  @Test
  void streamedChatIsObservedFromItsStartLikeAnyCall() {
    server.enqueue(ChatStreamTest.sse(ChatStreamTest.FULL));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      stream.completion();
    }

    assertThat(events).containsExactly("callStart CHAT_STREAM", "attemptStart 1", "attemptEnd 1 200", "callEnd");
    assertThat(audit.events).singleElement().satisfies(e -> assertThat(e.latency()).isZero());
  }

  @Test
  void asyncChatIsObservedFromItsStartLikeAnyCall() throws Exception {
    server.enqueue(chatOk());
    client.chatAsync(ChatRequest.of("hi"), USER).get(10, TimeUnit.SECONDS);

    assertThat(events).containsExactly("callStart CHAT", "attemptStart 1", "attemptEnd 1 200", "callEnd");
    assertThat(audit.events).singleElement().satisfies(e -> assertThat(e.latency()).isZero());
  }

  @Test
  void failedCallIsAuditedAsFailure() {
    server.enqueue(json(404, "{\"detail\":\"Session not found\"}"));
    catchThrowable(() -> client.sessions().get("sess_1", USER));

    assertThat(audit.events).singleElement().satisfies(e -> {
      assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.FAILURE);
      assertThat(e.action()).isEqualTo(Operation.GET_SESSION);
      assertThat(e.status()).isEqualTo(404);
      assertThat(e.errorType()).isEqualTo("NotFoundException");
      assertThat(e.queryPreview()).isEmpty();
    });
  }

  @Test
  void throwingListenerAndAuditSinkDoNotBreakTheCall() {
    client.close();
    GatewayListener throwing = new GatewayListener() {
      @Override
      public void callStart(CallInfo call) {
        throw new IllegalStateException("listener bug");
      }

      @Override
      public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
        throw new IllegalStateException("listener bug");
      }
    };
    client = TestSupport.client(server, time).listener(GatewayListener.composite(throwing, recorder))
        .auditSink(event -> {
          throw new IllegalStateException("sink bug");
        }).build();
    server.enqueue(chatOk());

    assertThat(client.chat(ChatRequest.of("hi"), USER).answer()).isNotEmpty();
    assertThat(events).contains("callStart CHAT", "callEnd");
  }
}
