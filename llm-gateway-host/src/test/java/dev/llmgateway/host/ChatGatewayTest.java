package dev.llmgateway.host;

import static dev.llmgateway.testkit.SseResponses.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.tuple;

import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.testkit.LeavingBrowser;
import dev.llmgateway.testkit.SseResponses;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every path of a call settles its reservation exactly once, and nothing overspends. */
class ChatGatewayTest {
  static final UserContext USER = UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();
  static final String CHAT = "{\"session_id\":\"s\",\"message_id\":\"m\",\"intent\":\"chat\",\"answer\":\"ok\","
      + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}";
  static final String SESSION = "data: {\"type\":\"session\",\"session_id\":\"s\",\"message_id\":\"m\"}\n\n";
  static final String TOKEN = "data: {\"type\":\"token\",\"content\":\"" + "word ".repeat(100) + "\"}\n\n";
  static final String DONE = "data: {\"type\":\"done\",\"finish_reason\":\"stop\","
      + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}\n\ndata: [DONE]\n\n";

  private final MockWebServer service = new MockWebServer();
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private final List<Settlement> settlements = new CopyOnWriteArrayList<>();
  private LlmGatewayClient client;
  private ChatGateway gateway;

  @BeforeEach
  void setUp() throws IOException {
    service.start();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("t")
        .environment(n -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
    ledger.deposit("u1", 100);
    gateway = ChatGateway.builder().client(client).ledger(ledger)
        .rateLimiter(InMemoryRateLimiter.create(RateLimits.builder().calls(RateLimit.perMinute(10_000))
            .streamStarts(RateLimit.perMinute(10_000)).build()))
        .settlementListener(e -> settlements.add(e.settlement()))
        .build();
  }

  @AfterEach
  void tearDown() {
    client.close();
    service.close();
  }

  private void assertSettledOnce(Settlement expected) {
    assertThat(settlements).containsExactly(expected);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void syncSuccessCommitsOnce() {
    service.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    gateway.chat(USER, ChatRequest.of("hi"));
    assertSettledOnce(Settlement.COMMITTED);
    assertThat(ledger.balance("u1")).isEqualTo(97);
  }

  @Test
  void syncFailureReleasesOnce() {
    service.enqueue(new MockResponse.Builder().code(503).build());
    assertThat(catchThrowable(() -> gateway.chat(USER, ChatRequest.of("hi")))).isInstanceOf(ServiceUnavailableException.class);
    assertSettledOnce(Settlement.RELEASED);
    assertThat(ledger.balance("u1")).isEqualTo(100);
  }

  /** An Error (a missing method, a stack overflow) thrown by the call still releases at once, not at the lease's end. */
  @Test
  void anErrorThrownByTheCallReleasesOnceAndPassesTheErrorOn() {
    service.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    try (LlmGatewayClient failing = client.newBuilder()
        .okHttpClient(new OkHttpClient.Builder().addInterceptor(chain -> {
          throw new LinkageError("a dependency at the wrong version");
        }).build())
        .build()) {
      ChatGateway gateway = ChatGateway.builder().client(failing).ledger(ledger)
          .settlementListener(e -> settlements.add(e.settlement())).build();

      assertThat(catchThrowable(() -> gateway.chat(USER, ChatRequest.of("hi"))))
          .isInstanceOf(LinkageError.class).hasMessage("a dependency at the wrong version");

      assertSettledOnce(Settlement.RELEASED);
      assertThat(ledger.balance("u1")).isEqualTo(100);
    }
  }

  @Test
  void anErrorThrownByTheResponseBodyEndsTheStreamSettlesOnceAndPassesTheErrorOn() {
    service.enqueue(sse(SESSION + TOKEN + DONE));
    OutputStream broken = new OutputStream() {
      @Override
      public void write(int b) {
        throw new LinkageError("a servlet API at the wrong version");
      }
    };

    assertThat(catchThrowable(() -> gateway.stream(USER, ChatRequest.of("hi"), headers -> broken)))
        .isInstanceOf(LinkageError.class);

    assertSettledOnce(Settlement.RELEASED);
    assertThat(ledger.balance("u1")).isEqualTo(100);
  }

  @Test
  void syncFailureAfterEveryRetryReleasesOnce() {
    List<Duration> waits = new CopyOnWriteArrayList<>();
    try (LlmGatewayClient retrying = client.newBuilder().retryPolicy(RetryPolicy.ofDefaults()).sleeper(waits::add).build()) {
      ChatGateway gateway = ChatGateway.builder().client(retrying).ledger(ledger)
          .settlementListener(e -> settlements.add(e.settlement())).build();
      for (int i = 0; i < 3; i++) {
        service.enqueue(new MockResponse.Builder().code(503).build());
      }

      assertThat(catchThrowable(() -> gateway.chat(USER, ChatRequest.of("hi"))))
          .isInstanceOf(ServiceUnavailableException.class);

      assertThat(service.getRequestCount()).isEqualTo(3);
      assertThat(waits).hasSize(2);
      assertSettledOnce(Settlement.RELEASED);
      assertThat(ledger.balance("u1")).isEqualTo(100);
    }
  }

  @Test
  void settlementListenerThatThrowsDoesNotUndoOrRepeatTheSettlement() {
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger)
        .settlementListener(e -> {
          settlements.add(e.settlement());
          throw new IllegalStateException("listener bug");
        })
        .build();
    service.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    service.enqueue(sse(SESSION + TOKEN + DONE));

    assertThat(gateway.chat(USER, ChatRequest.of("hi")).answer()).isEqualTo("ok");
    RelayResult streamed = gateway.stream(USER, ChatRequest.of("hi"), headers -> new ByteArrayOutputStream());

    assertThat(streamed.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(settlements).containsExactly(Settlement.COMMITTED, Settlement.COMMITTED);
    assertThat(ledger.pendingCount()).isZero();
    assertThat(ledger.balance("u1")).isEqualTo(94);
  }

  @Test
  void validationReservesNothing() {
    assertThat(catchThrowable(() -> gateway.chat(USER, ChatRequest.of(" ")))).isInstanceOf(ValidationException.class);
    assertThat(settlements).isEmpty();
    assertThat(ledger.pendingCount()).isZero();
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void insufficientCreditsSendsNothing() {
    ledger.reserve(USER, dev.llmgateway.Operation.CHAT, 95);
    assertThat(catchThrowable(() -> gateway.chat(USER, ChatRequest.of("hi")))).isInstanceOf(InsufficientCreditsException.class);
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void completedStreamCommitsTheReportedUsage() {
    service.enqueue(sse(SESSION + TOKEN + DONE));
    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> new ByteArrayOutputStream());
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertSettledOnce(Settlement.COMMITTED);
    assertThat(ledger.balance("u1")).isEqualTo(97);
  }

  @Test
  void streamErrorEventCommitsAnEstimateOfWhatWasDelivered() {
    service.enqueue(sse(SESSION + TOKEN + "data: {\"type\":\"error\",\"code\":\"x\",\"message\":\"y\",\"retryable\":false}\n\n"));
    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> new ByteArrayOutputStream());
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertSettledOnce(Settlement.COMMITTED);
    assertThat(ledger.balance("u1")).isLessThan(100);
  }

  @Test
  void cutOffStreamWithNothingDeliveredReleases() {
    service.enqueue(sse(SESSION));
    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> new ByteArrayOutputStream());
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertSettledOnce(Settlement.RELEASED);
    assertThat(ledger.balance("u1")).isEqualTo(100);
  }

  @Test
  void streamThatDoesNotOpenReleasesAndThrowsBeforeTheResponseStarts() {
    service.enqueue(new MockResponse.Builder().code(503).build());
    boolean[] started = {false};
    assertThat(catchThrowable(() -> gateway.stream(USER, ChatRequest.of("hi"), headers -> {
      started[0] = true;
      return new ByteArrayOutputStream();
    }))).isInstanceOf(ServiceUnavailableException.class);
    assertThat(started[0]).isFalse();
    assertSettledOnce(Settlement.RELEASED);
  }

  @Test
  void aResponseBodyThatThrowsUncheckedEndsTheStreamSettlesOnceAndPassesTheExceptionOn() throws Exception {
    service.enqueue(sse(SESSION + TOKEN + DONE));
    OutputStream broken = new OutputStream() {
      @Override
      public void write(int b) {
        throw new IllegalStateException("response already committed");
      }

      @Override
      public void write(byte[] b, int off, int len) {
        throw new IllegalStateException("response already committed");
      }
    };

    assertThat(catchThrowable(() -> gateway.stream(USER, ChatRequest.of("hi"), headers -> broken)))
        .isInstanceOf(IllegalStateException.class).hasMessage("response already committed");

    assertSettledOnce(Settlement.RELEASED); // nothing is known to have reached the browser
    assertThat(ledger.balance("u1")).isEqualTo(100);
    assertThat(service.takeRequest().getTarget()).endsWith("/chat/stream");
  }

  @Test
  void browserGoneBeforeTheFirstWriteSettlesOnce() {
    service.enqueue(sse(SESSION + TOKEN + DONE));
    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> {
      throw new IOException("browser gone");
    });
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    assertThat(settlements).hasSize(1);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void browserGoneMidStreamCommitsWhatWasDeliveredOnce() {
    service.enqueue(sse(SESSION + TOKEN + TOKEN + TOKEN + DONE));
    OutputStream failsAfterSomeBytes = LeavingBrowser.afterBytes(700);
    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> failsAfterSomeBytes);
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    assertSettledOnce(Settlement.COMMITTED);
  }

  @Test
  void browserGoneWhileBeingSentTheFinalEventIsChargedTheUsageTheServiceReported() {
    service.enqueue(sse(SESSION + TOKEN + DONE));
    OutputStream failsOnComplete = LeavingBrowser.onText("event: complete");
    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> failsOnComplete);

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    assertThat(result.completion()).isNotNull();
    assertSettledOnce(Settlement.COMMITTED);
    assertThat(ledger.balance("u1")).as("1,000 + 1,000 tokens reported, not an estimate of the text").isEqualTo(97);
  }

  @Test
  void streamThatTimesOutSettlesOnce() {
    CountDownLatch never = new CountDownLatch(1);
    service.enqueue(SseResponses.stalled(SESSION + TOKEN, never)); // then the idle limit fires
    client.close();
    client = client.newBuilder().streamTimeout(java.time.Duration.ofMillis(300)).build();
    gateway = ChatGateway.builder().client(client).ledger(ledger)
        .settlementListener(e -> settlements.add(e.settlement())).build();
    try {
      RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> new ByteArrayOutputStream());
      assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
      assertThat(result.failure()).isInstanceOf(dev.llmgateway.CallTimeoutException.class);
    } finally {
      never.countDown();
    }
    assertSettledOnce(Settlement.COMMITTED); // the token delivered before the stall is charged
  }

  @Test
  void upstreamCancelledMidStreamSettlesOnce() {
    service.enqueue(sse(SESSION + TOKEN + TOKEN + DONE));
    OutputStream cancelsOnFirstChunk = LeavingBrowser.afterWrites(3)
        .failingWith(() -> new java.io.InterruptedIOException("host request cancelled"));
    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> cancelsOnFirstChunk);
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    assertThat(settlements).hasSize(1);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void concurrentCallsForOneUserNeverOverspend() throws Exception {
    // 100 credits, 10 held per call until it settles: of 20 simultaneous calls exactly 10 may go.
    CountDownLatch arrived = new CountDownLatch(10);
    CountDownLatch release = new CountDownLatch(1);
    service.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        arrived.countDown();
        release.await(30, TimeUnit.SECONDS);
        return new MockResponse.Builder().code(200).body(CHAT).build();
      }
    });
    ExecutorService pool = Executors.newFixedThreadPool(20);
    List<Future<Object>> calls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      calls.add(pool.submit(() -> {
        try {
          return gateway.chat(USER, ChatRequest.of("hi"));
        } catch (InsufficientCreditsException refused) {
          return refused;
        }
      }));
    }
    assertThat(arrived.await(30, TimeUnit.SECONDS)).isTrue();
    release.countDown();
    int refused = 0;
    for (Future<Object> call : calls) {
      if (call.get(30, TimeUnit.SECONDS) instanceof InsufficientCreditsException) {
        refused++;
      }
    }
    pool.shutdown();
    assertThat(refused).isEqualTo(10);
    assertThat(service.getRequestCount()).isEqualTo(10);
    assertThat(ledger.pendingCount()).isZero();
    assertThat(ledger.balance("u1")).isEqualTo(100 - 3 * 10);
  }

  /** Starts nothing: fails the test if the gateway starts the response. */
  private static OutputStream neverStarted(Map<String, String> headers) {
    throw new AssertionError("the response was started");
  }

  @Test
  void anErrorEventBeforeTheFirstEventIsA502BeforeTheResponseStartsAndReleases() {
    service.enqueue(sse("data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"at 10.0.0.7\",\"retryable\":true}\n\n"));

    Throwable thrown = catchThrowable(() -> gateway.stream(USER, ChatRequest.of("hi"), ChatGatewayTest::neverStarted));

    assertThat(thrown).isInstanceOf(StreamErrorException.class);
    ErrorResponse response = ErrorMapper.ofDefaults().toResponse(thrown);
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.toJson()).contains("\"code\":\"model_overloaded\"").doesNotContain("10.0.0.7");
    assertSettledOnce(Settlement.RELEASED);
    assertThat(ledger.balance("u1")).isEqualTo(100);
  }

  @Test
  void noFirstEventInTimeIsA504BeforeTheResponseStartsAndReleases() {
    CountDownLatch release = new CountDownLatch(1);
    service.enqueue(SseResponses.stalled(": ping\n\n", release)); // heartbeats are not events
    client.close();
    client = client.newBuilder().timeout(Duration.ofMillis(200)).build();
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger)
        .settlementListener(e -> settlements.add(e.settlement())).build();

    Throwable thrown;
    try {
      thrown = catchThrowable(() -> gateway.stream(USER, ChatRequest.of("hi"), ChatGatewayTest::neverStarted));
    } finally {
      release.countDown();
    }

    assertThat(thrown).isInstanceOfSatisfying(dev.llmgateway.CallTimeoutException.class,
        e -> assertThat(e.limit()).isEqualTo(dev.llmgateway.CallTimeoutException.Limit.FIRST_EVENT));
    assertThat(ErrorMapper.ofDefaults().toResponse(thrown).status()).isEqualTo(504);
    assertSettledOnce(Settlement.RELEASED);
  }

  @Test
  void retriesExhaustedBeforeTheFirstEventAre503WithRetryAfterBeforeTheResponseStarts() {
    List<Duration> waits = new CopyOnWriteArrayList<>();
    try (LlmGatewayClient retrying = client.newBuilder().retryPolicy(RetryPolicy.builder().maxRetries(1).build())
        .sleeper(waits::add).build()) {
      ChatGateway gateway = ChatGateway.builder().client(retrying).ledger(ledger)
          .settlementListener(e -> settlements.add(e.settlement())).build();
      service.enqueue(sse("")); // a 200 stream that ends before its first event: retried
      service.enqueue(new MockResponse.Builder().code(503).setHeader("Retry-After", "7").build());

      Throwable thrown = catchThrowable(() -> gateway.stream(USER, ChatRequest.of("hi"), ChatGatewayTest::neverStarted));

      assertThat(thrown).isInstanceOf(ServiceUnavailableException.class);
      assertThat(service.getRequestCount()).isEqualTo(2);
      ErrorResponse response = ErrorMapper.ofDefaults().toResponse(thrown);
      assertThat(response.status()).isEqualTo(503);
      assertThat(response.headers()).containsEntry(ErrorResponse.RETRY_AFTER, "7");
      assertSettledOnce(Settlement.RELEASED);
    }
  }

  @Test
  void aBrowserThatLeavesMidStreamIsSettledAsACancelledDelivery() {
    List<Delivery> deliveries = new CopyOnWriteArrayList<>();
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger)
        .settlement(delivery -> {
          deliveries.add(delivery);
          return SettlementPolicy.ofDefaults().usageFor(delivery);
        })
        .settlementListener(e -> settlements.add(e.settlement())).build();
    service.enqueue(sse(SESSION + TOKEN + TOKEN + DONE));

    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> LeavingBrowser.afterBytes(700));

    assertThat(result.failure()).isInstanceOf(dev.llmgateway.CallCancelledException.class);
    assertThat(deliveries).singleElement().satisfies(d -> {
      assertThat(d.outcome()).isEqualTo(Delivery.Outcome.CANCELLED);
      assertThat(d.deliveredText()).isEqualTo(result.text()).isNotEmpty();
    });
    assertSettledOnce(Settlement.COMMITTED);
  }

  @Test
  void theSettlementListenerIsToldTheCreditsEachSettlementCharged() {
    List<SettlementEvent> events = new CopyOnWriteArrayList<>();
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger)
        .pricing(CreditPricing.perThousandTokens(1, 4))
        .settlementListener(events::add).build();
    service.enqueue(sse(SESSION + TOKEN + DONE)); // 1,000 + 1,000 tokens: 1 + 4 credits
    service.enqueue(new MockResponse.Builder().code(503).build());

    gateway.stream(USER, ChatRequest.of("hi"), headers -> new ByteArrayOutputStream());
    catchThrowable(() -> gateway.chat(USER, ChatRequest.of("hi")));

    assertThat(events).extracting(SettlementEvent::settlement, SettlementEvent::creditsCharged)
        .containsExactly(tuple(Settlement.COMMITTED, 5L), tuple(Settlement.RELEASED, 0L));
    assertThat(events).extracting(e -> e.reservation().operation())
        .containsExactly(dev.llmgateway.Operation.CHAT_STREAM, dev.llmgateway.Operation.CHAT);
    assertThat(ledger.balance("u1")).isEqualTo(95);
  }

  @Test
  void aSettlementThatChangesNothingChargesNothing() {
    Reservation reservation = ledger.reserve(USER, dev.llmgateway.Operation.CHAT, 10, null);
    ledger.release(reservation, "test");
    assertThat(new SettlementEvent(reservation, Settlement.ALREADY_RELEASED, 0).creditsCharged()).isZero();
    assertThat(catchThrowable(() -> new SettlementEvent(reservation, Settlement.ALREADY_COMMITTED, 3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ALREADY_COMMITTED");
    assertThat(catchThrowable(() -> new SettlementEvent(reservation, Settlement.COMMITTED, -1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("creditsCharged");
  }

  @Test
  void heartbeatAndReconnectDelayAreGatewaySettingsThatKeepTheErrorMappersEvents() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    service.enqueue(SseResponses.paused(SESSION + TOKEN, release,
        "data: {\"type\":\"error\",\"code\":\"x\",\"message\":\"y\",\"retryable\":false}\n\n", 1,
        new CountDownLatch(1)));
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger)
        .errors(ErrorMapper.builder().message(ErrorKind.STREAM_FAILED, "The host's own words.").build())
        .heartbeat(Duration.ofMillis(20))
        .reconnectDelay(Duration.ofSeconds(2))
        .build();
    CountDownLatch pinged = new CountDownLatch(1);
    ByteArrayOutputStream browser = new ByteArrayOutputStream() {
      @Override
      public synchronized void write(byte[] b, int off, int len) {
        super.write(b, off, len);
        if (toString(java.nio.charset.StandardCharsets.UTF_8).contains(": ping\n")) {
          pinged.countDown();
          release.countDown(); // the upstream goes on (and fails) once the browser got a heartbeat
        }
      }
    };

    RelayResult result;
    try {
      result = gateway.stream(USER, ChatRequest.of("hi"), headers -> browser);
    } finally {
      release.countDown();
    }

    assertThat(pinged.getCount()).isZero();
    String sent = browser.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(sent).startsWith("retry: 2000\n").contains(": ping\n");
    assertThat(sent).contains("event: error\ndata: {\"success\":false,\"message\":\"The host's own words.\"");
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
  }

  @Test
  void relaySettingsAreCheckedAndRefusedBesideAWholeRelay() {
    assertThat(catchThrowable(() -> ChatGateway.builder().heartbeat(Duration.ZERO)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("heartbeat");
    assertThat(catchThrowable(() -> ChatGateway.builder().reconnectDelay(Duration.ofMillis(-1))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reconnectDelay");
    assertThat(catchThrowable(() -> ChatGateway.builder().client(client).ledger(ledger)
        .relay(SseRelay.ofDefaults()).heartbeat(Duration.ofSeconds(5)).build()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("ChatGateway.Builder.relay");
  }

  @Test
  void streamTimeoutsMustBePositive() {
    for (Duration bad : List.of(Duration.ZERO, Duration.ofSeconds(-1))) {
      assertThat(catchThrowable(() -> ChatGateway.builder().streamTotalTimeout(bad)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("streamTotalTimeout");
      assertThat(catchThrowable(() -> ChatGateway.builder().streamFirstEventTimeout(bad)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("streamFirstEventTimeout");
    }
  }

  @Test
  void theFirstEventTimeoutOfRelayedStreamsIsAGatewaySettingApartFromTheClientsTimeout() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    service.enqueue(SseResponses.stalled(": ping\n\n", release));
    client.close();
    client = client.newBuilder().timeout(Duration.ofMinutes(10)).build(); // sync calls may take long
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger)
        .streamFirstEventTimeout(Duration.ofMillis(200))
        .settlementListener(e -> settlements.add(e.settlement())).build();
    ExecutorService host = Executors.newSingleThreadExecutor();
    try {
      Future<Throwable> streamed = host.submit(
          () -> catchThrowable(() -> gateway.stream(USER, ChatRequest.of("hi"), ChatGatewayTest::neverStarted)));

      assertThat(streamed.get(20, TimeUnit.SECONDS)).isInstanceOfSatisfying(dev.llmgateway.CallTimeoutException.class,
          e -> assertThat(e.limit()).isEqualTo(dev.llmgateway.CallTimeoutException.Limit.FIRST_EVENT));
    } finally {
      release.countDown();
      host.shutdownNow();
    }
    assertSettledOnce(Settlement.RELEASED);
  }

  @Test
  void sessionCallsTakeARateLimitPermitAndSendNothingWhenRefused() {
    ChatGateway limited = ChatGateway.builder().client(client).ledger(ledger)
        .rateLimiter(InMemoryRateLimiter.create(RateLimits.builder().calls(RateLimit.perMinute(3)).build()))
        .build();
    service.enqueue(new MockResponse.Builder().code(200).body("{\"sessions\":[],\"next_cursor\":null}").build());
    service.enqueue(new MockResponse.Builder().code(200)
        .body("{\"session_id\":\"s\",\"title\":null,\"message_count\":0,\"messages\":[]}").build());
    service.enqueue(new MockResponse.Builder().code(204).build());

    limited.listSessions(USER, 10, null);
    limited.getSession(USER, "s");
    limited.deleteSession(USER, "s");

    for (Throwable refused : List.of(
        catchThrowable(() -> limited.listSessions(USER, 10, null)),
        catchThrowable(() -> limited.getSession(USER, "s")),
        catchThrowable(() -> limited.deleteSession(USER, "s")))) {
      assertThat(refused).isInstanceOf(RateLimitExceededException.class);
    }
    assertThat(service.getRequestCount()).isEqualTo(3);
    assertThat(ledger.pendingCount()).isZero();
    assertThat(ledger.balance("u1")).isEqualTo(100); // session calls are free
  }

  @Test
  void anotherUsersSessionIsNotFoundForTheEndUser() {
    String refused = "{\"detail\":\"Session belongs to another user\"}";
    service.enqueue(new MockResponse.Builder().code(403).body(refused).build());
    service.enqueue(new MockResponse.Builder().code(403).body(refused).build());

    Throwable read = catchThrowable(() -> gateway.getSession(USER, "sess_8f14e45f"));
    Throwable delete = catchThrowable(() -> gateway.deleteSession(USER, "sess_8f14e45f"));

    for (Throwable thrown : List.of(read, delete)) {
      assertThat(thrown).isInstanceOf(NotFoundException.class);
      ErrorResponse response = ErrorMapper.ofDefaults().toResponse(thrown);
      assertThat(response.status()).isEqualTo(404);
      // The request id is a random UUID that may itself contain "403": leave it out of the check.
      String withoutRequestId = response.toJson().replaceAll("\"request_id\":\"[^\"]*\"", "\"request_id\":\"\"");
      assertThat(withoutRequestId).contains("\"request_id\":\"\"");
      assertThat(withoutRequestId).doesNotContain("another user").doesNotContain("403");
    }
  }
}
