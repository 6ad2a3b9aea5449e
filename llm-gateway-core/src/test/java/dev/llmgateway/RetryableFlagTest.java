package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.testkit.SseResponses;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import mockwebserver3.MockResponse;
import mockwebserver3.SocketEffect;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link LlmGatewayException#isRetryable()} agrees with the client's {@link RetryPolicy}: for each
 * failure the service or the network can cause, the flag read from a client with no retries left
 * equals whether a client with one retry left sends a second request.
 */
class RetryableFlagTest extends MockServerTest {
  private static final Duration SHORT = Duration.ofMillis(200);
  private static final Duration LONG = Duration.ofSeconds(30);
  private static final int[] STATUSES = {400, 401, 403, 404, 405, 409, 422, 429, 500, 501, 502, 503, 504};

  /** Latches that hold stalled answers; released after each test so the server can close. */
  private final List<CountDownLatch> stalls = new ArrayList<>();

  @AfterEach
  void releaseStalls() {
    stalls.forEach(CountDownLatch::countDown);
  }

  /**
   * A failure served by MockWebServer, and the policy setting that decides whether it is retried.
   * Only a stalling answer gets a short time limit: a cold first call may take longer than it.
   */
  record Failure(
      String name, Function<RetryableFlagTest, MockResponse> answer, Function<RetryPolicy, Boolean> retried,
      Duration limit) {
    Failure(String name, Function<RetryableFlagTest, MockResponse> answer, Function<RetryPolicy, Boolean> retried) {
      this(name, answer, retried, LONG);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** Failures of the attempt before any answer body: the same for chats and streams. */
  static List<Failure> beforeTheBody() {
    List<Failure> failures = new ArrayList<>();
    for (int status : STATUSES) {
      failures.add(new Failure("HTTP " + status, t -> json(status, "{\"detail\":\"no\"}"),
          p -> p.isRetryableStatus(status)));
    }
    failures.add(new Failure("connection reset before the answer", t -> TestSupport.resetBeforeTheResponse(),
        RetryPolicy::retryOnNetworkFailure));
    return failures;
  }

  static List<Failure> jsonFailures() {
    List<Failure> failures = beforeTheBody();
    failures.add(new Failure("answer stalled past the attempt timeout",
        t -> new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build(),
        RetryPolicy::retryOnTimeout, SHORT));
    return failures;
  }

  static List<Failure> streamFailures() {
    List<Failure> failures = beforeTheBody();
    failures.add(new Failure("stream ended before its first event", t -> ChatStreamTest.sse(""),
        RetryPolicy::retryOnNetworkFailure));
    failures.add(new Failure("connection lost before the first event",
        t -> SseResponses.cutHalfway(": ping\n\ndata: {\"type\":\"sess"), RetryPolicy::retryOnNetworkFailure));
    failures.add(new Failure(
        "no first event in time", RetryableFlagTest::stalledStream, RetryPolicy::retryOnTimeout, SHORT));
    return failures;
  }

  static Stream<RetryPolicy> policies() {
    RetryPolicy defaults = RetryPolicy.builder().jitter(0).build();
    return Stream.of(
        defaults,
        defaults.toBuilder().retryableStatuses(Set.of(500, 501, 503)).build(),
        defaults.toBuilder().retryableStatuses(Set.of()).retryOnTimeout(false).retryOnNetworkFailure(false).build());
  }

  static Stream<Arguments> jsonCases() {
    return policies().flatMap(p -> jsonFailures().stream().map(f -> Arguments.of(f, p)));
  }

  static Stream<Arguments> streamCases() {
    return policies().flatMap(p -> streamFailures().stream().map(f -> Arguments.of(f, p)));
  }

  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("jsonCases")
  void aChatFailureIsRetryableExactlyWhenThePolicyRetriesIt(Failure failure, RetryPolicy policy) {
    assertFlagAgreesWithTheRetry(failure, policy, b -> b.timeout(failure.limit()),
        () -> client.chat(ChatRequest.of("hi"), USER));
  }

  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("streamCases")
  void aStreamFailureBeforeItsFirstEventIsRetryableExactlyWhenThePolicyRetriesIt(Failure failure, RetryPolicy policy) {
    StreamOptions options = StreamOptions.builder().firstEventTimeout(failure.limit()).build();
    assertFlagAgreesWithTheRetry(failure, policy, b -> b, () -> {
      try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, options)) {
        stream.completion();
      }
    });
  }

  /**
   * Reads the flag from a client with no retries left, then counts the requests a client with one
   * retry left sends for the same failure.
   */
  private void assertFlagAgreesWithTheRetry(
      Failure failure, RetryPolicy policy, UnaryOperator<LlmGatewayClient.Builder> settings, ThrowingCallable call) {
    useClient(settings.apply(clientBuilder()).retryPolicy(policy.toBuilder().maxRetries(0).build()));
    server.enqueue(failure.answer().apply(this));
    LlmGatewayException last = catchThrowableOfType(LlmGatewayException.class, call);

    useClient(settings.apply(clientBuilder()).retryPolicy(policy.toBuilder().maxRetries(1).build()));
    server.enqueue(failure.answer().apply(this));
    server.enqueue(failure.answer().apply(this));
    catchThrowable(call);

    assertThat(last).isNotNull();
    assertThat(last.isRetryable()).as("isRetryable() of %s", last).isEqualTo(failure.retried().apply(policy));
    assertThat(lastAttempts()).as("attempts with one retry left").isEqualTo(last.isRetryable() ? 2 : 1);
    assertThat(server.getRequestCount()).as("requests the server saw in both calls")
        .isEqualTo(last.isRetryable() ? 3 : 2);
  }

  @ParameterizedTest(name = "retryOnNetworkFailure={0}")
  @ValueSource(booleans = {true, false})
  void aRefusedConnectionIsRetryableExactlyWhenThePolicyRetriesNetworkFailures(boolean retryOnNetworkFailure)
      throws Exception {
    String refusing = TestSupport.refusingUrl();
    RetryPolicy policy = RetryPolicy.builder().jitter(0).retryOnNetworkFailure(retryOnNetworkFailure).build();
    useClient(clientBuilder().baseUrl(refusing).retryPolicy(policy.toBuilder().maxRetries(0).build()));
    TransportException last =
        catchThrowableOfType(TransportException.class, () -> client.chat(ChatRequest.of("hi"), USER));
    useClient(clientBuilder().baseUrl(refusing).retryPolicy(policy.toBuilder().maxRetries(1).build()));
    TransportException retried =
        catchThrowableOfType(TransportException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(last.isRetryable()).isEqualTo(retryOnNetworkFailure);
    assertThat(retried.attempts()).isEqualTo(last.isRetryable() ? 2 : 1);
  }

  @ParameterizedTest(name = "retryOnNetworkFailure={0}")
  @ValueSource(booleans = {true, false})
  void aStreamCutAfterItsFirstEventIsNotRetriedButSaysWhetherANewCallIsSensible(boolean retryOnNetworkFailure) {
    useClient(clientBuilder()
        .retryPolicy(RetryPolicy.builder().jitter(0).retryOnNetworkFailure(retryOnNetworkFailure).build()));
    server.enqueue(ChatStreamTest.sse(ChatStreamTest.SESSION + ChatStreamTest.HELLO));
    server.enqueue(ChatStreamTest.sse(ChatStreamTest.FULL));

    StreamInterruptedException e;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      e = catchThrowableOfType(StreamInterruptedException.class, stream::completion);
    }

    assertThat(e.partialText()).isEqualTo("Hello");
    assertThat(e.isRetryable()).isEqualTo(retryOnNetworkFailure);
    assertThat(server.getRequestCount()).as("requests").isEqualTo(1);
  }

  @Test
  void aServiceErrorEventCarriesTheServicesWordAndIsNotRetried() {
    server.enqueue(ChatStreamTest.sse(ChatStreamTest.SESSION
        + "data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"busy\",\"retryable\":true}\n\n"));
    server.enqueue(ChatStreamTest.sse(ChatStreamTest.FULL));

    StreamErrorException e;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      e = catchThrowableOfType(StreamErrorException.class, stream::completion);
    }

    assertThat(e.isRetryable()).isTrue();
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void theRetryDeadlineThatEndsRetriesOfA503KeepsItsRetryableFlag() {
    // Each wait overshoots, so the deadline has passed when the next attempt would start.
    useClient(clientBuilder()
        .sleeper(d -> time.advance(Duration.ofSeconds(2)))
        .retryPolicy(RetryPolicy.builder().jitter(0).deadline(Duration.ofSeconds(1)).retryOnTimeout(false).build()));
    server.enqueue(json(503, "{\"detail\":\"busy\"}"));
    server.enqueue(chatOk());

    CallTimeoutException e = catchThrowableOfType(CallTimeoutException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.DEADLINE);
    assertThat(e.getCause()).isInstanceOf(ServiceUnavailableException.class);
    assertThat(e.isRetryable()).as("a new call may succeed as far as the 503 could").isTrue();
  }

  @Test
  void refusalsBeforeAnythingWasSentSayWhetherTheyPassWithTime() {
    assertThat(new CircuitOpenException(Duration.ofSeconds(1), "r", 0, null).isRetryable()).isTrue();
    assertThat(new ConcurrencyLimitExceededException(1, Duration.ZERO, "r").isRetryable()).isTrue();
    assertThat(new ValidationException(List.of(new ValidationException.Violation("query", "blank")), "r")
        .isRetryable()).isFalse();
    assertThat(new CallCancelledException("r", 0, null).isRetryable()).isFalse();
    assertThat(new InvalidResponseException("bad", 200, "r", 1, null).isRetryable()).isFalse();
  }

  private MockResponse stalledStream() {
    CountDownLatch release = new CountDownLatch(1);
    stalls.add(release);
    return SseResponses.stalled(": waiting\n\n", release);
  }

  private int lastAttempts() {
    assertThat(audit.events).isNotEmpty();
    return audit.events.get(audit.events.size() - 1).attempts();
  }
}
