package dev.llmgateway;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;

/** Shared fixtures: users, canned responses, a client wired to a MockWebServer with fake time. */
final class TestSupport {
  static final String TOKEN = "svc-token-5f2b9c1e-SECRET";
  static final UserContext USER =
      UserContext.builder().userId("123").companyId("456").role("recruiter").companyRole("owner").build();

  static final String CHAT_JSON = "{\"session_id\":\"sess_8f14e45f\",\"message_id\":\"msg_01\","
      + "\"intent\":\"search\",\"answer\":\"I found 3 candidates\","
      + "\"candidates\":[{\"profile_id\":\"id_1a2b3c4d\",\"name\":\"Ada L.\",\"headline\":\"Senior Rails Engineer\",\"score\":0.92}],"
      + "\"actions\":[],\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":48,\"total_tokens\":168},"
      + "\"model\":\"recruiter-v3\"}";

  private TestSupport() {}

  static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
  }

  static MockResponse chatOk() {
    return json(200, CHAT_JSON);
  }

  /** No answer: the connection is closed as the request arrives (a reset before the response). */
  static MockResponse resetBeforeTheResponse() {
    return new MockResponse.Builder().onRequestStart(new SocketEffect.CloseSocket(true, false, false)).build();
  }

  /** The address of a server that has stopped: connections to it are refused. */
  static String refusingUrl() throws java.io.IOException {
    try (MockWebServer closed = new MockWebServer()) {
      closed.start();
      return closed.url("/").toString();
    }
  }

  /** A client for {@code server} with fake time, no jitter, recorded audit events. */
  static LlmGatewayClient.Builder client(MockWebServer server, FakeTime time) {
    return clientWithDefaultBreaker(server, time).circuitBreaker(CircuitBreaker.builder().ticker(time).build());
  }

  /** Like {@link #client} but with no breaker set: each build() makes a default one. */
  static LlmGatewayClient.Builder clientWithDefaultBreaker(MockWebServer server, FakeTime time) {
    return LlmGatewayClient.builder()
        .baseUrl(server.url("/").toString())
        .serviceToken(TOKEN)
        .environment(name -> null)
        .ticker(time)
        .sleeper(time)
        .retryPolicy(RetryPolicy.builder().jitter(0).build());
  }

  /** An audit sink that keeps every event. */
  static final class RecordingAudit implements AuditSink {
    final List<AuditEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void record(AuditEvent event) {
      events.add(event);
    }
  }
}
