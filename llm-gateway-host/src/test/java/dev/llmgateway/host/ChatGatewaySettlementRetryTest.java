package dev.llmgateway.host;

import static dev.llmgateway.testkit.SseResponses.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Operation;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.ChatGateway.WebhookOutcome;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A settlement the ledger could not write (its store failed) after the service answered is retried
 * off the request thread and never doubled; the caller keeps the answer; a completion webhook whose
 * settlement failed is answered 503 and its redelivery is charged once.
 */
class ChatGatewaySettlementRetryTest {
  private static final UserContext USER = ChatGatewayTest.USER;
  private static final String CHAT = ChatGatewayTest.CHAT;
  private static final String SESSION = ChatGatewayTest.SESSION;
  private static final String TOKEN = ChatGatewayTest.TOKEN;
  private static final String DONE = ChatGatewayTest.DONE;
  private static final WebhookSecret SECRET =
      WebhookSecret.ofBytes("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8));

  private final MockWebServer service = new MockWebServer();
  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final FailingLedger ledger = new FailingLedger(InMemoryCreditLedger.builder().clock(clock).build());
  private final List<Settlement> settlements = new CopyOnWriteArrayList<>();
  private final List<Reservation> abandoned = new CopyOnWriteArrayList<>();
  private final CountDownLatch settled = new CountDownLatch(1);
  private final CountDownLatch gaveUp = new CountDownLatch(1);
  private LlmGatewayClient client;

  @BeforeEach
  void setUp() throws IOException {
    service.start();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("t")
        .environment(n -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
    ledger.memory.deposit("u1", 100);
  }

  @AfterEach
  void tearDown() {
    client.close();
    service.close();
  }

  private ChatGateway.Builder gateway() {
    return ChatGateway.builder().client(client).ledger(ledger)
        .settlementListener(new SettlementListener() {
          @Override
          public void onSettlement(SettlementEvent event) {
            settlements.add(event.settlement());
            settled.countDown();
          }

          @Override
          public void onSettlementAbandoned(Reservation reservation) {
            abandoned.add(reservation);
            gaveUp.countDown();
          }
        });
  }

  private static void await(CountDownLatch latch) throws InterruptedException {
    assertThat(latch.await(10, TimeUnit.SECONDS)).as("in time (liveness only)").isTrue();
  }

  @Test
  void syncChatKeepsItsAnswerAndIsChargedOnceAfterTransientCommitFailures() throws Exception {
    for (int failures = 1; failures <= 3; failures++) {
      service.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
      settlements.clear();
      CountDownLatch committed = new CountDownLatch(1);
      ledger.commitFailures.set(failures);
      ledger.commitCalls.set(0);
      long before = ledger.memory.balance("u1");
      try (ChatGateway gateway = gateway().settlementRetry(5, Duration.ZERO)
          .settlementListener(e -> {
            settlements.add(e.settlement());
            committed.countDown();
          }).build()) {
        ChatResponse answer = gateway.chat(USER, ChatRequest.of("hi"));

        assertThat(answer.answer()).isEqualTo("ok");
        await(committed);
        assertThat(settlements).containsExactly(Settlement.COMMITTED);
        assertThat(ledger.commitCalls.get()).isEqualTo(failures + 1);
        assertThat(ledger.memory.balance("u1")).isEqualTo(before - 3); // 1 + 2 credits, once
        assertThat(ledger.memory.pendingCount()).isZero();
        assertThat(gateway.abandonedSettlements()).isZero();
      }
    }
  }

  @Test
  void whenEveryRetryFailsTheReservationStaysPendingTheHostIsToldAndTheReaperReleasesItOnce() throws Exception {
    service.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    ledger.commitFailures.set(Integer.MAX_VALUE);
    try (ChatGateway gateway = gateway().settlementRetry(2, Duration.ZERO).build()) {
      assertThat(gateway.chat(USER, ChatRequest.of("hi")).answer()).isEqualTo("ok");

      await(gaveUp);
      assertThat(ledger.commitCalls.get()).isEqualTo(3); // the first attempt and two retries
      assertThat(abandoned).hasSize(1);
      assertThat(gateway.abandonedSettlements()).isEqualTo(1);
      assertThat(settlements).isEmpty();
      assertThat(ledger.memory.pendingCount()).isEqualTo(1);
      assertThat(ledger.memory.balance("u1")).isEqualTo(90);

      clock.advance(InMemoryCreditLedger.DEFAULT_LEASE.plusSeconds(1));
      assertThat(ledger.memory.releaseExpired()).isEqualTo(1);
      assertThat(ledger.memory.releaseExpired()).isZero();
      assertThat(ledger.memory.balance("u1")).isEqualTo(100);
      assertThat(ledger.memory.pendingCount()).isZero();
    }
  }

  @Test
  void aRelayedStreamEndsNormallyAndItsSettlementIsRetriedAndChargedOnce() throws Exception {
    service.enqueue(sse(SESSION + TOKEN + DONE));
    ledger.commitFailures.set(2);
    try (ChatGateway gateway = gateway().settlementRetry(5, Duration.ZERO).build()) {
      ByteArrayOutputStream browser = new ByteArrayOutputStream();
      RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> browser);

      assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
      assertThat(browser.toString(StandardCharsets.UTF_8)).contains("\"type\":\"done\"").doesNotContain("\"error\"");
      await(settled);
      assertThat(settlements).containsExactly(Settlement.COMMITTED);
      assertThat(ledger.commitCalls.get()).isEqualTo(3);
      assertThat(ledger.memory.balance("u1")).isEqualTo(97);
      assertThat(ledger.memory.pendingCount()).isZero();
    }
  }

  @Test
  void aFailedCallWhoseReleaseFailsThrowsTheCallsErrorAndTheReleaseIsRetried() throws Exception {
    service.enqueue(new MockResponse.Builder().code(503).build());
    ledger.releaseFailures.set(1);
    try (ChatGateway gateway = gateway().settlementRetry(5, Duration.ZERO).build()) {
      assertThat(catchThrowable(() -> gateway.chat(USER, ChatRequest.of("hi"))))
          .isInstanceOf(ServiceUnavailableException.class);

      await(settled);
      assertThat(settlements).containsExactly(Settlement.RELEASED);
      assertThat(ledger.memory.balance("u1")).isEqualTo(100);
      assertThat(ledger.memory.pendingCount()).isZero();
    }
  }

  @Test
  void aWebhookWhoseSettlementFailsIsAnswered503AndItsRedeliveryIsChargedOnce() {
    LlmGatewayClient sandbox = LlmGatewayClient.builder().sandbox(true).environment(n -> null)
        .auditSink(AuditSink.none()).build();
    StreamTokenIssuer issuer = StreamTokenIssuer.builder()
        .keys(JwtKeySet.of("k1", "stream-token-secret-of-32-bytes-at-least")).serviceBaseUrl("http://service.test")
        .clock(clock).environment(n -> null).build();
    WebhookSigner signer = WebhookSigner.of(SECRET);
    try (sandbox; ChatGateway gateway = gateway().client(sandbox).streamTokens(issuer)
        .webhooks(WebhookVerifier.builder().secret(SECRET).clock(clock).build()).build()) {
      StreamToken token = gateway.initDirectStream(USER, ChatRequest.of("hi"));
      byte[] body = completion(token.requestId());
      Map<String, String> headers = signer.headers("msg_a", clock.instant(), body);
      ledger.commitFailures.set(1);

      Throwable failed = catchThrowable(() -> gateway.handleCompletionWebhook(headers::get, body));

      assertThat(failed).isInstanceOf(StateStoreException.class);
      assertThat(ErrorMapper.ofDefaults().toResponse(failed).status()).isEqualTo(503);
      assertThat(ledger.memory.pendingCount()).isEqualTo(1);
      assertThat(gateway.handleCompletionWebhook(headers::get, body)).isEqualTo(WebhookOutcome.COMMITTED);
      assertThat(gateway.handleCompletionWebhook(headers::get, body)).isEqualTo(WebhookOutcome.DUPLICATE);
      assertThat(settlements).containsExactly(Settlement.COMMITTED);
      assertThat(ledger.memory.balance("u1")).isEqualTo(97);
      assertThat(ledger.commitCalls.get()).isEqualTo(2); // the webhook path is not retried in the background
    }
  }

  @Test
  void closeStopsTheRetryThreadAndAbandonsWhatWaits() throws Exception {
    service.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    ledger.commitFailures.set(Integer.MAX_VALUE);
    ChatGateway gateway = gateway().settlementRetry(5, Duration.ofMinutes(1)).build();
    assertThat(gateway.chat(USER, ChatRequest.of("hi")).answer()).isEqualTo("ok");
    Optional<Thread> retryThread = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals(SettlementRetries.THREAD_NAME)).findFirst();
    assertThat(retryThread).isPresent();

    gateway.close();

    retryThread.get().join(10_000);
    assertThat(retryThread.get().isAlive()).isFalse();
    assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals(SettlementRetries.THREAD_NAME));
    assertThat(gateway.abandonedSettlements()).isEqualTo(1);
    assertThat(abandoned).as("the listener is told, as for a settlement whose retries failed").hasSize(1);
    assertThat(ledger.commitCalls.get()).isEqualTo(1);
    assertThat(ledger.memory.pendingCount()).isEqualTo(1); // for the reaper
    gateway.close(); // idempotent
    assertThat(abandoned).hasSize(1);
  }

  @Test
  void settlementRetrySettingsOutOfRangeAreRefusedWithTheirName() {
    assertThat(catchThrowable(() -> ChatGateway.builder().settlementRetry(-1, Duration.ZERO)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attempts");
    assertThat(catchThrowable(() -> ChatGateway.builder().settlementRetry(101, Duration.ZERO)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attempts");
    assertThat(catchThrowable(() -> ChatGateway.builder().settlementRetry(1, Duration.ofSeconds(-1))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("backoff");
    assertThat(catchThrowable(() -> ChatGateway.builder().settlementRetry(1, Duration.ofMinutes(2))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("backoff");
  }

  private static byte[] completion(String requestId) {
    return ("{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"" + requestId + "\","
        + "\"session_id\":\"sess_1\",\"message_id\":\"msg_1\",\"user_id\":\"u1\",\"company_id\":\"c1\","
        + "\"status\":\"completed\",\"finish_reason\":\"stop\","
        + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000},"
        + "\"completed_at\":\"2026-11-20T10:05:00Z\"}}").getBytes(StandardCharsets.UTF_8);
  }

  /** The host's ledger SPI around a real in-memory ledger, whose store fails the first N settlements. */
  static final class FailingLedger implements CreditLedger {
    final InMemoryCreditLedger memory;
    final AtomicInteger commitFailures = new AtomicInteger();
    final AtomicInteger releaseFailures = new AtomicInteger();
    final AtomicInteger commitCalls = new AtomicInteger();
    final AtomicInteger reserveFailures = new AtomicInteger();

    FailingLedger(InMemoryCreditLedger memory) {
      this.memory = memory;
    }

    @Override
    public Reservation reserve(UserContext user, Operation operation, long estimatedCredits,
        @Nullable String requestId) {
      if (reserveFailures.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
        throw new StateStoreException("Credit ledger: reserve failed (test)", requestId, null);
      }
      return memory.reserve(user, operation, estimatedCredits, requestId);
    }

    @Override
    public Settlement commit(Reservation reservation, long credits) {
      commitCalls.incrementAndGet();
      failIfAsked(commitFailures, reservation);
      return memory.commit(reservation, credits);
    }

    @Override
    public Settlement release(Reservation reservation, String reason) {
      failIfAsked(releaseFailures, reservation);
      return memory.release(reservation, reason);
    }

    @Override
    public Optional<Reservation> findByRequestId(String requestId) {
      return memory.findByRequestId(requestId);
    }

    private static void failIfAsked(AtomicInteger failures, Reservation reservation) {
      if (failures.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
        throw new StateStoreException("Credit ledger: settle failed (test)", reservation.requestId(), null);
      }
    }
  }
}
