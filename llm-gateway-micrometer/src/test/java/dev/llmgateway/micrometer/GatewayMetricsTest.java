package dev.llmgateway.micrometer;

import static dev.llmgateway.testkit.SseResponses.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditSink;
import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallInfo;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.CircuitOpenException;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.ConcurrencyLimitExceededException;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Operation;
import dev.llmgateway.RequestValidator;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.ChatPolicy;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.ForbiddenException;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.InsufficientCreditsException;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimitExceededException;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.host.RelayResult;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.host.StateStoreException;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.testkit.SseResponses;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each meter and its tags after real calls: a client and a {@link ChatGateway} on a
 * MockWebServer, an in-memory ledger on a fake clock, an in-memory rate limiter. After every test,
 * every meter's tags are checked to be of the few known keys and values: never a user id, company
 * id, request id or query.
 */
class GatewayMetricsTest {
  private static final String USER_ID = "user-4711";
  private static final String COMPANY_ID = "company-0815";
  private static final String QUERY = "what is the salary of candidate 9876";
  private static final UserContext USER =
      UserContext.builder().userId(USER_ID).companyId(COMPANY_ID).role("recruiter").build();
  private static final String CHAT = "{\"session_id\":\"s\",\"message_id\":\"m\",\"intent\":\"chat\",\"answer\":\"ok\","
      + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":200,\"total_tokens\":1200}}";
  private static final String SESSION = "data: {\"type\":\"session\",\"session_id\":\"s\",\"message_id\":\"m\"}\n\n";
  private static final String TOKEN = "data: {\"type\":\"token\",\"content\":\"word \"}\n\n";
  private static final String DONE = "data: {\"type\":\"done\",\"finish_reason\":\"stop\","
      + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":200,\"total_tokens\":1200}}\n\ndata: [DONE]\n\n";
  private static final long ESTIMATE = 10;
  /** A query one character over the validator's default bound: refused with a 422. */
  private static final String TOO_LONG = "x".repeat(RequestValidator.DEFAULT_MAX_QUERY_LENGTH + 1);

  /** The tag keys the meters may have, and the values each may take. */
  private static final Map<String, Set<String>> ALLOWED_TAGS = Map.of(
      "operation", Set.of("chat", "chat_stream", "list_sessions", "get_session", "delete_session"),
      "outcome", Set.of("success", "error", "cancelled", "timeout"),
      "status", Set.of("none", "1xx", "2xx", "3xx", "4xx", "5xx"),
      "type", Set.of("input", "output"),
      "from", Set.of("closed", "open", "half_open", "disabled"),
      "to", Set.of("closed", "open", "half_open", "disabled"),
      "state", Set.of("closed", "open", "half_open", "disabled"),
      "reason", Set.of("forbidden", "invalid", "rate_limited", "insufficient_credits", "store_failure", "other"),
      "result", Set.of("committed", "released", "already_committed", "expired", "unknown", "abandoned"));

  private final MockWebServer service = new MockWebServer();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final InMemoryCreditLedger ledger =
      InMemoryCreditLedger.builder().clock(clock).lease(Duration.ofMinutes(1)).build();
  private final GatewayMetrics metrics = GatewayMetrics.builder(registry).build();
  private final HostMetrics host = metrics.host();
  private LlmGatewayClient client;
  private ChatGateway gateway;

  @BeforeEach
  void setUp() throws IOException {
    service.start();
    client = client(RetryPolicy.none(), CircuitBreaker.builder().failureThreshold(1000).build());
    ledger.deposit(USER_ID, 100);
    gateway = gateway(ledger, 100).build();
  }

  private LlmGatewayClient client(RetryPolicy retries, CircuitBreaker breaker) {
    return LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("t")
        .environment(n -> null).retryPolicy(retries).auditSink(AuditSink.none())
        .circuitBreaker(breaker)
        .sleeper(duration -> {}) // retries without waiting
        .listenerFactory(metrics.listenerFactory())
        .listener(metrics.listener())
        .build();
  }

  private ChatGateway.Builder gateway(CreditLedger credits, int callsPerMinute) {
    return ChatGateway.builder().client(client)
        .ledger(credits)
        .rateLimiter(InMemoryRateLimiter.create(
            RateLimits.builder().calls(RateLimit.perMinute(callsPerMinute)).build()))
        .estimate(request -> ESTIMATE)
        .settlementListener(host.settlementListener());
  }

  @AfterEach
  void tearDown() {
    gateway.close();
    client.close();
    service.close();
    everyTagIsOneOfTheFewKnownValues();
  }

  /** No meter carries a user id, company id, request id or query: only the known keys and values. */
  private void everyTagIsOneOfTheFewKnownValues() {
    for (Meter meter : registry.getMeters()) {
      Meter.Id id = meter.getId();
      assertThat(id.getName()).startsWith("llm.gateway.").matches("[a-z.]+");
      for (Tag tag : id.getTags()) {
        assertThat(tag.getValue()).as("%s", id)
            .doesNotContain(USER_ID).doesNotContain(COMPANY_ID).doesNotContain("salary")
            .doesNotMatch(".*[0-9a-f]{8}-[0-9a-f]{4}-.*");
        if (tag.getKey().equals("exception")) {
          assertThat(tag.getValue()).as("%s", id).matches("none|[A-Z][A-Za-z]*Exception");
        } else {
          assertThat(ALLOWED_TAGS).as("tag key of %s", id).containsKey(tag.getKey());
          assertThat(ALLOWED_TAGS.get(tag.getKey())).as("%s", id).contains(tag.getValue());
        }
      }
    }
  }

  private Timer timer(String name, String... tags) {
    return registry.get(name).tags(tags).timer();
  }

  private double count(String name, String... tags) {
    return registry.get(name).tags(tags).counter().count();
  }

  /** The sum of every {@value GatewayMetrics#REFUSALS} counter, whatever its tags. */
  private double allRefusals() {
    return registry.find(GatewayMetrics.REFUSALS).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  private void assertNoCallWasMade() {
    assertThat(registry.find(GatewayMetrics.CALLS).timer()).as("no call was made").isNull();
    assertThat(service.getRequestCount()).isZero();
  }

  private double gauge(String name, String... tags) {
    return registry.get(name).tags(tags).gauge().value();
  }

  private static MockResponse ok(String body) {
    return new MockResponse.Builder().code(200).body(body).build();
  }

  private static MockResponse status(int code) {
    return new MockResponse.Builder().code(code).build();
  }

  @Test
  void aSyncChatIsTimedWithItsAttemptTokensReservationAndCommit() {
    service.enqueue(ok(CHAT));

    gateway.chat(USER, ChatRequest.of(QUERY));

    Timer calls = timer(GatewayMetrics.CALLS, "operation", "chat", "outcome", "success", "exception", "none");
    assertThat(calls.count()).isEqualTo(1);
    assertThat(calls.totalTime(TimeUnit.NANOSECONDS)).isPositive();
    assertThat(timer(GatewayMetrics.ATTEMPTS, "operation", "chat", "status", "2xx").count()).isEqualTo(1);
    assertThat(count(GatewayMetrics.TOKENS, "operation", "chat", "type", "input")).isEqualTo(1000);
    assertThat(count(GatewayMetrics.TOKENS, "operation", "chat", "type", "output")).isEqualTo(200);
    assertThat(count(GatewayMetrics.CREDIT_RESERVATIONS, "operation", "chat")).isEqualTo(1);
    assertThat(count(GatewayMetrics.CREDITS_RESERVED, "operation", "chat")).isEqualTo(ESTIMATE);
    assertThat(count(HostMetrics.CREDIT_SETTLEMENTS, "result", "committed")).isEqualTo(1);
    assertThat(count(HostMetrics.CREDIT_SETTLEMENTS, "result", "released")).isZero();
    assertThat(count(HostMetrics.CREDITS_CHARGED)).isEqualTo(100 - ledger.balance(USER_ID)).isPositive();
    assertThat(registry.find(GatewayMetrics.FIRST_EVENT).timer()).as("a chat has no first event").isNull();
    assertThat(registry.find(GatewayMetrics.RETRIES).counter()).isNull();
    assertThat(gauge(GatewayMetrics.ACTIVE_STREAMS)).isZero();
  }

  @Test
  void aRelayedStreamIsActiveWhileItRunsAndRecordsItsTimeToFirstEvent() {
    service.enqueue(sse(SESSION + TOKEN + DONE));
    AtomicReference<Double> activeAtFirstEvent = new AtomicReference<>();

    RelayResult result = gateway.stream(USER, ChatRequest.of(QUERY), headers -> {
      activeAtFirstEvent.set(gauge(GatewayMetrics.ACTIVE_STREAMS));
      return new ByteArrayOutputStream();
    });

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(activeAtFirstEvent.get()).isEqualTo(1.0);
    assertThat(gauge(GatewayMetrics.ACTIVE_STREAMS)).isZero();
    assertThat(metrics.activeStreams()).isZero();
    assertThat(timer(GatewayMetrics.CALLS, "operation", "chat_stream", "outcome", "success", "exception", "none")
        .count()).isEqualTo(1);
    assertThat(timer(GatewayMetrics.FIRST_EVENT, "operation", "chat_stream").count()).isEqualTo(1);
    assertThat(timer(GatewayMetrics.ATTEMPTS, "operation", "chat_stream", "status", "2xx").count()).isEqualTo(1);
    assertThat(count(GatewayMetrics.TOKENS, "operation", "chat_stream", "type", "output")).isEqualTo(200);
    assertThat(count(GatewayMetrics.CREDIT_RESERVATIONS, "operation", "chat_stream")).isEqualTo(1);
    assertThat(count(HostMetrics.CREDIT_SETTLEMENTS, "result", "committed")).isEqualTo(1);
    assertThat(count(GatewayMetrics.RELAY_DISCONNECTS)).isZero();
  }

  @Test
  void aRetriedCallCountsEachAttemptAndTheRetryButOneCall() {
    client.close();
    client = client(RetryPolicy.builder().maxRetries(2).build(), CircuitBreaker.builder().failureThreshold(1000).build());
    service.enqueue(status(503));
    service.enqueue(ok(CHAT));

    client.chat(ChatRequest.of(QUERY), USER);

    assertThat(timer(GatewayMetrics.CALLS, "operation", "chat", "outcome", "success", "exception", "none").count())
        .isEqualTo(1);
    assertThat(timer(GatewayMetrics.ATTEMPTS, "operation", "chat", "status", "5xx").count()).isEqualTo(1);
    assertThat(timer(GatewayMetrics.ATTEMPTS, "operation", "chat", "status", "2xx").count()).isEqualTo(1);
    assertThat(count(GatewayMetrics.RETRIES, "operation", "chat", "exception", "ServiceUnavailableException"))
        .isEqualTo(1);
    assertThat(registry.find(GatewayMetrics.CREDIT_RESERVATIONS).counter())
        .as("a client call outside the gateway reserves nothing").isNull();
  }

  @Test
  void aFailedCallIsCountedByOutcomeAndExceptionAndItsCreditsReleased() {
    service.enqueue(status(503));

    assertThat(catchThrowable(() -> gateway.chat(USER, ChatRequest.of(QUERY))))
        .isInstanceOf(ServiceUnavailableException.class);

    assertThat(timer(GatewayMetrics.CALLS, "operation", "chat", "outcome", "error",
        "exception", "ServiceUnavailableException").count()).isEqualTo(1);
    assertThat(registry.find(GatewayMetrics.CALLS).tag("outcome", "success").timer()).isNull();
    assertThat(timer(GatewayMetrics.ATTEMPTS, "operation", "chat", "status", "5xx").count()).isEqualTo(1);
    assertThat(count(HostMetrics.CREDIT_SETTLEMENTS, "result", "released")).isEqualTo(1);
    assertThat(count(HostMetrics.CREDITS_CHARGED)).isZero();
  }

  @Test
  void aCallOverTheRateLimitIsCountedAsARefusalAndNotAsACall() {
    gateway.close();
    gateway = gateway(ledger, 1).build();
    service.enqueue(ok(CHAT));
    gateway.chat(USER, ChatRequest.of(QUERY));

    assertThatThrownBy(() -> gateway.chat(USER, ChatRequest.of(QUERY))).isInstanceOf(RateLimitExceededException.class);

    assertThat(count(GatewayMetrics.REFUSALS, "operation", "chat", "reason", "rate_limited")).isEqualTo(1);
    assertThat(allRefusals()).as("counted once").isEqualTo(1);
    assertThat(registry.get(GatewayMetrics.CALLS).timers()).singleElement()
        .satisfies(t -> assertThat(t.count()).isEqualTo(1));
    assertThat(count(GatewayMetrics.CREDIT_RESERVATIONS, "operation", "chat")).isEqualTo(1);
  }

  @Test
  void aCallTheUserCannotPayForIsCountedAsARefusal() {
    InMemoryCreditLedger poor = InMemoryCreditLedger.create();
    poor.deposit(USER_ID, ESTIMATE - 1);
    gateway.close();
    gateway = gateway(poor, 100).build();

    assertThatThrownBy(() -> gateway.stream(USER, ChatRequest.of(QUERY), headers -> new ByteArrayOutputStream()))
        .isInstanceOf(InsufficientCreditsException.class);

    assertThat(count(GatewayMetrics.REFUSALS, "operation", "chat_stream", "reason", "insufficient_credits"))
        .isEqualTo(1);
    assertThat(allRefusals()).as("counted once").isEqualTo(1);
    assertThat(registry.find(GatewayMetrics.CALLS).timer()).isNull();
    assertThat(gauge(GatewayMetrics.ACTIVE_STREAMS)).isZero();
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void aRequestTheHostsPolicyRefusesIsCountedAsAForbiddenRefusal() {
    gateway.close();
    gateway = gateway(ledger, 100).policy(ChatPolicy.denyByDefault()).build();

    assertThatThrownBy(() -> gateway.listSessions(USER, 10, null)).isInstanceOf(ForbiddenException.class);

    assertThat(count(GatewayMetrics.REFUSALS, "operation", "list_sessions", "reason", "forbidden")).isEqualTo(1);
    assertThat(allRefusals()).as("counted once").isEqualTo(1);
    assertNoCallWasMade();
  }

  @Test
  void aChatGatewaysValidationRateLimitAndCreditRefusalsAreEachCountedOnceWithTheirReason() {
    InMemoryCreditLedger poor = InMemoryCreditLedger.create();
    poor.deposit(USER_ID, ESTIMATE - 1);
    gateway.close();
    gateway = gateway(poor, 1).build();

    // 422: validation comes first and takes nothing from the rate limit.
    assertThatThrownBy(() -> gateway.chat(USER, ChatRequest.of(TOO_LONG))).isInstanceOf(ValidationException.class);
    // 402: passes the limit (its one call a minute), then cannot pay.
    assertThatThrownBy(() -> gateway.stream(USER, ChatRequest.of(QUERY), headers -> new ByteArrayOutputStream()))
        .isInstanceOf(InsufficientCreditsException.class);
    // 429: the limit is used up.
    assertThatThrownBy(() -> gateway.chat(USER, ChatRequest.of(QUERY))).isInstanceOf(RateLimitExceededException.class);

    assertThat(count(GatewayMetrics.REFUSALS, "operation", "chat", "reason", "invalid")).isEqualTo(1);
    assertThat(count(GatewayMetrics.REFUSALS, "operation", "chat_stream", "reason", "insufficient_credits"))
        .isEqualTo(1);
    assertThat(count(GatewayMetrics.REFUSALS, "operation", "chat", "reason", "rate_limited")).isEqualTo(1);
    assertThat(allRefusals()).as("each refusal counted exactly once").isEqualTo(3);
    assertNoCallWasMade();
  }

  @Test
  void aRefusalByTheClientsOwnValidationIsCountedOnce() {
    assertThatThrownBy(() -> client.chat(ChatRequest.of(TOO_LONG), USER)).isInstanceOf(ValidationException.class);

    assertThat(count(GatewayMetrics.REFUSALS, "operation", "chat", "reason", "invalid")).isEqualTo(1);
    assertThat(allRefusals()).as("counted once").isEqualTo(1);
    assertNoCallWasMade();
  }

  @Test
  void aCreditStoreFailingAtReservationIsCountedAsAStoreFailure() {
    CreditLedger down = new CreditLedger() {
      @Override
      public Reservation reserve(UserContext user, Operation operation, long credits, @Nullable String requestId) {
        // A store's own subclass, as llm-gateway-jdbc's CreditStoreException is.
        throw new StateStoreException("store down", requestId, null) {};
      }

      @Override
      public Settlement commit(Reservation reservation, long credits) {
        throw new AssertionError("nothing was reserved");
      }

      @Override
      public Settlement release(Reservation reservation, String reason) {
        throw new AssertionError("nothing was reserved");
      }

      @Override
      public Optional<Reservation> findByRequestId(String requestId) {
        return Optional.empty();
      }
    };
    gateway.close();
    gateway = gateway(down, 100).build();

    assertThatThrownBy(() -> gateway.chat(USER, ChatRequest.of(QUERY))).isInstanceOf(StateStoreException.class);

    assertThat(count(GatewayMetrics.REFUSALS, "operation", "chat", "reason", "store_failure")).isEqualTo(1);
    assertThat(allRefusals()).as("counted once").isEqualTo(1);
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void aRefusalOfAnyOtherKindIsCountedAsOtherNeverByItsMessage() {
    metrics.listener().callRefused(Operation.GET_SESSION,
        new ConcurrencyLimitExceededException(4, Duration.ZERO, "req-" + USER_ID));

    assertThat(count(GatewayMetrics.REFUSALS, "operation", "get_session", "reason", "other")).isEqualTo(1);
    assertThat(allRefusals()).isEqualTo(1);
  }

  @Test
  void aRelayWhoseBrowserLeftIsCountedAsADisconnectAndACancelledCall() {
    service.enqueue(sse(SESSION + TOKEN + DONE));

    RelayResult result = gateway.stream(USER, ChatRequest.of(QUERY), headers -> {
      throw new IOException("the browser went away");
    });

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    assertThat(count(GatewayMetrics.RELAY_DISCONNECTS)).isEqualTo(1);
    assertThat(timer(GatewayMetrics.CALLS, "operation", "chat_stream", "outcome", "cancelled",
        "exception", "CallCancelledException").count()).isEqualTo(1);
    assertThat(gauge(GatewayMetrics.ACTIVE_STREAMS)).isZero();
    assertThat(count(HostMetrics.CREDIT_SETTLEMENTS, "result", "released")).isEqualTo(1);
  }

  @Test
  void aStreamCancelledByItsCallerIsNoRelayDisconnectAndLeavesNoActiveStream() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    service.enqueue(SseResponses.stalled(SESSION + TOKEN, release));
    try {
      ChatStream stream = client.chatStream(ChatRequest.of(QUERY), USER);
      Iterator<StreamEvent> events = stream.iterator();
      assertThat(events.hasNext()).isTrue();
      events.next();
      assertThat(gauge(GatewayMetrics.ACTIVE_STREAMS)).isEqualTo(1.0);

      stream.cancel();
      assertThat(catchThrowable(() -> {
        while (events.hasNext()) {
          events.next();
        }
      })).isInstanceOf(CallCancelledException.class);
      stream.close();
    } finally {
      release.countDown();
    }

    assertThat(gauge(GatewayMetrics.ACTIVE_STREAMS)).isZero();
    assertThat(timer(GatewayMetrics.CALLS, "operation", "chat_stream", "outcome", "cancelled",
        "exception", "CallCancelledException").count()).isEqualTo(1);
    assertThat(count(GatewayMetrics.RELAY_DISCONNECTS)).as("not a gateway relay").isZero();
  }

  @Test
  void aBreakerOpeningIsCountedAndItsStateGaugeFollowsIt() {
    client.close();
    client = client(RetryPolicy.none(), CircuitBreaker.builder().failureThreshold(2).build());
    metrics.monitor(client.circuitBreaker());
    assertThat(gauge(GatewayMetrics.CIRCUIT_STATE, "state", "closed")).isEqualTo(1.0);
    service.enqueue(status(503));
    service.enqueue(status(503));

    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> client.chat(ChatRequest.of(QUERY), USER))
          .isInstanceOf(ServiceUnavailableException.class);
    }
    assertThatThrownBy(() -> client.chat(ChatRequest.of(QUERY), USER)).isInstanceOf(CircuitOpenException.class);

    assertThat(count(GatewayMetrics.CIRCUIT_TRANSITIONS, "from", "closed", "to", "open")).isEqualTo(1);
    assertThat(gauge(GatewayMetrics.CIRCUIT_STATE, "state", "open")).isEqualTo(1.0);
    assertThat(gauge(GatewayMetrics.CIRCUIT_STATE, "state", "closed")).isZero();
    assertThat(timer(GatewayMetrics.CALLS, "operation", "chat", "outcome", "error",
        "exception", "CircuitOpenException").count()).isEqualTo(1);
    assertThat(timer(GatewayMetrics.ATTEMPTS, "operation", "chat", "status", "5xx").count()).isEqualTo(2);
  }

  @Test
  void aReservationThatOutlivedItsLeaseIsCountedAsExpired() {
    service.enqueue(sse(SESSION + TOKEN + DONE));

    RelayResult result = gateway.stream(USER, ChatRequest.of(QUERY), headers -> {
      // The stream runs past its one-minute lease: the reaper releases the reservation meanwhile.
      clock.advance(Duration.ofMinutes(2));
      assertThat(ledger.releaseExpired()).isEqualTo(1);
      return new ByteArrayOutputStream();
    });

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(count(HostMetrics.CREDIT_SETTLEMENTS, "result", "expired")).isEqualTo(1);
    assertThat(count(HostMetrics.CREDIT_SETTLEMENTS, "result", "committed")).isZero();
    assertThat(count(HostMetrics.CREDITS_CHARGED)).isZero();
  }

  @Test
  void aSettlementGivenUpAfterStoreFailuresIsCountedAsAbandoned() throws Exception {
    AtomicBoolean storeDown = new AtomicBoolean(true);
    CreditLedger failing = new CreditLedger() {
      @Override
      public Reservation reserve(UserContext user, Operation operation, long credits, @Nullable String requestId) {
        return ledger.reserve(user, operation, credits, requestId);
      }

      @Override
      public Settlement commit(Reservation reservation, long credits) {
        if (storeDown.get()) {
          throw new StateStoreException("store down", reservation.requestId(), null);
        }
        return ledger.commit(reservation, credits);
      }

      @Override
      public Settlement release(Reservation reservation, String reason) {
        return ledger.release(reservation, reason);
      }

      @Override
      public Optional<Reservation> findByRequestId(String requestId) {
        return ledger.findByRequestId(requestId);
      }
    };
    gateway.close();
    CountDownLatch gaveUp = new CountDownLatch(1);
    gateway = gateway(failing, 100).settlementRetry(1, Duration.ZERO)
        .settlementListener(new dev.llmgateway.host.SettlementListener() {
          @Override
          public void onSettlement(dev.llmgateway.host.SettlementEvent event) {
            host.settlementListener().onSettlement(event);
          }

          @Override
          public void onSettlementAbandoned(Reservation reservation) {
            host.settlementListener().onSettlementAbandoned(reservation);
            gaveUp.countDown();
          }
        }).build();
    service.enqueue(ok(CHAT));

    gateway.chat(USER, ChatRequest.of(QUERY));
    assertThat(gaveUp.await(10, TimeUnit.SECONDS)).as("in time (liveness only)").isTrue();

    assertThat(count(HostMetrics.CREDIT_SETTLEMENTS, "result", "abandoned")).isEqualTo(1);
    assertThat(count(HostMetrics.CREDIT_SETTLEMENTS, "result", "committed")).isZero();
  }

  @Test
  void metersAreRegisteredOnceAndReusedAcrossCalls() {
    for (int i = 0; i < 3; i++) {
      service.enqueue(ok(CHAT));
      gateway.chat(USER, ChatRequest.of(QUERY + i));
    }

    assertThat(registry.get(GatewayMetrics.CALLS).timers()).singleElement()
        .satisfies(t -> assertThat(t.count()).isEqualTo(3));
    assertThat(count(GatewayMetrics.CREDIT_RESERVATIONS, "operation", "chat")).isEqualTo(3);
  }

  @Test
  void callsOtherThanStreamsShareTheirOperationsListenerWhileEachStreamGetsItsOwn() {
    GatewayListener.Factory factory = metrics.listenerFactory();
    CallInfo chat = new CallInfo("r1", Operation.CHAT, "POST", "/chat", USER_ID, COMPANY_ID, "q");
    CallInfo otherChat = new CallInfo("r2", Operation.CHAT, "POST", "/chat", USER_ID, COMPANY_ID, "q");
    CallInfo list = new CallInfo("r3", Operation.LIST_SESSIONS, "GET", "/sessions", USER_ID, COMPANY_ID, "");
    CallInfo stream = new CallInfo("r4", Operation.CHAT_STREAM, "POST", "/chat/stream", USER_ID, COMPANY_ID, "q");

    // Nothing allocated per sync call: the listener keeps no state of its own.
    assertThat(factory.create(chat)).isSameAs(factory.create(otherChat));
    assertThat(factory.create(list)).isNotSameAs(factory.create(chat));
    // A stream counts itself among the active streams until it ends: its own state.
    assertThat(factory.create(stream)).isNotSameAs(factory.create(stream));

    // Two sync calls through the one shared listener, overlapping, are two calls.
    GatewayListener first = factory.create(chat);
    GatewayListener second = factory.create(otherChat);
    first.callStart(chat);
    second.callStart(otherChat);
    first.callEnd(chat, Duration.ofMillis(5), null);
    second.callEnd(otherChat, Duration.ofMillis(7), null);
    assertThat(registry.get(GatewayMetrics.CALLS).tag("operation", "chat").timer().count()).isEqualTo(2);
    assertThat(metrics.activeStreams()).isZero();
  }

  @Test
  void commonTagsAndTheHistogramAreApplied() {
    gateway.close();
    client.close();
    GatewayMetrics tagged = GatewayMetrics.builder(registry).tags(Tags.of("client", "search"))
        .percentileHistogram(true).serviceLevelObjectives(Duration.ofSeconds(1)).build();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("t")
        .environment(n -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none())
        .listenerFactory(tagged.listenerFactory()).build();
    gateway = ChatGateway.builder().client(client).ledger(ledger).build();
    service.enqueue(ok(CHAT));

    client.chat(ChatRequest.of(QUERY), USER);

    Timer calls = registry.get(GatewayMetrics.CALLS).tag("client", "search").timer();
    assertThat(calls.count()).isEqualTo(1);
    assertThat(calls.takeSnapshot().histogramCounts()).isNotEmpty();
    registry.remove(calls); // "client" is this test's own key, not one of the module's
    registry.getMeters().stream().filter(m -> m.getId().getTag("client") != null).forEach(registry::remove);
  }

  @Test
  void builderRefusesBadInputByName() {
    assertThatThrownBy(() -> GatewayMetrics.builder(null)).hasMessageContaining("registry");
    assertThatThrownBy(() -> GatewayMetrics.builder(registry).serviceLevelObjectives(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("objectives");
    assertThatThrownBy(() -> metrics.monitor(null)).hasMessageContaining("breaker");
  }
}
