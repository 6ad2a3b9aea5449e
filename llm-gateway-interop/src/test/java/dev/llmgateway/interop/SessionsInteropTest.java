package dev.llmgateway.interop;

import static dev.llmgateway.interop.Fixtures.ADA;
import static dev.llmgateway.interop.Fixtures.BOB;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static dev.llmgateway.interop.Fixtures.thrown;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.BadRequestException;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.PermissionDeniedException;
import dev.llmgateway.Session;
import dev.llmgateway.SessionPage;
import dev.llmgateway.SessionSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@InteropTest
class SessionsInteropTest extends ClientInteropTest {
  SessionsInteropTest(ReferenceService service) {
    super(service);
  }

  private String newSession(String query) {
    return client.chat(ChatRequest.of(query), ADA).sessionId();
  }

  @Test
  void listingPagesThroughEverySessionWithTheCursor() {
    List<String> created = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      created.add(newSession("Find Rails engineers, batch " + i));
    }

    List<Integer> pageSizes = new ArrayList<>();
    List<String> listed = new ArrayList<>();
    SessionPage page = client.sessions().list(ADA, 2, null);
    while (true) {
      pageSizes.add(page.sessions().size());
      page.sessions().forEach(s -> listed.add(s.sessionId()));
      if (!page.hasNext()) {
        break;
      }
      page = client.sessions().list(ADA, 2, page.nextCursor());
    }

    assertThat(pageSizes).containsExactly(2, 2, 1);
    assertThat(page.nextCursor()).isNull();
    assertThat(listed).containsExactlyInAnyOrderElementsOf(created);
  }

  @Test
  void listingShowsOnlyTheUsersOwnSessions() {
    String adas = newSession(SEARCH_QUERY);
    String bobs = client.chat(ChatRequest.of(SEARCH_QUERY), BOB).sessionId();

    SessionPage page = client.sessions().list(ADA, 100, null);

    assertThat(page.sessions()).extracting(SessionSummary::sessionId).containsExactly(adas).doesNotContain(bobs);
  }

  @Test
  void gettingASessionReturnsItsSummaryAndMessages() {
    ChatResponse answer = client.chat(ChatRequest.of(SEARCH_QUERY), ADA);

    Session session = client.sessions().get(answer.sessionId(), ADA);

    assertThat(session.sessionId()).isEqualTo(answer.sessionId());
    assertThat(session.summary().title()).isEqualTo(SEARCH_QUERY);
    assertThat(session.summary().messageCount()).isEqualTo(2);
    assertThat(session.summary().createdAt()).isNotNull();
    assertThat(session.summary().lastActivityAt()).isNotNull();
    assertThat(session.messages()).extracting(m -> m.role() + ": " + m.content())
        .containsExactly("user: " + SEARCH_QUERY, "assistant: " + answer.answer());
    assertThat(session.messages().get(1).messageId()).isEqualTo(answer.messageId());
  }

  @Test
  void gettingAnotherUsersSessionIsPermissionDenied() {
    String adas = newSession(SEARCH_QUERY);

    PermissionDeniedException e = thrown(PermissionDeniedException.class,
        () -> client.sessions().get(adas, BOB));

    assertThat(e.status()).isEqualTo(403);
    assertThat(e.attempts()).isEqualTo(1);
  }

  @Test
  void gettingAnUnknownSessionIsNotFound() {
    NotFoundException e = thrown(NotFoundException.class,
        () -> client.sessions().get("sess_doesnotexist", ADA));

    assertThat(e.status()).isEqualTo(404);
    assertThat(e.detail()).isEqualTo("Session not found");
  }

  @Test
  void aDeletedSessionIsGone() {
    String id = newSession(SEARCH_QUERY);

    client.sessions().delete(id, ADA);

    assertThatThrownBy(() -> client.sessions().get(id, ADA)).isInstanceOf(NotFoundException.class);
    assertThat(client.sessions().list(ADA).sessions()).isEmpty();
  }

  @Test
  void deletingASessionTwiceIsNotFound() {
    String id = newSession(SEARCH_QUERY);
    client.sessions().delete(id, ADA);

    assertThatThrownBy(() -> client.sessions().delete(id, ADA)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void aDeleteWhoseAnswerWasLostOnTheWayBackStillSucceeds() {
    String id = newSession(SEARCH_QUERY);
    service.armFault(Map.of("status", 504, "body", "html", "when", "after", "times", 1,
        "path", "/api/v1/llm-chat/recruiter/sessions/" + id));
    try (LlmGatewayClient noWaits = service.clientBuilder().sleeper(new RecordingSleeper()).build()) {

      noWaits.sessions().delete(id, ADA);
    }

    assertThatThrownBy(() -> client.sessions().get(id, ADA)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void anUnreadableCursorIsBadRequest() {
    BadRequestException e = thrown(BadRequestException.class,
        () -> client.sessions().list(ADA, 10, "not-a-cursor"));

    assertThat(e.status()).isEqualTo(400);
    assertThat(e.detail()).isEqualTo("Invalid cursor");
  }

  @Test
  void deletingAnotherUsersSessionIsPermissionDeniedAndKeepsIt() {
    String adas = newSession(SEARCH_QUERY);

    assertThatThrownBy(() -> client.sessions().delete(adas, BOB)).isInstanceOf(PermissionDeniedException.class);

    assertThat(client.sessions().get(adas, ADA).sessionId()).isEqualTo(adas);
  }
}
