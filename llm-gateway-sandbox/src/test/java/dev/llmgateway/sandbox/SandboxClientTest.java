package dev.llmgateway.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.ApiException;
import dev.llmgateway.AuditSink;
import dev.llmgateway.CallOptions;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.ChatStream;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.Intent;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.PermissionDeniedException;
import dev.llmgateway.ServerErrorException;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.Session;
import dev.llmgateway.SessionMessage;
import dev.llmgateway.SessionPage;
import dev.llmgateway.SessionSummary;
import dev.llmgateway.Sleeper;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.StreamInterruptedException;
import dev.llmgateway.Ticker;
import dev.llmgateway.UserContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A client built with {@code sandbox(true)}, answered by this artifact through the whole client path. */
class SandboxClientTest {
  private static final UserContext ALICE = UserContext.builder().userId("alice").companyId("1").role("recruiter").build();
  private static final UserContext BOB = UserContext.builder().userId("bob").companyId("1").role("recruiter").build();

  private final RecordingTime time = new RecordingTime();
  private final LlmGatewayClient client = sandbox();

  private LlmGatewayClient sandbox() {
    return LlmGatewayClient.builder()
        .sandbox(true)
        .environment(name -> null)
        .clock(Clock.fixed(Instant.parse("2026-11-28T12:00:00Z"), ZoneOffset.UTC))
        .ticker(time)
        .sleeper(time)
        .auditSink(AuditSink.none())
        .circuitBreaker(CircuitBreaker.disabled())
        .build();
  }

  @AfterEach
  void tearDown() {
    client.close();
  }

  @Test
  void searchQueryGetsADeterministicAnswerWithCandidates() {
    ChatResponse first = client.chat(ChatRequest.of("Find senior Rails engineers in Berlin"), ALICE);
    ChatResponse again;
    try (LlmGatewayClient other = sandbox()) {
      again = other.chat(ChatRequest.of("Find senior Rails engineers in Berlin"), ALICE);
    }

    assertThat(first.intent()).isEqualTo(Intent.SEARCH);
    assertThat(first.candidates()).hasSize(3);
    assertThat(first.usage()).isNotNull();
    assertThat(first.answer()).contains("Find senior Rails engineers in Berlin");
    assertThat(again.answer()).isEqualTo(first.answer());
    assertThat(again.candidates()).isEqualTo(first.candidates());
    assertThat(again.sessionId()).isEqualTo(first.sessionId());
  }

  @Test
  void intentFollowsTheQueryOrTheCaller() {
    assertThat(client.chat(ChatRequest.of("How are you today?"), ALICE).intent()).isEqualTo(Intent.CHAT);
    assertThat(client.chat(ChatRequest.of("Shortlist her please"), ALICE).actions()).hasSize(1);
    assertThat(client.chat(ChatRequest.builder().query("Find people").userIntent(Intent.CHAT).build(), ALICE).intent())
        .isEqualTo(Intent.CHAT);
  }

  @Test
  void sessionsCanBeContinuedListedReadAndDeleted() {
    ChatResponse first = client.chat(ChatRequest.of("Find Rails engineers"), ALICE);
    client.chat(ChatRequest.builder().query("Tell me more").sessionId(first.sessionId()).build(), ALICE);

    Session session = client.sessions().get(first.sessionId(), ALICE);
    assertThat(session.messages()).extracting(SessionMessage::role).containsExactly("user", "assistant", "user", "assistant");
    assertThat(client.sessions().list(ALICE).sessions()).extracting(SessionSummary::sessionId).containsExactly(first.sessionId());

    client.sessions().delete(first.sessionId(), ALICE);
    assertThat(catchThrowable(() -> client.sessions().get(first.sessionId(), ALICE))).isInstanceOf(NotFoundException.class);
  }

  @Test
  void anotherUsersSessionIsForbidden() {
    ChatResponse mine = client.chat(ChatRequest.of("hello"), ALICE);
    assertThat(catchThrowable(() -> client.sessions().get(mine.sessionId(), BOB))).isInstanceOf(PermissionDeniedException.class);
    assertThat(client.sessions().list(BOB).sessions()).isEmpty();
  }

  @Test
  void listingPagesThroughEverySessionWithCursors() {
    for (int i = 0; i < 7; i++) {
      client.chat(ChatRequest.of("question " + i), ALICE);
    }
    List<String> seen = new ArrayList<>();
    SessionPage page = client.sessions().list(ALICE, 3, null);
    seen.addAll(page.sessions().stream().map(SessionSummary::sessionId).toList());
    while (page.hasNext()) {
      page = client.sessions().list(ALICE, 3, page.nextCursor());
      seen.addAll(page.sessions().stream().map(SessionSummary::sessionId).toList());
    }
    assertThat(seen).hasSize(7).doesNotHaveDuplicates();
  }

  @Test
  void sameIdempotencyKeyGivesTheSameAnswerWithoutANewMessage() {
    CallOptions options = CallOptions.builder().idempotencyKey("k-1").build();
    ChatResponse first = client.chat(ChatRequest.of("Find engineers"), ALICE, options);
    ChatResponse replay = client.chat(ChatRequest.of("Find engineers"), ALICE, options);

    assertThat(replay.messageId()).isEqualTo(first.messageId());
    assertThat(client.sessions().get(first.sessionId(), ALICE).messages()).hasSize(2);
  }

  @Test
  void streamedAnswerMatchesTheSyncAnswer() {
    ChatResponse sync = client.chat(ChatRequest.of("Find Rails engineers"), ALICE);
    try (LlmGatewayClient other = sandbox(); ChatStream stream = other.chatStream(ChatRequest.of("Find Rails engineers"), ALICE)) {
      StreamCompletion done = stream.completion();
      assertThat(done.text()).isEqualTo(sync.answer());
      assertThat(done.candidates()).isEqualTo(sync.candidates());
      assertThat(done.usage()).isEqualTo(sync.usage());
    }
  }

  @Test
  void streamFaultDirectivesEndStreamsWithTypedErrors() {
    try (ChatStream stream = client.chatStream(ChatRequest.of("Find engineers #sandbox:stream=error"), ALICE)) {
      assertThat(catchThrowable(stream::completion)).isInstanceOf(StreamErrorException.class);
    }
    try (ChatStream stream = client.chatStream(ChatRequest.of("Find engineers #sandbox:stream=cut"), ALICE)) {
      assertThat(catchThrowable(stream::completion)).isInstanceOf(StreamInterruptedException.class);
    }
  }

  @Test
  void faultDirectivesProduceTypedErrorsThroughTheRealPath() {
    ServiceUnavailableException unavailable = catchThrowableOfType(ServiceUnavailableException.class,
        () -> client.chat(ChatRequest.of("hi #sandbox:status=503"), ALICE));
    assertThat(unavailable.attempts()).isEqualTo(3);
    assertThat(time.sleeps).hasSize(2);

    ServiceUnavailableException proxy = catchThrowableOfType(ServiceUnavailableException.class,
        () -> client.chat(ChatRequest.of("hi #sandbox:status=502"), ALICE));
    assertThat(proxy.status()).isEqualTo(502);
    assertThat(proxy.body()).contains("<html>");

    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi #sandbox:status=500"), ALICE)))
        .isInstanceOf(ServerErrorException.class);
  }

  /** A ticker and sleeper in one: sleeping advances the ticker at once and records the wait. */
  private static final class RecordingTime implements Ticker, Sleeper {
    private final AtomicLong nanos = new AtomicLong();
    final List<Duration> sleeps = new CopyOnWriteArrayList<>();

    @Override
    public long read() {
      return nanos.get();
    }

    @Override
    public void sleep(Duration duration) {
      sleeps.add(duration);
      nanos.addAndGet(duration.toNanos());
    }

    @Override
    public CompletionStage<Void> delay(Duration duration) {
      sleep(duration);
      return CompletableFuture.completedFuture(null);
    }
  }
}
