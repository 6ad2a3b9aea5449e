package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditEvent;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.SessionPage;
import dev.llmgateway.SessionSummary;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.ChatGateway.WebhookOutcome;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With a {@link SessionStore}, the gateway keeps the host's record of each conversation, checks
 * ownership before the service is asked, lists from the store through a per-user cache, deletes
 * both records (repairing a half-done delete on the next call) and cleans up records of sessions
 * the service dropped.
 */
class ChatGatewaySessionStoreTest extends MockServerTest {
  private static final UserContext USER = ChatGatewayTest.USER;
  private static final UserContext OTHER = USER.toBuilder().userId("u2").build();
  private static final String CHAT = ChatGatewayTest.CHAT; // session "s", 2000 tokens: 3 credits
  private static final String USAGE_2000 = "{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}";
  private static final WebhookSecret WEBHOOK_SECRET =
      WebhookSecret.ofBytes("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8));
  private static final String SESSION_JSON = "{\"session_id\":\"s\",\"title\":\"t\",\"message_count\":2,"
      + "\"messages\":[]}";
  /** A session begun before the host kept records: its first message is the assistant's greeting. */
  private static final String OLD_SESSION_JSON = "{\"session_id\":\"old\",\"title\":\"Rails engineers Berlin\","
      + "\"created_at\":\"2026-11-20T10:00:00Z\",\"last_activity_at\":\"2026-11-20T10:05:00Z\",\"message_count\":4,"
      + "\"messages\":[{\"message_id\":\"m0\",\"role\":\"assistant\",\"content\":\"Hello\"},"
      + "{\"message_id\":\"m1\",\"role\":\"user\",\"content\":\"Find Rails engineers in Berlin\"},"
      + "{\"message_id\":\"m2\",\"role\":\"assistant\",\"content\":\"I found 3\"}]}";

  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private final FakeTicker ticker = new FakeTicker();
  private final MutableClock clock = MutableClock.at("2026-12-01T10:00:00Z");
  private final FailingStore store = new FailingStore();
  private ChatGateway gateway;

  @Override
  LlmGatewayClient.Builder clientBuilder() {
    return super.clientBuilder().retryPolicy(RetryPolicy.none()).ticker(ticker).clock(clock);
  }

  @BeforeEach
  void setUp() {
    ledger.deposit("u1", 100);
    gateway = ChatGateway.builder().client(client).ledger(ledger).sessionStore(store).build();
  }

  private void chat(String query, String sessionId) {
    server.enqueue(new MockResponse.Builder().body(CHAT).build());
    gateway.chat(USER, ChatRequest.builder().query(query).sessionId(sessionId).build());
  }

  private SessionRecord record(String sessionId) {
    return store.find(sessionId).orElseThrow();
  }

  @Test
  void aChatCreatesTheRecordWithABoundedTitleAndTheNextAddsToIt() {
    chat("x".repeat(300), null);
    clock.advance(Duration.ofMinutes(1));
    chat("second question", "s");

    SessionRecord r = record("s");
    assertThat(r.userId()).isEqualTo("u1");
    assertThat(r.companyId()).isEqualTo("c1");
    assertThat(r.ownerRole()).isEqualTo("recruiter");
    assertThat(r.title()).hasSize(SessionRecord.MAX_TITLE_CHARS).startsWith("xxx").endsWith("\u2026");
    assertThat(r.createdAt()).isEqualTo(Instant.parse("2026-12-01T10:00:00Z"));
    assertThat(r.lastActivityAt()).isEqualTo(Instant.parse("2026-12-01T10:01:00Z"));
    assertThat(r.messageCount()).isEqualTo(4);
    assertThat(r.tokens()).isEqualTo(4000);
    assertThat(r.credits()).isEqualTo(6);
    assertThat(ledger.balance("u1")).isEqualTo(94);
  }

  @Test
  void aStreamIsRecordedWhenItEndsWithItsCredits() {
    server.enqueue(RelayFixtures.sse(ChatGatewayTest.SESSION + ChatGatewayTest.TOKEN + ChatGatewayTest.DONE));

    gateway.stream(USER, ChatRequest.of("stream me"), headers -> new ByteArrayOutputStream());

    SessionRecord r = record("s");
    assertThat(r.title()).isEqualTo("stream me");
    assertThat(r.messageCount()).isEqualTo(2);
    assertThat(r.tokens()).isEqualTo(2000);
    assertThat(r.credits()).isEqualTo(3);
  }

  @Test
  void anotherUsersSessionIsNotFoundWithoutAskingTheService() {
    chat("hello", null);
    int before = server.getRequestCount();

    Throwable read = catchThrowable(() -> gateway.getSession(OTHER, "s"));
    Throwable deleted = catchThrowable(() -> gateway.deleteSession(OTHER, "s"));

    assertThat(List.of(read, deleted)).allSatisfy(e -> {
      assertThat(e).isInstanceOf(NotFoundException.class);
      assertThat(ErrorMapper.ofDefaults().toResponse(e).status()).isEqualTo(404);
    });
    assertThat(server.getRequestCount()).isEqualTo(before);
    assertThat(store.find("s")).isPresent();
    assertThat(audit.subList(audit.size() - 2, audit.size()))
        .allSatisfy(e -> assertThat(e.status()).isEqualTo(404));
  }

  @Test
  void aBadSessionIdIsRefusedBeforeItReachesTheStore() {
    store.failFinds.set(true);

    Throwable read = catchThrowable(() -> gateway.getSession(USER, "x".repeat(10_000)));
    Throwable deleted = catchThrowable(() -> gateway.deleteSession(USER, "../s"));

    assertThat(List.of(read, deleted)).allSatisfy(e -> assertThat(e).isInstanceOf(ValidationException.class));
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void aSessionWithNoRecordIsAskedOfTheServiceAndAdoptedAsTheUsers() throws InterruptedException {
    assertThat(ids(gateway.listSessions(USER, 10, null))).isEmpty(); // cached empty
    server.enqueue(new MockResponse.Builder().body(OLD_SESSION_JSON).build());

    assertThat(gateway.getSession(USER, "old").messages()).hasSize(3);

    assertThat(server.takeRequest().getHeaders().toMultimap().toString()).contains("u1");
    assertThat(store.find("old")).contains(new SessionRecord("old", "u1", "c1", "recruiter",
        "Find Rails engineers in Berlin", Instant.parse("2026-11-20T10:00:00Z"), Instant.parse("2026-11-20T10:05:00Z"),
        4, 0, 0));
    assertThat(ids(gateway.listSessions(USER, 10, null))).containsExactly("old");
    assertThat(catchThrowable(() -> gateway.getSession(OTHER, "old"))).isInstanceOf(NotFoundException.class);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void anAdoptedSessionWithoutTimesOrUserMessagesGetsTheServicesTitleAndTheHostsClock() {
    server.enqueue(new MockResponse.Builder().body("{\"session_id\":\"old\",\"title\":\"From the service\","
        + "\"message_count\":0,\"messages\":[]}").build());

    gateway.getSession(USER, "old");

    assertThat(store.find("old")).contains(new SessionRecord("old", "u1", "c1", "recruiter", "From the service",
        clock.instant(), clock.instant(), 0, 0, 0));
  }

  @Test
  void aSessionWithNoRecordTheServiceRefusesOrDoesNotKnowIsNotFoundAndNotRecorded() {
    server.enqueue(new MockResponse.Builder().code(403).body("{\"detail\":\"Not your session\"}").build());
    server.enqueue(new MockResponse.Builder().code(404).body("{\"detail\":\"Session not found\"}").build());

    Throwable others = catchThrowable(() -> gateway.getSession(USER, "old"));
    Throwable unknown = catchThrowable(() -> gateway.getSession(USER, "old"));

    assertThat(List.of(others, unknown)).allSatisfy(e -> assertThat(e).isInstanceOf(NotFoundException.class));
    assertThat(store.find("old")).isEmpty();
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void aStoreFailingToAdoptStillAnswersTheSessionAndTheNextReadAdoptsIt() {
    server.enqueue(new MockResponse.Builder().body(OLD_SESSION_JSON).build());
    server.enqueue(new MockResponse.Builder().body(OLD_SESSION_JSON).build());
    store.failAdopts.set(true);

    assertThat(gateway.getSession(USER, "old").sessionId()).isEqualTo("old");
    assertThat(store.find("old")).isEmpty();

    store.failAdopts.set(false);
    gateway.getSession(USER, "old");
    assertThat(store.find("old")).isPresent();
  }

  @Test
  void aDeleteOfASessionWithNoRecordIsTheServicesToRefuse() throws InterruptedException {
    server.enqueue(new MockResponse.Builder().code(204).build());
    server.enqueue(new MockResponse.Builder().code(403).body("{\"detail\":\"Not your session\"}").build());

    gateway.deleteSession(USER, "old");
    Throwable others = catchThrowable(() -> gateway.deleteSession(USER, "theirs"));

    assertThat(server.takeRequest().getMethod()).isEqualTo("DELETE");
    assertThat(others).isInstanceOf(NotFoundException.class);
    assertThat(store.find("old")).isEmpty();
  }

  @Test
  void aChatOrStreamContinuingAnotherUsersSessionIsNotFoundWithNothingReservedOrSent() {
    chat("hello", null);
    ledger.deposit("u2", 100);
    int before = server.getRequestCount();
    int audited = audit.size();
    AtomicBoolean started = new AtomicBoolean();

    Throwable chat = catchThrowable(() -> gateway.chat(OTHER, ChatRequest.builder().query("q").sessionId("s").build()));
    Throwable stream = catchThrowable(() -> gateway.stream(OTHER, ChatRequest.builder().query("q").sessionId("s")
        .build(), headers -> {
          started.set(true);
          return new ByteArrayOutputStream();
        }));

    assertThat(List.of(chat, stream)).allSatisfy(e -> {
      assertThat(e).isInstanceOf(NotFoundException.class);
      assertThat(ErrorMapper.ofDefaults().toResponse(e).status()).isEqualTo(404);
    });
    assertThat(started).isFalse();
    assertThat(server.getRequestCount()).isEqualTo(before);
    assertThat(ledger.balance("u2")).isEqualTo(100);
    assertThat(ledger.pendingCount()).isZero();
    assertThat(audit.subList(audited, audit.size())).hasSize(2).allSatisfy(e -> {
      assertThat(e.status()).isEqualTo(404);
      assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.FAILURE);
    });
    assertThat(record("s").messageCount()).isEqualTo(2);
  }

  @Test
  void aChatOrStreamContinuingASessionTheServiceRefusesWith403IsNotFoundAndReleased() {
    for (int i = 0; i < 2; i++) {
      server.enqueue(new MockResponse.Builder().code(403).body("{\"detail\":\"Not your session\"}").build());
    }
    ChatRequest theirs = ChatRequest.builder().query("q").sessionId("theirs").build();

    Throwable chat = catchThrowable(() -> gateway.chat(USER, theirs));
    Throwable stream = catchThrowable(() -> gateway.stream(USER, theirs, headers -> new ByteArrayOutputStream()));

    assertThat(List.of(chat, stream)).allSatisfy(e -> {
      assertThat(e).isInstanceOf(NotFoundException.class);
      assertThat(ErrorMapper.ofDefaults().toResponse(e).status()).isEqualTo(404);
    });
    assertThat(ledger.balance("u1")).isEqualTo(100);
    assertThat(ledger.pendingCount()).isZero();
    assertThat(store.find("theirs")).isEmpty();
  }

  @Test
  void aNewChatTheServiceRefusesWith403StaysTheHostsCredentialsProblem() {
    server.enqueue(new MockResponse.Builder().code(403).body("{\"detail\":\"Missing scope\"}").build());

    Throwable chat = catchThrowable(() -> gateway.chat(USER, ChatRequest.of("q")));

    assertThat(ErrorMapper.ofDefaults().toResponse(chat).status()).isEqualTo(502);
  }

  @Test
  void aChatContinuingASessionWithNoRecordOrWhileTheStoreFailsIsLeftToTheService() {
    chat("continues an old session", "old");
    store.failFinds.set(true);
    chat("the store is down", "old");

    assertThat(server.getRequestCount()).isEqualTo(2);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void theOwnerReadsTheSessionFromTheService() throws InterruptedException {
    chat("hello", null);
    server.takeRequest();
    server.enqueue(new MockResponse.Builder().body(SESSION_JSON).build());

    assertThat(gateway.getSession(USER, "s").sessionId()).isEqualTo("s");
    assertThat(server.takeRequest().getTarget()).endsWith("/sessions/s");
  }

  @Test
  void theListComesFromTheStoreCachedForFiveMinutesUnlessTheUserChats() {
    chat("first", null);
    int afterChat = server.getRequestCount();

    assertThat(ids(gateway.listSessions(USER, 10, null))).containsExactly("s");
    store.recordExchange("s2", USER, "elsewhere", clock.instant().plusSeconds(5), 2, 10); // another host instance
    assertThat(ids(gateway.listSessions(USER, 10, null))).containsExactly("s");
    ticker.advance(ChatGateway.DEFAULT_RECENT_SESSIONS_TTL.minusNanos(1));
    assertThat(ids(gateway.listSessions(USER, 10, null))).containsExactly("s");
    ticker.advance(Duration.ofNanos(1));
    assertThat(ids(gateway.listSessions(USER, 10, null))).containsExactly("s2", "s");
    assertThat(server.getRequestCount()).isEqualTo(afterChat);

    store.recordExchange("s3", USER, "third", clock.instant().plusSeconds(10), 2, 10);
    clock.advance(Duration.ofMinutes(1));
    chat("again", "s");
    assertThat(ids(gateway.listSessions(USER, 10, null))).containsExactly("s", "s3", "s2");
    assertThat(ids(gateway.listSessions(OTHER, 10, null))).isEmpty();
  }

  @Test
  void aChatRecordedWhileTheListIsReadIsListedNextTime() throws Exception {
    CountDownLatch listRead = new CountDownLatch(1);
    CountDownLatch chatRecorded = new CountDownLatch(1);
    store.pauseAfterNextRecent.set(() -> {
      listRead.countDown();
      awaitOrFail(chatRecorded);
    });
    CompletableFuture<SessionPage> list = new CompletableFuture<>();
    Thread lister = new Thread(() -> {
      try {
        list.complete(gateway.listSessions(USER, 10, null));
      } catch (Throwable t) {
        list.completeExceptionally(t);
      }
    }, "lister");
    lister.start();
    awaitOrFail(listRead);

    chat("hello", null);
    chatRecorded.countDown();
    list.get(10, TimeUnit.SECONDS);

    assertThat(ids(gateway.listSessions(USER, 10, null))).containsExactly("s");
  }

  private static void awaitOrFail(CountDownLatch latch) {
    try {
      assertThat(latch.await(10, TimeUnit.SECONDS)).as("latch counted down in time").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void theListPagesWithTheGatewaysCursorAndRefusesABadOne() {
    for (int i = 0; i < 3; i++) {
      store.recordExchange("s" + i, USER, "t" + i, clock.instant().plusSeconds(i), 2, 1);
    }

    SessionPage first = gateway.listSessions(USER, 2, null);
    SessionPage second = gateway.listSessions(USER, 2, first.nextCursor());

    assertThat(ids(first)).containsExactly("s2", "s1");
    assertThat(ids(second)).containsExactly("s0");
    assertThat(second.nextCursor()).isNull();
    assertThat(first.sessions().get(0).extra()).containsEntry("tokens", 1L).containsEntry("credits", 0L);
    assertThatThrownBy(() -> gateway.listSessions(USER, 2, "-1")).isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> gateway.listSessions(USER, 2, "abc")).isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> gateway.listSessions(USER, 0, null)).isInstanceOf(ValidationException.class);
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void deletingDeletesTheServicesSessionThenTheRecordAndForgetsTheCachedList() throws InterruptedException {
    chat("hello", null);
    server.takeRequest();
    assertThat(ids(gateway.listSessions(USER, 10, null))).containsExactly("s");
    server.enqueue(new MockResponse.Builder().code(204).build());

    gateway.deleteSession(USER, "s");

    RecordedRequest delete = server.takeRequest();
    assertThat(delete.getMethod()).isEqualTo("DELETE");
    assertThat(store.find("s")).isEmpty();
    assertThat(ids(gateway.listSessions(USER, 10, null))).isEmpty();
  }

  @Test
  void aDeleteThatFailedBetweenTheTwoRecordsIsRepairedByTheNextDelete() {
    chat("hello", null);
    server.enqueue(new MockResponse.Builder().code(204).build());
    store.failDeletes.set(true);

    assertThatThrownBy(() -> gateway.deleteSession(USER, "s")).isInstanceOf(StateStoreException.class);
    assertThat(store.find("s")).isPresent();

    store.failDeletes.set(false);
    server.enqueue(new MockResponse.Builder().code(404).body("{\"detail\":\"Session not found\"}").build());
    gateway.deleteSession(USER, "s");

    assertThat(store.find("s")).isEmpty();
    assertThat(ids(gateway.listSessions(USER, 10, null))).isEmpty();
  }

  @Test
  void aReadOfASessionTheServiceNoLongerHasDeletesTheRecord() {
    chat("hello", null);
    server.enqueue(new MockResponse.Builder().code(404).body("{\"detail\":\"Session not found\"}").build());

    assertThatThrownBy(() -> gateway.getSession(USER, "s")).isInstanceOf(NotFoundException.class);

    assertThat(store.find("s")).isEmpty();
  }

  @Test
  void aReadOfASessionTheServiceNoLongerHasIsNotFoundEvenWhenTheStoreFailsToDeleteTheRecord() {
    chat("hello", null);
    server.enqueue(new MockResponse.Builder().code(404).body("{\"detail\":\"Session not found\"}").build());
    store.failDeletes.set(true);

    assertThatThrownBy(() -> gateway.getSession(USER, "s")).isInstanceOf(NotFoundException.class);
    assertThat(store.find("s")).isPresent();

    store.failDeletes.set(false);
    server.enqueue(new MockResponse.Builder().code(404).body("{\"detail\":\"Session not found\"}").build());
    assertThatThrownBy(() -> gateway.getSession(USER, "s")).isInstanceOf(NotFoundException.class);
    assertThat(store.find("s")).isEmpty();
  }

  @Test
  void theCleanupChecksIdleRecordsOnlyAndDeletesThoseTheServiceDropped() throws InterruptedException {
    store.recordExchange("kept", USER, "a", clock.instant(), 2, 1);
    store.recordExchange("gone", OTHER, "b", clock.instant().plusSeconds(1), 2, 1);
    store.recordExchange("recent", USER, "c", clock.instant().plus(Duration.ofHours(2)), 2, 1);
    clock.advance(Duration.ofHours(2).plusMinutes(30));
    server.enqueue(new MockResponse.Builder().body(SESSION_JSON).build());
    server.enqueue(new MockResponse.Builder().code(404).body("{\"detail\":\"Session not found\"}").build());

    int removed = gateway.removeSessionsGoneFromService(Duration.ofHours(1), 10);

    assertThat(removed).isEqualTo(1);
    assertThat(store.find("kept")).isPresent();
    assertThat(store.find("gone")).isEmpty();
    assertThat(store.find("recent")).isPresent();
    assertThat(server.getRequestCount()).isEqualTo(2);
    assertThat(server.takeRequest().getHeaders().toMultimap().toString()).contains("u1");
    assertThat(server.takeRequest().getHeaders().toMultimap().toString()).contains("u2");
  }

  @Test
  void theCleanupRefusesBadBoundsAndIsANoOpWithoutAStore() {
    assertThatThrownBy(() -> gateway.removeSessionsGoneFromService(Duration.ZERO, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idleFor");
    assertThatThrownBy(() -> gateway.removeSessionsGoneFromService(Duration.ofHours(1), 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxChecked");
    ChatGateway without = ChatGateway.builder().client(client).ledger(ledger).build();
    assertThat(without.removeSessionsGoneFromService(Duration.ofHours(1), 10)).isZero();
    assertThat(server.getRequestCount()).isZero();
  }

  /** A gateway that starts direct streams and takes their completion webhooks, on {@link #store}. */
  private ChatGateway directStreams() {
    return ChatGateway.builder().client(client).ledger(ledger).sessionStore(store)
        .streamTokens(StreamTokenIssuer.builder().keys(JwtKeySet.of("k1", "stream-token-secret-of-32-bytes-at-least"))
            .serviceBaseUrl("http://service.test").clock(clock).environment(n -> null).build())
        .webhooks(WebhookVerifier.builder().secret(WEBHOOK_SECRET).clock(clock).build())
        .build();
  }

  private WebhookOutcome deliver(ChatGateway direct, String webhookId, byte[] body) {
    Map<String, String> headers = WebhookSigner.of(WEBHOOK_SECRET).headers(webhookId, clock.instant(), body);
    return direct.handleCompletionWebhook(headers::get, body);
  }

  @Test
  void aDirectStreamIsRecordedWithoutATitleWhenItsWebhookCommitsAndOnlyThen() {
    ChatGateway direct = directStreams();
    String committed = direct.initDirectStream(USER, ChatRequest.of("Find Rails engineers")).requestId();
    String released = direct.initDirectStream(USER, ChatRequest.of("q")).requestId();
    byte[] completed = ChatGatewayDirectStreamTest.completion(committed, "completed", USAGE_2000);

    assertThat(deliver(direct, "msg_a", completed)).isEqualTo(WebhookOutcome.COMMITTED);
    assertThat(deliver(direct, "msg_a", completed)).isEqualTo(WebhookOutcome.DUPLICATE);
    assertThat(deliver(direct, "msg_b", ChatGatewayDirectStreamTest.completion(committed, "failed", USAGE_2000)))
        .isEqualTo(WebhookOutcome.ALREADY_SETTLED);
    assertThat(deliver(direct, "msg_c", ChatGatewayDirectStreamTest.completion(released, "failed", null)))
        .isEqualTo(WebhookOutcome.RELEASED);

    assertThat(store.find("sess_1")).contains(new SessionRecord("sess_1", "u1", "c1", "recruiter", "",
        clock.instant(), clock.instant(), 2, 2000, 3));
    assertThat(ids(direct.listSessions(USER, 10, null))).containsExactly("sess_1");
  }

  @Test
  void aDirectStreamContinuingAnotherUsersSessionIsNotFoundWithNothingReserved() {
    ChatGateway direct = directStreams();
    store.recordExchange("theirs", OTHER, "t", clock.instant(), 2, 1);

    assertThatThrownBy(() -> direct.initDirectStream(USER, ChatRequest.builder().query("q").sessionId("theirs")
        .build())).isInstanceOf(NotFoundException.class);

    assertThat(ledger.balance("u1")).isEqualTo(100);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void aWebhookForASessionAnotherUserOwnsAddsNeitherTheExchangeNorTheCreditsToTheirRecord() {
    ChatGateway direct = directStreams();
    String requestId = direct.initDirectStream(USER, ChatRequest.of("q")).requestId();
    store.recordExchange("sess_1", OTHER, "theirs", clock.instant(), 2, 1); // the service named their session

    assertThat(deliver(direct, "msg_a", ChatGatewayDirectStreamTest.completion(requestId, "completed", USAGE_2000)))
        .isEqualTo(WebhookOutcome.COMMITTED);

    assertThat(store.find("sess_1")).contains(new SessionRecord("sess_1", "u2", "c1", "recruiter", "theirs",
        clock.instant(), clock.instant(), 2, 1, 0));
    assertThat(ledger.balance("u1")).isEqualTo(97);
  }

  private static List<String> ids(SessionPage page) {
    return page.sessions().stream().map(SessionSummary::sessionId).toList();
  }

  /**
   * An in-memory store whose deletes, adoptions or lookups fail while the flag says so, and whose
   * next list read can pause.
   */
  private static final class FailingStore implements SessionStore {
    final AtomicBoolean failDeletes = new AtomicBoolean();
    final AtomicBoolean failAdopts = new AtomicBoolean();
    final AtomicBoolean failFinds = new AtomicBoolean();
    /** Run once, after the next {@code recent} has read and before it returns. */
    final AtomicReference<Runnable> pauseAfterNextRecent = new AtomicReference<>();
    private final InMemorySessionStore delegate = InMemorySessionStore.create();

    @Override
    public boolean recordExchange(String sessionId, UserContext owner, String title, Instant at, int messages,
        long tokens) {
      return delegate.recordExchange(sessionId, owner, title, at, messages, tokens);
    }

    @Override
    public SessionRecord adopt(SessionRecord record) {
      if (failAdopts.get()) {
        throw new StateStoreException("session store: adopt failed (test)", null, null);
      }
      return delegate.adopt(record);
    }

    @Override
    public void addCredits(String sessionId, long credits) {
      delegate.addCredits(sessionId, credits);
    }

    @Override
    public Optional<SessionRecord> find(String sessionId) {
      if (failFinds.get()) {
        throw new StateStoreException("session store: find failed (test)", null, null);
      }
      return delegate.find(sessionId);
    }

    @Override
    public List<SessionRecord> recent(String userId, String companyId, int limit) {
      List<SessionRecord> read = delegate.recent(userId, companyId, limit);
      Runnable pause = pauseAfterNextRecent.getAndSet(null);
      if (pause != null) {
        pause.run();
      }
      return read;
    }

    @Override
    public boolean delete(String sessionId) {
      if (failDeletes.get()) {
        throw new StateStoreException("session store: delete failed (test)", null, null);
      }
      return delegate.delete(sessionId);
    }

    @Override
    public List<SessionRecord> idleSince(Instant before, int limit) {
      return delegate.idleSince(before, limit);
    }
  }
}
