package dev.llmgateway.host.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.ApiException;
import dev.llmgateway.AuditEvent;
import dev.llmgateway.AuditSink;
import dev.llmgateway.CallTimeoutException;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.CircuitOpenException;
import dev.llmgateway.InvalidResponseException;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServerErrorException;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.StreamInterruptedException;
import dev.llmgateway.TransportException;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.host.RelayResult;
import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every fault of docs/RELIABILITY.md through the host's facade: each ends in its typed exception,
 * settles the user's credits exactly once, and leaves no thread, call or connection behind ({@link
 * NoLeaks}, checked after every test).
 */
class FaultsTest {
  private static final UserContext USER = UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();
  private static final ChatRequest HI = ChatRequest.of("hi"); // a prompt estimate of 1 token
  private static final long DEPOSIT = 1_000;
  private static final String SESSION = "data: {\"type\":\"session\",\"session_id\":\"s\",\"message_id\":\"m\"}\n\n";
  /** One token of 4 characters: the default settlement policy estimates it as 1 token. */
  private static final String TOKEN = "data: {\"type\":\"token\",\"content\":\"word\"}\n\n";
  private static final String DONE = "data: {\"type\":\"done\",\"finish_reason\":\"stop\","
      + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20,\"total_tokens\":30}}\n\ndata: [DONE]\n\n";
  private static final String SSE_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
  private static final int MIB = 1024 * 1024;

  private final MockWebServer service = new MockWebServer();
  private final List<Duration> waits = new CopyOnWriteArrayList<>();
  private NoLeaks leaks;

  @BeforeEach
  void setUp() throws IOException {
    leaks = new NoLeaks();
    service.setServerSocketFactory(new NoDelayServerSocketFactory());
    service.start();
    leaks.closeBeforeChecking(service);
    leaks.ledger().deposit("u1", DEPOSIT);
  }

  @AfterEach
  void noLeaks() throws Exception {
    leaks.verify();
  }

  // 1
  @Test
  void connectionRefused() throws IOException {
    int port;
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = closed.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port + "/";

    TransportException chat = catchThrowableOfType(TransportException.class,
        () -> gateway(client(url, retrying())).chat(USER, HI));
    Browser browser = new Browser();
    Throwable stream = catchThrowable(() -> gateway(client(url, retrying())).stream(USER, HI, browser));

    assertThat(chat).isNotInstanceOf(ApiException.class);
    assertThat(chat.isRetryable()).isTrue();
    assertThat(chat.getCause()).isInstanceOf(IOException.class);
    assertThat(stream).isInstanceOf(TransportException.class);
    assertThat(browser.started).isFalse();
    assertThat(leaks.callsStarted()).as("3 attempts each, no more").isEqualTo(6);
    assertThat(waits).hasSize(4);
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT);
  }

  // 2
  @Test
  void connectionResetBeforeTheResponse() {
    for (int i = 0; i < 6; i++) {
      service.enqueue(new MockResponse.Builder().onRequestStart(new SocketEffect.CloseSocket(true, false, false)).build());
    }

    Throwable chat = catchThrowable(() -> gateway(client(retrying())).chat(USER, HI));
    Browser browser = new Browser();
    Throwable stream = catchThrowable(() -> gateway(client(retrying())).stream(USER, HI, browser));

    assertThat(chat).isInstanceOf(TransportException.class);
    assertThat(stream).isInstanceOf(TransportException.class);
    assertThat(browser.started).isFalse();
    assertThat(leaks.callsStarted()).as("3 attempts each, no more").isEqualTo(6);
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT);
  }

  // 3
  @Test
  void connectionResetInTheMiddleOfAStream() throws Exception {
    Browser browser = new Browser();
    RawServer raw = leaks.closeBeforeChecking(new RawServer(socket -> {
      RawServer.write(socket, SSE_HEAD + SESSION + TOKEN);
      browser.awaitToken();
      RawServer.reset(socket);
    }));

    RelayResult result = gateway(client(raw.url(), retrying())).stream(USER, HI, browser);

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertThat(result.failure()).isInstanceOf(StreamInterruptedException.class);
    assertThat(((StreamInterruptedException) result.failure()).partialText()).isEqualTo("word");
    assertThat(browser.text()).contains("word").contains("event: error");
    assertThat(raw.connections()).as("not retried after the first event").isEqualTo(1);
    assertThat(leaks.ledger().balance("u1")).as("charged 1 prompt + 1 delivered token").isEqualTo(DEPOSIT - 2);
  }

  // 4
  @Test
  void truncatedChunkedEncoding() throws Exception {
    RawServer raw = leaks.closeBeforeChecking(new RawServer(socket -> {
      String chunk = SESSION + TOKEN;
      RawServer.write(socket, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
          + Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n"
          + "1000\r\n" + "data: {\"type\":\"tok"); // promises 4,096 bytes, sends 17, then closes
      socket.shutdownOutput();
    }));
    Browser browser = new Browser();

    RelayResult result = gateway(client(raw.url(), retrying())).stream(USER, HI, browser);

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertThat(result.failure()).isInstanceOf(StreamInterruptedException.class);
    assertThat(browser.text()).contains("word").contains("event: error");
    assertThat(raw.connections()).isEqualTo(1);
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT - 2);
  }

  // 5
  @Test
  void serverAcceptsAndNeverAnswers() {
    service.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build());
    service.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build());
    UnaryOperator<LlmGatewayClient.Builder> shortTimeout = b -> b.timeout(Duration.ofMillis(300));

    CallTimeoutException chat = catchThrowableOfType(CallTimeoutException.class,
        () -> gateway(client(shortTimeout)).chat(USER, HI));
    Browser browser = new Browser();
    CallTimeoutException stream = catchThrowableOfType(CallTimeoutException.class,
        () -> gateway(client(shortTimeout)).stream(USER, HI, browser));

    assertThat(chat.limit()).isEqualTo(CallTimeoutException.Limit.CALL);
    assertThat(stream.limit()).isEqualTo(CallTimeoutException.Limit.FIRST_EVENT);
    assertThat(browser.started).isFalse();
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT);
  }

  // 6
  @Test
  void aStreamDrippingOneByteEvery100MsTripsTheTotalNotTheIdleTimeout() throws Exception {
    CountDownLatch stop = new CountDownLatch(1);
    RawServer raw = leaks.closeBeforeChecking(new RawServer(socket -> {
      RawServer.write(socket, SSE_HEAD + SESSION + TOKEN + ": ");
      for (int i = 0; i < 100 && !stop.await(100, TimeUnit.MILLISECONDS); i++) {
        RawServer.write(socket, "."); // the server's pace, not a test wait: one byte per 100 ms
      }
    }));
    LlmGatewayClient client = client(raw.url(), b -> b.streamTimeout(Duration.ofSeconds(1)));
    ChatGateway gateway = gateway(client, g -> g.streamTotalTimeout(Duration.ofSeconds(2)));
    Browser browser = new Browser();

    RelayResult result;
    try {
      result = gateway.stream(USER, HI, browser);
    } finally {
      stop.countDown();
    }

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertThat(result.failure()).isInstanceOfSatisfying(CallTimeoutException.class,
        e -> assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.TOTAL));
    assertThat(browser.text()).contains("word");
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT - 2);
  }

  // 7
  @Test
  void aStallAfterTheFirstTokenTripsTheIdleTimeoutAfterDeliveringIt() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    RawServer raw = leaks.closeBeforeChecking(new RawServer(socket -> {
      RawServer.write(socket, SSE_HEAD + SESSION + TOKEN);
      never.await(10, TimeUnit.SECONDS);
    }));
    Browser browser = new Browser();

    RelayResult result;
    try {
      result = gateway(client(raw.url(), b -> b.streamTimeout(Duration.ofMillis(300)))).stream(USER, HI, browser);
    } finally {
      never.countDown();
    }

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertThat(result.failure()).isInstanceOfSatisfying(CallTimeoutException.class,
        e -> assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.IDLE));
    assertThat(browser.text()).contains("\"content\":\"word\"");
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT - 2);
  }

  // 8a
  @Test
  void tenMibOfShortCommentLinesAreSkippedAndTheAnswerArrivesIntact() {
    String padding = ": pad\n".repeat(5 * MIB / 6 + 1);
    service.enqueue(sse(padding + SESSION + padding + TOKEN + padding + TOKEN + DONE));
    Browser browser = new Browser();

    RelayResult result = gateway(client(UnaryOperator.identity())).stream(USER, HI, browser);

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(result.completion().text()).isEqualTo("wordword");
    assertThat(browser.text()).doesNotContain("pad").contains("event: complete");
    assertThat(leaks.ledger().balance("u1")).as("the reported usage").isEqualTo(DEPOSIT - 30);
  }

  // 8b
  @Test
  void oneHugeCommentLineFailsAtTheLineLimitInsteadOfBeingBuffered() throws Exception {
    int lineCap = 64 * MIB;
    AtomicLong lineBytesSent = new AtomicLong();
    CountDownLatch serverDone = new CountDownLatch(1);
    RawServer raw = leaks.closeBeforeChecking(new RawServer(socket -> {
      try {
        RawServer.write(socket, SSE_HEAD + ":");
        byte[] block = "x".repeat(64 * 1024).getBytes(StandardCharsets.UTF_8);
        while (lineBytesSent.get() < lineCap) { // ends early when the client goes away
          socket.getOutputStream().write(block);
          lineBytesSent.addAndGet(block.length);
        }
        RawServer.write(socket, "\n\n" + SESSION + TOKEN + DONE);
      } finally {
        serverDone.countDown();
      }
    }));
    Browser browser = new Browser();

    Throwable thrown = catchThrowable(() -> gateway(client(raw.url(), retrying())).stream(USER, HI, browser));

    // Before the first event: an error status for the browser, no event stream.
    assertThat(thrown).isInstanceOf(InvalidResponseException.class).hasMessageContaining(String.valueOf(MIB));
    assertThat(browser.started).isFalse();
    assertThat(serverDone.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(lineBytesSent.get())
        .as("the reader stopped at its 1 MiB limit (plus socket buffers), not after buffering the line")
        .isLessThan(lineCap / 2);
    assertThat(raw.connections()).as("not retried").isEqualTo(1);
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT);
  }

  // 9
  @Test
  void aSuccessWithAnHtmlBodyIsAnInvalidResponseNotRetried() {
    MockResponse html = new MockResponse.Builder().code(200).setHeader("Content-Type", "text/html")
        .body("<html><body>Welcome to our proxy</body></html>").build();
    service.enqueue(html);
    service.enqueue(html);

    Throwable chat = catchThrowable(() -> gateway(client(retrying())).chat(USER, HI));
    Browser browser = new Browser();
    Throwable stream = catchThrowable(() -> gateway(client(retrying())).stream(USER, HI, browser));

    assertThat(chat).isInstanceOf(InvalidResponseException.class);
    assertThat(stream).isInstanceOf(InvalidResponseException.class);
    assertThat(browser.started).isFalse();
    assertThat(service.getRequestCount()).as("not retried").isEqualTo(2);
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT);
  }

  // 10
  @Test
  void dnsFailureIsATransportFailureWithoutARetryStorm() {
    AtomicInteger lookups = new AtomicInteger();
    OkHttpClient noDns = leaks.http().dns(host -> {
      lookups.incrementAndGet();
      throw new UnknownHostException("no such host: " + host);
    }).build();
    UnaryOperator<LlmGatewayClient.Builder> unresolvable = b -> retrying().apply(b).okHttpClient(noDns);
    String url = "https://llm.faults.invalid/";

    TransportException chat = catchThrowableOfType(TransportException.class,
        () -> gateway(client(url, unresolvable)).chat(USER, HI));
    Browser browser = new Browser();
    Throwable stream = catchThrowable(() -> gateway(client(url, unresolvable)).stream(USER, HI, browser));

    assertThat(chat.getCause()).isInstanceOf(UnknownHostException.class);
    assertThat(stream).isInstanceOf(TransportException.class);
    assertThat(browser.started).isFalse();
    assertThat(lookups.get()).as("one lookup per attempt, 3 attempts per call").isEqualTo(6);
    assertThat(waits).hasSize(4);
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT);
  }

  // 11
  @Test
  void theHostCancellingAThousandStreamsAtRandomPointsSettlesEachOnce() {
    int streams = 1_000;
    int tokens = 5;
    service.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return sse(SESSION + TOKEN.repeat(tokens) + DONE);
      }
    });
    leaks.ledger().deposit("u1", streams * 100L);
    ChatGateway gateway = gateway(client(UnaryOperator.identity()));
    long seed = new Random().nextLong();
    Random random = new Random(seed);
    long expectedCharge = 0;
    int completed = 0;
    for (int i = 0; i < streams; i++) {
      // chunk events: the session, the tokens, done; one more than them lets the stream complete
      int allowed = random.nextInt(tokens + 3);
      Browser browser = new Browser(allowed);
      RelayResult result = gateway.stream(USER, HI, browser);
      int relayedTokens = Math.max(0, Math.min(tokens, allowed - 1));
      if (allowed > tokens + 1) {
        assertThat(result.outcome()).as("seed %d, stream %d", seed, i).isEqualTo(RelayResult.Outcome.COMPLETED);
        expectedCharge += 30;
        completed++;
      } else {
        assertThat(result.outcome()).as("seed %d, stream %d", seed, i).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
        assertThat(result.text()).as("seed %d, stream %d: text the browser was sent", seed, i)
            .isEqualTo("word".repeat(relayedTokens));
        expectedCharge += relayedTokens == 0 ? 0 : 1 + relayedTokens;
      }
    }
    assertThat(completed).as("seed %d", seed).isPositive().isLessThan(streams);
    assertThat(leaks.ledger().balance("u1")).as("seed %d", seed).isEqualTo(DEPOSIT + streams * 100L - expectedCharge);
  }

  // 12
  @Test
  void aRedirectIsNotFollowedAndReleasesTheCredits() throws Exception {
    String elsewhere = service.url("/elsewhere").toString();
    service.enqueue(new MockResponse.Builder().code(307).setHeader("Location", elsewhere).build());
    service.enqueue(new MockResponse.Builder().code(308).setHeader("Location", elsewhere).build());
    service.enqueue(sse(SESSION + TOKEN + DONE)); // what a followed redirect would be answered with

    ApiException chat = catchThrowableOfType(ApiException.class, () -> gateway(client(retrying())).chat(USER, HI));
    Browser browser = new Browser();
    ApiException stream = catchThrowableOfType(ApiException.class,
        () -> gateway(client(retrying())).stream(USER, HI, browser));

    assertThat(chat).isExactlyInstanceOf(ApiException.class);
    assertThat(chat.status()).isEqualTo(307);
    assertThat(stream).isExactlyInstanceOf(ApiException.class);
    assertThat(stream.status()).isEqualTo(308);
    assertThat(browser.started).isFalse();
    assertThat(service.getRequestCount()).as("neither redirect followed nor retried").isEqualTo(2);
    assertThat(service.takeRequest().getUrl().encodedPath()).isNotEqualTo("/elsewhere");
    assertThat(service.takeRequest().getUrl().encodedPath()).isNotEqualTo("/elsewhere");
    assertThat(leaks.reservations()).isEqualTo(2);
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT);
  }

  // 13
  @Test
  void aHugeErrorBodyIsBoundedAndEveryAttemptsConnectionLetGo() {
    MockResponse huge = new MockResponse.Builder().code(502).setHeader("Content-Type", "application/json")
        .body("{\"detail\":\"" + "x".repeat(5 * MIB) + "\"}").build();
    for (int i = 0; i < 6; i++) {
      service.enqueue(huge);
    }

    ServiceUnavailableException chat = catchThrowableOfType(ServiceUnavailableException.class,
        () -> gateway(client(retrying())).chat(USER, HI));
    Browser browser = new Browser();
    ServiceUnavailableException stream = catchThrowableOfType(ServiceUnavailableException.class,
        () -> gateway(client(retrying())).stream(USER, HI, browser));

    for (ServiceUnavailableException e : List.of(chat, stream)) {
      assertThat(e.status()).isEqualTo(502);
      assertThat(e.attempts()).as("retried like any 502").isEqualTo(3);
      assertThat(e.getMessage()).hasSizeLessThan(1_000);
      assertThat(e.body()).hasSizeLessThanOrEqualTo(ApiException.MAX_BODY_CHARS);
      assertThat(e.detail()).as("the cut-off JSON gives no detail").isNull();
    }
    assertThat(browser.started).isFalse();
    assertThat(service.getRequestCount()).isEqualTo(6);
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT);
  }

  // 14
  @Test
  void anOpenCircuitBreakerFailsFastWithoutARequestAndReleasesTheCredits() {
    AtomicLong nanos = new AtomicLong();
    CircuitBreaker breaker = CircuitBreaker.builder().ticker(nanos::get).build();
    ChatGateway gateway = gateway(client(b -> b.circuitBreaker(breaker)));
    for (int i = 0; i < CircuitBreaker.DEFAULT_FAILURE_THRESHOLD; i++) {
      service.enqueue(new MockResponse.Builder().code(500).body("{\"detail\":\"down\"}").build());
      assertThat(catchThrowable(() -> gateway.chat(USER, HI))).isInstanceOf(ServerErrorException.class);
    }
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
    int callsBefore = leaks.callsStarted();

    CircuitOpenException chat = catchThrowableOfType(CircuitOpenException.class, () -> gateway.chat(USER, HI));
    Browser browser = new Browser();
    CircuitOpenException stream = catchThrowableOfType(CircuitOpenException.class,
        () -> gateway.stream(USER, HI, browser));

    assertThat(chat.attempts()).isZero();
    assertThat(chat.retryAfter()).isEqualTo(CircuitBreaker.DEFAULT_OPEN_DURATION);
    assertThat(stream.attempts()).isZero();
    assertThat(browser.started).isFalse();
    assertThat(leaks.callsStarted()).as("no HTTP call made").isEqualTo(callsBefore);
    assertThat(service.getRequestCount()).as("no request reached the service").isEqualTo(5);
    assertThat(leaks.reservations()).as("reserved, then released (settled once each, checked after)").isEqualTo(7);
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT);

    nanos.addAndGet(CircuitBreaker.DEFAULT_OPEN_DURATION.toNanos());
    service.enqueue(sse(SESSION + TOKEN + DONE));
    RelayResult probe = gateway.stream(USER, HI, new Browser());

    assertThat(probe.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(leaks.ledger().balance("u1")).as("the probe's reported usage").isEqualTo(DEPOSIT - 30);
  }

  // 15
  @Test
  void failingSessionCallsAreTypedAndReserveNothing() throws IOException {
    ChatGateway gateway = gateway(client(UnaryOperator.identity()));
    MockResponse serverError = new MockResponse.Builder().code(500).body("{\"detail\":\"down\"}").build();
    MockResponse notFound = new MockResponse.Builder().code(404).body("{\"detail\":\"Session not found\"}").build();
    MockResponse forbidden = new MockResponse.Builder().code(403).body("{\"detail\":\"Not your session\"}").build();
    for (MockResponse response : List.of(serverError, serverError, serverError, notFound, notFound, forbidden, forbidden)) {
      service.enqueue(response);
    }

    assertThat(catchThrowable(() -> gateway.listSessions(USER, 10, null))).isInstanceOf(ServerErrorException.class);
    assertThat(catchThrowable(() -> gateway.getSession(USER, "s"))).isInstanceOf(ServerErrorException.class);
    assertThat(catchThrowable(() -> gateway.deleteSession(USER, "s"))).isInstanceOf(ServerErrorException.class);
    assertThat(catchThrowable(() -> gateway.getSession(USER, "s"))).isExactlyInstanceOf(NotFoundException.class);
    assertThat(catchThrowable(() -> gateway.deleteSession(USER, "s"))).isExactlyInstanceOf(NotFoundException.class);
    NotFoundException notTheUsers = catchThrowableOfType(NotFoundException.class, () -> gateway.getSession(USER, "s"));
    assertThat(notTheUsers.status()).isEqualTo(403);
    assertThat(catchThrowable(() -> gateway.deleteSession(USER, "s"))).isExactlyInstanceOf(NotFoundException.class);

    int port;
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = closed.getLocalPort();
    }
    // Without retries: the breaker would open after 5 refused attempts and answer the rest itself.
    ChatGateway refused = gateway(client("http://127.0.0.1:" + port + "/", UnaryOperator.identity()));
    assertThat(catchThrowable(() -> refused.listSessions(USER, 10, null))).isInstanceOf(TransportException.class);
    assertThat(catchThrowable(() -> refused.getSession(USER, "s"))).isInstanceOf(TransportException.class);
    assertThat(catchThrowable(() -> refused.deleteSession(USER, "s"))).isInstanceOf(TransportException.class);

    assertThat(service.getRequestCount()).isEqualTo(7);
    assertThat(leaks.callsStarted()).as("7 answered, 3 refused").isEqualTo(10);
    assertThat(leaks.reservations()).as("session calls are free").isZero();
    assertThat(leaks.ledger().balance("u1")).isEqualTo(DEPOSIT);
  }

  // 16
  @Test
  void cancellingAnAsyncCallClosesTheConnectionAtTheServer() throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    CountDownLatch closedByClient = new CountDownLatch(1);
    RawServer raw = leaks.closeBeforeChecking(new RawServer(socket -> {
      arrived.countDown(); // the request was read and is never answered
      socket.setSoTimeout(30_000);
      if (socket.getInputStream().read() == -1) {
        closedByClient.countDown();
      }
    }));
    List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    // A call timeout far beyond the wait below: only the cancellation can close the connection in time.
    LlmGatewayClient client = client(raw.url(), b -> b.auditSink(audit::add).timeout(Duration.ofSeconds(60)));

    CompletableFuture<ChatResponse> future = client.chatAsync(HI, USER);
    assertThat(arrived.await(5, TimeUnit.SECONDS)).as("the request reached the server").isTrue();
    future.cancel(true);

    assertThat(closedByClient.await(5, TimeUnit.SECONDS)).as("the server saw the connection close").isTrue();
    assertThat(catchThrowable(future::get)).isInstanceOf(CancellationException.class);
    assertThat(raw.connections()).isEqualTo(1);
    assertThat(audit).singleElement().satisfies(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.CANCELLED));
  }

  // 17
  @Test
  void aMidStreamErrorEventReachesTheBrowserAndChargesTheTextDelivered() {
    String error = "data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"try later\",\"retryable\":true}\n\n";
    service.enqueue(sse(SESSION + TOKEN + error));
    service.enqueue(sse(SESSION + error));
    ChatGateway gateway = gateway(client(retrying()));
    Browser afterToken = new Browser();
    Browser beforeToken = new Browser();

    RelayResult partial = gateway.stream(USER, HI, afterToken);
    long afterFirst = leaks.ledger().balance("u1");
    RelayResult nothing = gateway.stream(USER, HI, beforeToken);

    assertThat(partial.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertThat(partial.failure()).isInstanceOfSatisfying(StreamErrorException.class, e -> {
      assertThat(e.code()).isEqualTo("model_overloaded");
      assertThat(e.retryable()).isTrue();
      assertThat(e.partialText()).isEqualTo("word");
    });
    assertThat(afterToken.text()).contains("\"content\":\"word\"").contains("event: error");
    assertThat(afterFirst).as("no usage reported: 1 prompt + 1 delivered token estimated").isEqualTo(DEPOSIT - 2);
    assertThat(nothing.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertThat(nothing.failure()).isInstanceOf(StreamErrorException.class);
    assertThat(beforeToken.text()).contains("event: error").doesNotContain("word");
    assertThat(leaks.ledger().balance("u1")).as("nothing delivered, nothing charged").isEqualTo(afterFirst);
    assertThat(service.getRequestCount()).as("not retried").isEqualTo(2);
  }

  // 18
  @Test
  void dataThatIsNotJsonIsSkippedAndTheAnswerChargedItsReportedUsage() {
    service.enqueue(sse(SESSION + "data: not json\n\n" + TOKEN + "data: {\"type\":\n\n" + TOKEN + DONE));
    Browser browser = new Browser();

    RelayResult result = gateway(client(UnaryOperator.identity())).stream(USER, HI, browser);

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(result.completion().text()).isEqualTo("wordword");
    assertThat(result.completion().skippedEvents()).isEqualTo(2);
    assertThat(browser.text()).doesNotContain("not json").contains("event: complete");
    assertThat(leaks.ledger().balance("u1")).as("the reported usage").isEqualTo(DEPOSIT - 30);
  }

  @Test
  void dataThatIsNotJsonFailsAStrictStreamAndChargesTheTextDelivered() {
    service.enqueue(sse(SESSION + TOKEN + "data: not json\n\n" + TOKEN + DONE));
    Browser browser = new Browser();

    RelayResult result = gateway(client(UnaryOperator.identity()), b -> b.strictStreams(true)).stream(USER, HI, browser);

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertThat(result.failure()).isInstanceOf(InvalidResponseException.class);
    assertThat(browser.text()).contains("\"content\":\"word\"").contains("event: error").doesNotContain("not json");
    assertThat(leaks.ledger().balance("u1")).as("no usage reported: 1 prompt + 1 delivered token estimated")
        .isEqualTo(DEPOSIT - 2);
    assertThat(service.getRequestCount()).as("not retried").isEqualTo(1);
  }

  /** The default retry policy (3 attempts) without jitter, its waits recorded instead of slept. */
  private UnaryOperator<LlmGatewayClient.Builder> retrying() {
    return b -> b.retryPolicy(RetryPolicy.builder().jitter(0).build()).sleeper(waits::add);
  }

  private LlmGatewayClient client(UnaryOperator<LlmGatewayClient.Builder> configure) {
    return client(service.url("/").toString(), configure);
  }

  private LlmGatewayClient client(String baseUrl, UnaryOperator<LlmGatewayClient.Builder> configure) {
    LlmGatewayClient.Builder builder = LlmGatewayClient.builder()
        .baseUrl(baseUrl).serviceToken("t").environment(name -> null)
        .okHttpClient(leaks.http().build())
        .auditSink(AuditSink.none()).retryPolicy(RetryPolicy.none())
        .connectTimeout(Duration.ofSeconds(2)).timeout(Duration.ofSeconds(5)).streamTimeout(Duration.ofSeconds(5));
    return leaks.closeBeforeChecking(configure.apply(builder).build());
  }

  private ChatGateway gateway(LlmGatewayClient client) {
    return gateway(client, UnaryOperator.identity());
  }

  /**
   * A gateway charging 1 credit per token and holding 100 per call, with room for any number of
   * calls. Its streams also run under a total limit that never fires here, so that every stream
   * arms all its timers and the leak check sees any left armed.
   */
  private ChatGateway gateway(LlmGatewayClient client, UnaryOperator<ChatGateway.Builder> configure) {
    return configure.apply(ChatGateway.builder().client(client).ledger(leaks.countingLedger())
        .rateLimiter(InMemoryRateLimiter.create(RateLimits.builder().calls(RateLimit.perMinute(1_000_000))
            .streamStarts(RateLimit.perMinute(1_000_000)).build()))
        .pricing((operation, usage) -> usage.totalTokens())
        .estimate(request -> 100)
        .streamTotalTimeout(Duration.ofMinutes(10))).build();
  }

  private static MockResponse sse(String body) {
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "text/event-stream").body(body).build();
  }

  /**
   * The user's browser as the host's response: records what was relayed, tells when the first
   * token arrived, and can go away (the host cancelling) when the relay writes a chunk event
   * beyond the number allowed.
   */
  private static final class Browser extends OutputStream implements ChatGateway.SseResponse {
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final CountDownLatch token = new CountDownLatch(1);
    private final int allowedChunks;
    private int chunks;
    volatile boolean started;

    Browser() {
      this(Integer.MAX_VALUE);
    }

    Browser(int allowedChunks) {
      this.allowedChunks = allowedChunks;
    }

    @Override
    public OutputStream start(java.util.Map<String, String> headers) {
      started = true;
      return this;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      String written = new String(b, off, len, StandardCharsets.UTF_8);
      if (written.contains("event: chunk") && ++chunks > allowedChunks) {
        throw new IOException("the host cancelled the response");
      }
      received.write(b, off, len);
      if (written.contains("\"type\":\"token\"")) {
        token.countDown();
      }
    }

    synchronized String text() {
      return received.toString(StandardCharsets.UTF_8);
    }

    void awaitToken() throws InterruptedException {
      assertThat(token.await(5, TimeUnit.SECONDS)).as("the first token reached the browser").isTrue();
    }
  }
}
