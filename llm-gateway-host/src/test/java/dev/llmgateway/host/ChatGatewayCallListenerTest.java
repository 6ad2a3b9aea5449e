package dev.llmgateway.host;

import static dev.llmgateway.testkit.SseResponses.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.CallInfo;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.CreditSettlement;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.Usage;
import dev.llmgateway.UserContext;
import dev.llmgateway.testkit.MutableClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The listener the client creates for a call also hears of the credits {@link ChatGateway}
 * reserved for it and of their settlement, exactly once, whatever the call's end; the gateway's
 * {@link SettlementListener} keeps working beside it.
 */
class ChatGatewayCallListenerTest extends MockServerTest {
  private static final UserContext USER = ChatGatewayTest.USER;
  private static final String CHAT = ChatGatewayTest.CHAT;
  private static final String SESSION = ChatGatewayTest.SESSION;
  private static final String TOKEN = ChatGatewayTest.TOKEN;
  private static final String DONE = ChatGatewayTest.DONE;
  /** 1,000 prompt and 1,000 completion tokens at the default pricing. */
  private static final long CHARGE = 3;
  private static final long ESTIMATE = 10;

  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final ChatGatewaySettlementRetryTest.FailingLedger ledger = new ChatGatewaySettlementRetryTest.FailingLedger(
      InMemoryCreditLedger.builder().clock(clock).lease(Duration.ofMinutes(1)).build());
  private final List<Settlement> settlements = new CopyOnWriteArrayList<>();
  private final List<Calls> created = new CopyOnWriteArrayList<>();
  private ChatGateway gateway;

  @Override
  LlmGatewayClient.Builder clientBuilder() {
    return super.clientBuilder().retryPolicy(RetryPolicy.none()).listenerFactory(call -> {
      Calls own = new Calls(call);
      created.add(own);
      return own;
    });
  }

  @BeforeEach
  void setUp() {
    ledger.memory.deposit("u1", 100);
    gateway = gateway().build();
  }

  private ChatGateway.Builder gateway() {
    return ChatGateway.builder().client(client).ledger(ledger)
        .settlementListener(e -> settlements.add(e.settlement()));
  }

  /** Records settlements in {@link #settlements} and passes abandoned reservations on. */
  private SettlementListener settlementsAnd(java.util.function.Consumer<Reservation> abandoned) {
    return new SettlementListener() {
      @Override
      public void onSettlement(SettlementEvent event) {
        settlements.add(event.settlement());
      }

      @Override
      public void onSettlementAbandoned(Reservation reservation) {
        abandoned.accept(reservation);
      }
    };
  }

  @AfterEach
  void closeGateway() {
    gateway.close();
  }

  private Calls only() {
    assertThat(created).hasSize(1);
    return created.get(0);
  }

  @Test
  void aChatsListenerHearsItsReservationThenTheCallThenTheCommit() {
    server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());

    gateway.chat(USER, ChatRequest.of("hi"));

    assertThat(only().events).containsExactly("reserved " + ESTIMATE, "callStart", "attemptStart 1",
        "usage 2000", "callEnd", "settled COMMITTED " + CHARGE);
    assertThat(settlements).containsExactly(Settlement.COMMITTED);
    assertThat(ledger.memory.balance("u1")).isEqualTo(100 - CHARGE);
  }

  @Test
  void aFailedChatsListenerHearsTheRelease() {
    server.enqueue(new MockResponse.Builder().code(503).build());

    assertThat(catchThrowable(() -> gateway.chat(USER, ChatRequest.of("hi"))))
        .isInstanceOf(ServiceUnavailableException.class);

    assertThat(only().events).containsExactly("reserved " + ESTIMATE, "callStart", "attemptStart 1",
        "callEnd ServiceUnavailableException", "settled RELEASED 0");
    assertThat(settlements).containsExactly(Settlement.RELEASED);
  }

  @Test
  void aRelayedStreamsListenerHearsItsFirstEventUsageAndCommit() {
    server.enqueue(sse(SESSION + TOKEN + DONE));

    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> new ByteArrayOutputStream());

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(only().events).containsExactly("reserved " + ESTIMATE, "callStart", "attemptStart 1", "firstEvent",
        "usage 2000", "callEnd", "settled COMMITTED " + CHARGE);
    assertThat(settlements).containsExactly(Settlement.COMMITTED);
  }

  @Test
  void aStreamWhoseBrowserLeftBeforeAnythingWasSentIsReleasedOnce() {
    server.enqueue(sse(SESSION + TOKEN + DONE));

    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> {
      throw new IOException("the browser went away");
    });

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    assertThat(only().events).containsExactly("reserved " + ESTIMATE, "callStart", "attemptStart 1", "firstEvent",
        "callEnd CallCancelledException", "settled RELEASED 0");
    assertThat(settlements).containsExactly(Settlement.RELEASED);
    assertThat(ledger.memory.pendingCount()).isZero();
  }

  @Test
  void aStreamFailingBeforeItsFirstEventIsReleasedOnce() {
    server.enqueue(sse("data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"busy\"}\n\n"));

    assertThat(catchThrowable(() -> gateway.stream(USER, ChatRequest.of("hi"), headers -> new ByteArrayOutputStream())))
        .isInstanceOf(StreamErrorException.class);

    assertThat(only().events).containsExactly("reserved " + ESTIMATE, "callStart", "attemptStart 1",
        "callEnd StreamErrorException", "settled RELEASED 0");
  }

  @Test
  void aStreamOutlivingItsLeaseIsToldItsReservationExpired() {
    server.enqueue(sse(SESSION + TOKEN + DONE));

    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> {
      // The stream runs past its one-minute lease: the reaper releases the reservation meanwhile.
      clock.advance(Duration.ofMinutes(2));
      assertThat(ledger.memory.releaseExpired()).isEqualTo(1);
      return new ByteArrayOutputStream();
    });

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(only().events).last().isEqualTo("settled ALREADY_RELEASED 0");
    assertThat(only().events).filteredOn(e -> e.startsWith("settled")).hasSize(1);
    assertThat(settlements).containsExactly(Settlement.ALREADY_RELEASED);
    assertThat(ledger.memory.balance("u1")).isEqualTo(100);
  }

  @Test
  void aSettlementGivenUpIsToldOnceAsAbandoned() throws Exception {
    ledger.commitFailures.set(100);
    CountDownLatch gaveUp = new CountDownLatch(1);
    try (ChatGateway retrying = gateway().settlementRetry(1, Duration.ZERO)
        .settlementListener(settlementsAnd(reservation -> gaveUp.countDown())).build()) {
      server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());

      retrying.chat(USER, ChatRequest.of("hi"));
      assertThat(gaveUp.await(10, TimeUnit.SECONDS)).as("in time (liveness only)").isTrue();
    }

    assertThat(only().events).containsExactly("reserved " + ESTIMATE, "callStart", "attemptStart 1",
        "usage 2000", "callEnd", "settled ABANDONED 0");
    assertThat(settlements).isEmpty();
  }

  @Test
  void aSettlementStillWaitingWhenTheGatewayClosesIsToldOnceAsAbandoned() {
    ledger.commitFailures.set(100);
    List<Reservation> gaveUp = new CopyOnWriteArrayList<>();
    ChatGateway waiting = gateway().settlementRetry(5, Duration.ofMinutes(1))
        .settlementListener(settlementsAnd(gaveUp::add)).build();
    server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    waiting.chat(USER, ChatRequest.of("hi"));
    assertThat(only().events).last().isEqualTo("callEnd");

    waiting.close();
    waiting.close();

    assertThat(only().events).containsExactly("reserved " + ESTIMATE, "callStart", "attemptStart 1",
        "usage 2000", "callEnd", "settled ABANDONED 0");
    assertThat(gaveUp).hasSize(1);
    assertThat(waiting.abandonedSettlements()).isEqualTo(1);
    assertThat(settlements).isEmpty();
  }

  @Test
  void aSettlementRepeatedAfterAStoreFailureIsToldOnceWhenItLands() throws Exception {
    ledger.commitFailures.set(1);
    CountDownLatch landed = new CountDownLatch(1);
    try (ChatGateway retrying = gateway().settlementRetry(3, Duration.ZERO)
        .settlementListener(e -> {
          settlements.add(e.settlement());
          landed.countDown();
        }).build()) {
      server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());

      retrying.chat(USER, ChatRequest.of("hi"));
      assertThat(landed.await(10, TimeUnit.SECONDS)).as("in time (liveness only)").isTrue();
      only().awaitSettled();
    }

    assertThat(only().events).containsExactly("reserved " + ESTIMATE, "callStart", "attemptStart 1",
        "usage 2000", "callEnd", "settled COMMITTED " + CHARGE);
    assertThat(settlements).containsExactly(Settlement.COMMITTED);
  }

  @Test
  void concurrentCallsEachHearOnlyTheirOwnCredits() throws Exception {
    ChatGateway estimating = gateway().estimate(request -> request.query().length()).build();
    int calls = 6;
    for (int i = 0; i < calls; i++) {
      server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    }
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService threads = Executors.newFixedThreadPool(calls);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 1; i <= calls; i++) {
        String query = "q".repeat(i);
        done.add(threads.submit(() -> {
          go.await();
          return estimating.chat(USER, ChatRequest.of(query));
        }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(20, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
    }

    assertThat(created).hasSize(calls);
    assertThat(created).allSatisfy(c -> {
      assertThat(c.foreign).isEmpty();
      assertThat(c.events).containsExactly("reserved " + c.call.queryPreview().length(), "callStart",
          "attemptStart 1", "usage 2000", "callEnd", "settled COMMITTED " + CHARGE);
    });
    assertThat(settlements).hasSize(calls).containsOnly(Settlement.COMMITTED);
  }

  @Test
  void aCallListenerThatThrowsChangesNoSettlement() {
    List<String> heard = new CopyOnWriteArrayList<>();
    client.close();
    client = client.newBuilder().listenerFactory(call -> new GatewayListener() {
      @Override
      public void creditsReserved(CallInfo c, long credits) {
        heard.add("reserved");
        throw new IllegalStateException("listener bug");
      }

      @Override
      public void creditsSettled(CallInfo c, CreditSettlement settlement, long creditsCharged) {
        heard.add("settled " + settlement);
        throw new IllegalStateException("listener bug");
      }
    }).build();
    gateway = gateway().build();
    server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    server.enqueue(new MockResponse.Builder().code(503).build());

    assertThat(gateway.chat(USER, ChatRequest.of("hi")).answer()).isEqualTo("ok");
    assertThat(catchThrowable(() -> gateway.chat(USER, ChatRequest.of("hi"))))
        .isInstanceOf(ServiceUnavailableException.class);

    assertThat(heard).containsExactly("reserved", "settled COMMITTED", "reserved", "settled RELEASED");
    assertThat(settlements).containsExactly(Settlement.COMMITTED, Settlement.RELEASED);
    assertThat(ledger.memory.pendingCount()).isZero();
    assertThat(ledger.memory.balance("u1")).isEqualTo(100 - CHARGE);
  }

  @Test
  void theSharedListenerHearsCreditsTooAndARefusedCallMakesNoListener() {
    List<String> shared = new CopyOnWriteArrayList<>();
    client.close();
    client = client.newBuilder().listener(new GatewayListener() {
      @Override
      public void creditsReserved(CallInfo call, long credits) {
        shared.add("reserved " + credits);
      }

      @Override
      public void creditsSettled(CallInfo call, CreditSettlement settlement, long creditsCharged) {
        shared.add("settled " + settlement + " " + creditsCharged);
      }
    }).build();
    gateway = gateway().build();
    server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());

    gateway.chat(USER, ChatRequest.of("hi"));
    UserContext broke = UserContext.builder().userId("u2").companyId("c1").role("recruiter").build();
    assertThat(catchThrowable(() -> gateway.chat(broke, ChatRequest.of("hi"))))
        .isInstanceOf(InsufficientCreditsException.class);

    assertThat(shared).containsExactly("reserved " + ESTIMATE, "settled COMMITTED " + CHARGE);
    assertThat(created).hasSize(1);
  }

  /** One call's events, as the listener its factory created saw them. */
  static final class Calls implements GatewayListener {
    final CallInfo call;
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<String> foreign = new CopyOnWriteArrayList<>();
    private final CountDownLatch settled = new CountDownLatch(1);

    Calls(CallInfo call) {
      this.call = call;
    }

    private void add(CallInfo info, String event) {
      if (!call.equals(info)) {
        foreign.add(event);
      }
      events.add(event);
    }

    @Override
    public void creditsReserved(CallInfo info, long credits) {
      add(info, "reserved " + credits);
    }

    @Override
    public void callStart(CallInfo info) {
      add(info, "callStart");
    }

    @Override
    public void attemptStart(CallInfo info, int attempt) {
      add(info, "attemptStart " + attempt);
    }

    @Override
    public void firstEvent(CallInfo info, Duration sinceCallStart) {
      add(info, "firstEvent");
    }

    @Override
    public void usageReported(CallInfo info, Usage usage) {
      add(info, "usage " + usage.totalTokens());
    }

    @Override
    public void callEnd(CallInfo info, Duration latency, @Nullable LlmGatewayException failure) {
      add(info, "callEnd" + (failure == null ? "" : " " + failure.getClass().getSimpleName()));
    }

    @Override
    public void creditsSettled(CallInfo info, CreditSettlement settlement, long creditsCharged) {
      add(info, "settled " + settlement + " " + creditsCharged);
      settled.countDown();
    }

    void awaitSettled() throws InterruptedException {
      assertThat(settled.await(10, TimeUnit.SECONDS)).as("in time (liveness only)").isTrue();
    }
  }
}
