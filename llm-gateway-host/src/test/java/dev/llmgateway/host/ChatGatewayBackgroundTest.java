package dev.llmgateway.host;

import static dev.llmgateway.testkit.SseResponses.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditEvent;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Operation;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.testkit.LogCapture;
import dev.llmgateway.testkit.SseResponses;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A chat answered in the background publishes its events in order and settles its credits exactly
 * once, however it ends; a refused one publishes and reserves nothing.
 */
class ChatGatewayBackgroundTest {
  private static final UserContext USER = ChatGatewayTest.USER;
  private static final String SESSION = ChatGatewayTest.SESSION;
  private static final String TOKEN = ChatGatewayTest.TOKEN;
  private static final String WORDS = "word ".repeat(100);
  /** 1,000 + 1,000 tokens: 3 credits at the default pricing. */
  private static final String DONE = ChatGatewayTest.DONE;
  private static final String ERROR_EVENT =
      "data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"at 10.0.0.7\",\"retryable\":false}\n\n";
  private static final long WAIT_SECONDS = 10;

  private final MockWebServer service = new MockWebServer();
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private final List<SettlementEvent> settlements = new CopyOnWriteArrayList<>();
  private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
  private final List<ChatEvent> published = new CopyOnWriteArrayList<>();
  private LlmGatewayClient client;
  private ChatGateway gateway;

  @BeforeEach
  void setUp() throws IOException {
    service.start();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("t")
        .environment(n -> null).retryPolicy(RetryPolicy.none()).auditSink(audit::add).build();
    ledger.deposit("u1", 100);
    gateway = gateway(published::add).build();
  }

  private ChatGateway.Builder gateway(ChatEventPublisher publisher) {
    return ChatGateway.builder().client(client).ledger(ledger)
        .rateLimiter(InMemoryRateLimiter.create(RateLimits.builder().calls(RateLimit.perMinute(10_000))
            .streamStarts(RateLimit.perMinute(10_000)).build()))
        .settlementListener(settlements::add)
        .eventPublisher(publisher);
  }

  @AfterEach
  void tearDown() {
    client.close();
    service.close();
  }

  private static ChatEvent last(BackgroundChat chat) throws Exception {
    return chat.completion().get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  private List<String> types() {
    return published.stream().map(ChatEvent::type).toList();
  }

  private void assertSettledOnce(Settlement expected) {
    assertThat(settlements).extracting(SettlementEvent::settlement).containsExactly(expected);
    assertThat(ledger.pendingCount()).isZero();
  }

  private void assertNothingSpentOrPublished() {
    assertThat(published).isEmpty();
    assertThat(settlements).isEmpty();
    assertThat(ledger.pendingCount()).isZero();
    assertThat(ledger.balance("u1")).isEqualTo(100);
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void eventsArePublishedInOrderAndTheCreditsCommittedOnce() throws Exception {
    service.enqueue(sse(SESSION + TOKEN + TOKEN + DONE));

    BackgroundChat chat = gateway.chatInBackground(USER, ChatRequest.of("hi"));
    ChatEvent last = last(chat);

    assertThat(published).containsExactly(
        new ChatEvent.Started(chat.id(), "u1", "c1"),
        new ChatEvent.Token(chat.id(), "u1", "c1", WORDS),
        new ChatEvent.Token(chat.id(), "u1", "c1", WORDS),
        new ChatEvent.Completed(chat.id(), "u1", "c1", "s", WORDS + WORDS, 3));
    assertThat(last).isEqualTo(published.get(3));
    assertSettledOnce(Settlement.COMMITTED);
    assertThat(ledger.balance("u1")).isEqualTo(97);
    assertThat(service.takeRequest().getHeaders().get("X-Request-Id")).isEqualTo(chat.id());
  }

  @Test
  void theCallIsAuditedOnceAsAStream() throws Exception {
    service.enqueue(sse(SESSION + TOKEN + DONE));

    BackgroundChat chat = gateway.chatInBackground(USER, ChatRequest.of("hi"));
    last(chat);

    assertThat(audit).singleElement().satisfies(event -> {
      assertThat(event.requestId()).isEqualTo(chat.id());
      assertThat(event.action()).isEqualTo(Operation.CHAT_STREAM);
      assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
    });
  }

  @Test
  void theCallsListenerHearsTheReservationTheStreamAndTheCommitOnce() throws Exception {
    List<ChatGatewayCallListenerTest.Calls> created = new CopyOnWriteArrayList<>();
    try (LlmGatewayClient listened = client.newBuilder().listenerFactory(call -> {
      ChatGatewayCallListenerTest.Calls own = new ChatGatewayCallListenerTest.Calls(call);
      created.add(own);
      return own;
    }).build()) {
      ChatGateway listening = ChatGateway.builder().client(listened).ledger(ledger)
          .settlementListener(settlements::add).eventPublisher(published::add).build();
      service.enqueue(sse(SESSION + TOKEN + DONE));

      last(listening.chatInBackground(USER, ChatRequest.of("hi")));

      assertThat(created).singleElement().satisfies(calls -> assertThat(calls.events).containsExactly(
          "reserved 10", "callStart", "attemptStart 1", "firstEvent", "usage 2000", "callEnd", "settled COMMITTED 3"));
    }
  }

  @Test
  void withoutAPublisherABackgroundChatIsRefusedBeforeAnythingIsReserved() {
    ChatGateway withoutPublisher = ChatGateway.builder().client(client).ledger(ledger)
        .settlementListener(settlements::add).build();

    assertThat(catchThrowable(() -> withoutPublisher.chatInBackground(USER, ChatRequest.of("hi"))))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("eventPublisher");
    assertNothingSpentOrPublished();
  }

  @Test
  void aPolicyRefusalIsThrownWithNothingReservedSentOrPublished() {
    List<ChatPolicy.Action> asked = new CopyOnWriteArrayList<>();
    ChatGateway refusing = gateway(published::add).policy((user, action, sessionId) -> {
      asked.add(action);
      return false;
    }).build();

    assertThat(catchThrowable(() -> refusing.chatInBackground(USER, ChatRequest.of("hi"))))
        .isInstanceOf(ForbiddenException.class);
    assertThat(asked).containsExactly(ChatPolicy.Action.BACKGROUND_CHAT);
    assertNothingSpentOrPublished();
    assertThat(audit).singleElement().extracting(AuditEvent::outcome).isEqualTo(AuditEvent.Outcome.FORBIDDEN);
  }

  @Test
  void anInvalidRequestIsThrownWithNothingReservedSentOrPublished() {
    assertThat(catchThrowable(() -> gateway.chatInBackground(USER, ChatRequest.of(""))))
        .isInstanceOf(ValidationException.class);
    assertNothingSpentOrPublished();
  }

  @Test
  void aRateLimitRefusalIsThrownWithNothingReservedSentOrPublished() throws Exception {
    ChatGateway limited = gateway(published::add)
        .rateLimiter(InMemoryRateLimiter.create(RateLimits.builder().streamStarts(RateLimit.perMinute(1)).build()))
        .build();
    service.enqueue(sse(SESSION + TOKEN + DONE));
    last(limited.chatInBackground(USER, ChatRequest.of("hi")));
    published.clear();
    settlements.clear();
    int requests = service.getRequestCount();

    assertThat(catchThrowable(() -> limited.chatInBackground(USER, ChatRequest.of("hi"))))
        .isInstanceOf(RateLimitExceededException.class);
    assertThat(published).isEmpty();
    assertThat(settlements).isEmpty();
    assertThat(ledger.pendingCount()).isZero();
    assertThat(service.getRequestCount()).isEqualTo(requests);
  }

  @Test
  void aUserWhoCannotPayIsRefusedWithNothingSentOrPublished() {
    ChatGateway expensive = gateway(published::add).estimate(request -> 1_000).build();

    assertThat(catchThrowable(() -> expensive.chatInBackground(USER, ChatRequest.of("hi"))))
        .isInstanceOf(InsufficientCreditsException.class);
    assertNothingSpentOrPublished();
  }

  @Test
  void aClosedClientIsThrownWithTheCreditsReleasedAndNothingPublished() {
    client.close();

    assertThat(catchThrowable(() -> gateway.chatInBackground(USER, ChatRequest.of("hi"))))
        .isInstanceOf(IllegalStateException.class);
    assertThat(published).isEmpty();
    assertSettledOnce(Settlement.RELEASED);
    assertThat(ledger.balance("u1")).isEqualTo(100);
  }

  @Test
  void aServiceErrorBeforeTheFirstEventIsFailedAndReleased() throws Exception {
    service.enqueue(new MockResponse.Builder().code(503).build());

    BackgroundChat chat = gateway.chatInBackground(USER, ChatRequest.of("hi"));

    assertThat(last(chat)).isEqualTo(new ChatEvent.Failed(chat.id(), "u1", "c1", "service_unavailable",
        ErrorKind.SERVICE_UNAVAILABLE.defaultMessage()));
    assertThat(types()).containsExactly("started", "failed");
    assertSettledOnce(Settlement.RELEASED);
    assertThat(ledger.balance("u1")).isEqualTo(100);
  }

  /** A policy that would charge an empty delivery shows that nothing reached the policy: released as {@code stream} does. */
  @Test
  void anErrorEventFirstIsFailedWithAUserSafeMessageAndReleasedWhateverThePolicy() throws Exception {
    ChatGateway charging = gateway(published::add).settlement(delivery -> new dev.llmgateway.Usage(500, 500, 1000))
        .build();
    service.enqueue(sse(ERROR_EVENT));

    ChatEvent last = last(charging.chatInBackground(USER, ChatRequest.of("hi")));

    assertThat(last).isInstanceOfSatisfying(ChatEvent.Failed.class, failed -> {
      assertThat(failed.code()).isEqualTo("stream_failed");
      assertThat(failed.message()).isEqualTo(ErrorKind.STREAM_FAILED.defaultMessage());
    });
    assertThat(last.toJson()).doesNotContain("10.0.0.7").doesNotContain("model_overloaded");
    assertSettledOnce(Settlement.RELEASED);
    assertThat(ledger.balance("u1")).isEqualTo(100);
  }

  @Test
  void aFailureAfterSomeTokensIsChargedAsARelayThatFailedAfterDelivery() throws Exception {
    ledger.deposit("u2", 100);
    UserContext relayed = USER.toBuilder().userId("u2").build();
    service.enqueue(sse(SESSION + TOKEN + ERROR_EVENT));
    service.enqueue(sse(SESSION + TOKEN + ERROR_EVENT));

    ChatEvent last = last(gateway.chatInBackground(USER, ChatRequest.of("hi")));
    gateway.stream(relayed, ChatRequest.of("hi"), headers -> new ByteArrayOutputStream());

    assertThat(last.type()).isEqualTo("failed");
    assertThat(types()).containsExactly("started", "token", "failed");
    assertThat(settlements).extracting(SettlementEvent::settlement)
        .containsExactly(Settlement.COMMITTED, Settlement.COMMITTED);
    assertThat(settlements.get(0).creditsCharged()).isPositive().isEqualTo(settlements.get(1).creditsCharged());
    assertThat(ledger.balance("u1")).isEqualTo(ledger.balance("u2"));
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void aPublisherThatThrowsStopsNeitherTheChatNorItsSettlement() throws Exception {
    List<ChatEvent> offered = new CopyOnWriteArrayList<>();
    ChatGateway throwing = gateway(event -> {
      offered.add(event);
      throw new IllegalStateException("subscriber gone, secret-ish detail");
    }).build();
    service.enqueue(sse(SESSION + TOKEN + TOKEN + DONE));

    try (LogCapture logs = new LogCapture()) {
      BackgroundChat chat = throwing.chatInBackground(USER, ChatRequest.of("hi"));

      assertThat(last(chat)).isEqualTo(new ChatEvent.Completed(chat.id(), "u1", "c1", "s", WORDS + WORDS, 3));
      assertThat(offered).extracting(ChatEvent::type).containsExactly("started", "token", "token", "completed");
      assertThat(logs.allText()).contains("IllegalStateException").doesNotContain("secret-ish detail");
    }
    assertSettledOnce(Settlement.COMMITTED);
    assertThat(ledger.balance("u1")).isEqualTo(97);
  }

  @Test
  void cancelStopsTheStreamSettlesOnceAndEndsWithCancelled() throws Exception {
    CountDownLatch firstToken = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    ChatGateway signalling = gateway(event -> {
      published.add(event);
      if (event instanceof ChatEvent.Token) {
        firstToken.countDown();
      }
    }).build();
    service.enqueue(SseResponses.paused(SESSION + TOKEN, release, TOKEN + TOKEN, 50, serverSawClose));
    try {
      BackgroundChat chat = signalling.chatInBackground(USER, ChatRequest.of("hi"));
      assertThat(firstToken.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();

      chat.cancel();
      chat.cancel();

      assertThat(last(chat)).isEqualTo(new ChatEvent.Failed(chat.id(), "u1", "c1", "cancelled",
          ErrorKind.CANCELLED.defaultMessage()));
      assertThat(chat.isDone()).isTrue();
    } finally {
      release.countDown();
    }
    assertThat(serverSawClose.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("the service saw the connection close").isTrue();
    assertThat(types()).containsExactly("started", "token", "failed");
    assertSettledOnce(Settlement.COMMITTED); // the token delivered before the cancel, as a relay whose browser left
    assertThat(ledger.balance("u1")).isLessThan(100);
  }

  @Test
  void aCancelAfterTheEndChangesNothing() throws Exception {
    service.enqueue(sse(SESSION + TOKEN + DONE));
    BackgroundChat chat = gateway.chatInBackground(USER, ChatRequest.of("hi"));
    ChatEvent last = last(chat);

    chat.cancel();

    assertThat(last(chat)).isEqualTo(last).isInstanceOf(ChatEvent.Completed.class);
    assertSettledOnce(Settlement.COMMITTED);
    assertThat(published).hasSize(3);
  }

  @Test
  void concurrentBackgroundChatsPublishEachTheirOwnEventsInOrderAndSettleEachOnce() throws Exception {
    int chats = 8;
    service.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return sse(SESSION + TOKEN + TOKEN + DONE);
      }
    });

    List<BackgroundChat> started = new ArrayList<>();
    for (int i = 0; i < chats; i++) {
      started.add(gateway.chatInBackground(USER, ChatRequest.of("hi " + i)));
    }
    for (BackgroundChat chat : started) {
      assertThat(last(chat)).isInstanceOf(ChatEvent.Completed.class);
    }

    Map<String, List<String>> byChat = published.stream().collect(
        Collectors.groupingBy(ChatEvent::chatId, Collectors.mapping(ChatEvent::type, Collectors.toList())));
    assertThat(byChat).hasSize(chats);
    assertThat(byChat.values()).allSatisfy(
        types -> assertThat(types).containsExactly("started", "token", "token", "completed"));
    assertThat(settlements).hasSize(chats).allSatisfy(e -> assertThat(e.settlement()).isEqualTo(Settlement.COMMITTED));
    assertThat(ledger.pendingCount()).isZero();
    assertThat(ledger.balance("u1")).isEqualTo(100 - 3 * chats);
  }

  @Test
  void aSessionStoreRecordsTheExchangeWithItsCredits() throws Exception {
    InMemorySessionStore store = InMemorySessionStore.create();
    ChatGateway recording = gateway(published::add).sessionStore(store).build();
    service.enqueue(sse(SESSION + TOKEN + DONE));

    last(recording.chatInBackground(USER, ChatRequest.of("in the background")));

    assertThat(store.find("s")).hasValueSatisfying(r -> {
      assertThat(r.isOwnedBy("u1", "c1")).isTrue();
      assertThat(r.title()).isEqualTo("in the background");
      assertThat(r.messageCount()).isEqualTo(2);
      assertThat(r.tokens()).isEqualTo(2000);
      assertThat(r.credits()).isEqualTo(3);
    });
  }

  @Test
  void theJsonOfEachEventHasItsStableShapeWithoutTheUser() {
    assertThat(new ChatEvent.Started("r1", "u1", "c1").toJson()).isEqualTo("{\"type\":\"started\",\"chat_id\":\"r1\"}");
    assertThat(new ChatEvent.Token("r1", "u1", "c1", "say \"hi\"\n\u00e9\u0001").toJson())
        .isEqualTo("{\"type\":\"token\",\"chat_id\":\"r1\",\"text\":\"say \\\"hi\\\"\\n\u00e9\\u0001\"}");
    assertThat(new ChatEvent.Completed("r1", "u1", "c1", "s", "all", 3).toJson())
        .isEqualTo("{\"type\":\"completed\",\"chat_id\":\"r1\",\"session_id\":\"s\",\"answer\":\"all\",\"credits\":3}");
    assertThat(new ChatEvent.Completed("r1", "u1", "c1", null, "all", 0).toJson())
        .isEqualTo("{\"type\":\"completed\",\"chat_id\":\"r1\",\"session_id\":null,\"answer\":\"all\",\"credits\":0}");
    assertThat(new ChatEvent.Failed("r1", "u1", "c1", "timeout", "Too slow.").toJson())
        .isEqualTo("{\"type\":\"failed\",\"chat_id\":\"r1\",\"code\":\"timeout\",\"message\":\"Too slow.\"}");
  }

  @Test
  void eventsRefuseMissingValuesByName() {
    assertThat(catchThrowable(() -> new ChatEvent.Token("r1", "u1", "c1", null)))
        .isInstanceOf(NullPointerException.class).hasMessage("text");
    assertThat(catchThrowable(() -> new ChatEvent.Completed("r1", "u1", "c1", null, "a", -1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("credits");
    assertThat(catchThrowable(() -> ChatGateway.builder().eventPublisher(null)))
        .isInstanceOf(NullPointerException.class).hasMessage("publisher");
  }
}
