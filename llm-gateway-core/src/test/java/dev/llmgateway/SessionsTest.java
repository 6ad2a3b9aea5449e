package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Instant;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SessionsTest extends MockServerTest {


  @Test
  void listSendsLimitAndCursorAndReadsThePage() throws Exception {
    server.enqueue(json(200, "{\"sessions\":[{\"session_id\":\"sess_8f14e45f\",\"title\":\"Rails engineers Berlin\","
        + "\"created_at\":\"2026-11-20T10:00:00Z\",\"last_activity_at\":\"2026-11-20T10:05:00+00:00\","
        + "\"message_count\":4,\"pinned\":true}],\"next_cursor\":\"abc\"}"));

    SessionPage page = client.sessions().list(USER, 25, "c/1=");

    RecordedRequest recorded = server.takeRequest();
    assertThat(recorded.getMethod()).isEqualTo("GET");
    assertThat(recorded.getUrl().encodedPath()).isEqualTo("/api/v1/llm-chat/recruiter/sessions");
    assertThat(recorded.getUrl().queryParameter("limit")).isEqualTo("25");
    assertThat(recorded.getUrl().queryParameter("cursor")).isEqualTo("c/1=");
    assertThat(recorded.getHeaders().get("Idempotency-Key")).isNull();
    assertThat(recorded.getHeaders().get("X-Service-Token")).isEqualTo(TestSupport.TOKEN);
    assertThat(page.nextCursor()).isEqualTo("abc");
    assertThat(page.hasNext()).isTrue();
    SessionSummary s = page.sessions().get(0);
    assertThat(s.sessionId()).isEqualTo("sess_8f14e45f");
    assertThat(s.title()).isEqualTo("Rails engineers Berlin");
    assertThat(s.createdAt()).isEqualTo(Instant.parse("2026-11-20T10:00:00Z"));
    assertThat(s.lastActivityAt()).isEqualTo(Instant.parse("2026-11-20T10:05:00Z"));
    assertThat(s.messageCount()).isEqualTo(4);
    assertThat(s.extra()).containsEntry("pinned", true);
  }

  @Test
  void listWithDefaultsAsksForTenAndNoCursor() throws Exception {
    server.enqueue(json(200, "{\"sessions\":[],\"next_cursor\":null}"));
    SessionPage page = client.sessions().list(USER);

    RecordedRequest recorded = server.takeRequest();
    assertThat(recorded.getUrl().queryParameter("limit")).isEqualTo("10");
    assertThat(recorded.getUrl().queryParameterNames()).doesNotContain("cursor");
    assertThat(page.hasNext()).isFalse();
  }

  @Test
  void getReadsTheSessionWithMessages() throws Exception {
    server.enqueue(json(200, "{\"session_id\":\"sess_1\",\"title\":\"t\",\"created_at\":\"2026-11-20T10:00:00Z\","
        + "\"last_activity_at\":\"2026-11-20T10:05:00Z\",\"message_count\":2,\"messages\":["
        + "{\"message_id\":\"msg_01\",\"role\":\"user\",\"content\":\"hi\",\"created_at\":\"2026-11-20T10:00:00Z\"},"
        + "{\"message_id\":\"msg_02\",\"role\":\"assistant\",\"content\":\"hello\",\"created_at\":\"2026-11-20T10:00:01Z\",\"tokens\":3}]}"));

    Session session = client.sessions().get("sess_1", USER);

    assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/api/v1/llm-chat/recruiter/sessions/sess_1");
    assertThat(session.sessionId()).isEqualTo("sess_1");
    assertThat(session.messages()).extracting(SessionMessage::role).containsExactly("user", "assistant");
    assertThat(session.messages().get(1).extra()).containsEntry("tokens", 3);
  }

  @Test
  void getOfAnotherUsersSessionIsPermissionDenied() {
    server.enqueue(json(403, "{\"detail\":\"Not your session\"}"));
    assertThat(catchThrowable(() -> client.sessions().get("sess_1", USER))).isInstanceOf(PermissionDeniedException.class);
  }

  @Test
  void deleteSendsDeleteAndAcceptsNoContent() throws Exception {
    server.enqueue(new MockResponse.Builder().code(204).build());
    client.sessions().delete("sess_1", USER);

    RecordedRequest recorded = server.takeRequest();
    assertThat(recorded.getMethod()).isEqualTo("DELETE");
    assertThat(recorded.getUrl().encodedPath()).isEqualTo("/api/v1/llm-chat/recruiter/sessions/sess_1");
  }

  @Test
  void deleteOfUnknownSessionIsNotFound() {
    server.enqueue(json(404, "{\"detail\":\"Session not found\"}"));
    assertThat(catchThrowable(() -> client.sessions().delete("sess_1", USER))).isInstanceOf(NotFoundException.class);
  }

  @Test
  void deleteRetriedAfterALostAnswerTreats404AsDone() {
    // The first attempt reached the service (which deleted the session) but its answer was lost.
    server.enqueue(new MockResponse.Builder().code(204).onResponseStart(new SocketEffect.CloseSocket(true, false, false)).build());
    server.enqueue(json(404, "{\"detail\":\"Session not found\"}"));

    client.sessions().delete("sess_1", USER);

    assertThat(server.getRequestCount()).isEqualTo(2);
  }
}
