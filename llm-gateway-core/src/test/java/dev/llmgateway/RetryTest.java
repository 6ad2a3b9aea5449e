package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RetryTest extends MockServerTest {


  private List<RecordedRequest> takeAll() throws InterruptedException {
    List<RecordedRequest> all = new ArrayList<>();
    for (int i = server.getRequestCount(); i > 0; i--) {
      all.add(server.takeRequest());
    }
    return all;
  }

  @ParameterizedTest
  @ValueSource(ints = {409, 429, 502, 503, 504})
  void retryableStatusIsRetriedWithTheSameIds(int status) throws Exception {
    server.enqueue(json(status, "{\"detail\":\"busy\"}"));
    server.enqueue(json(status, "{\"detail\":\"busy\"}"));
    server.enqueue(chatOk());

    ChatResponse response = client.chat(ChatRequest.of("hi"), USER);

    List<RecordedRequest> attempts = takeAll();
    assertThat(attempts).hasSize(3);
    assertThat(attempts).extracting(r -> r.getHeaders().get("X-Request-Id")).containsOnly(response.requestId());
    assertThat(attempts).extracting(r -> r.getHeaders().get("Idempotency-Key")).hasSize(3).doesNotContainNull()
        .containsOnly(attempts.get(0).getHeaders().get("Idempotency-Key"));
    assertThat(attempts).extracting(r -> r.getBody().utf8()).containsOnly("{\"query\":\"hi\"}");
  }

  @Test
  void backoffGrowsExponentially() {
    server.enqueue(json(503, "{}"));
    server.enqueue(json(503, "{}"));
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    assertThat(time.sleeps).containsExactly(Duration.ofMillis(500), Duration.ofMillis(1000));
  }

  @Test
  void givesUpAfterMaxRetriesWithTheAttemptCount() {
    for (int i = 0; i < 3; i++) {
      server.enqueue(json(503, "{\"detail\":\"overloaded\"}"));
    }
    ServiceUnavailableException e =
        catchThrowableOfType(ServiceUnavailableException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.attempts()).isEqualTo(3);
    assertThat(e.status()).isEqualTo(503);
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @ParameterizedTest
  @ValueSource(ints = {400, 401, 403, 404, 422, 500})
  void nonRetryableStatusIsNotRetried(int status) {
    server.enqueue(json(status, "{\"detail\":\"no\"}"));
    server.enqueue(chatOk());

    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER))).isInstanceOf(LlmGatewayException.class);
    assertThat(server.getRequestCount()).isEqualTo(1);
    assertThat(time.sleeps).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 10})
  void retryAfterSecondsIsHonoured(int seconds) {
    server.enqueue(new MockResponse.Builder().code(429).setHeader("Retry-After", String.valueOf(seconds)).build());
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    assertThat(time.sleeps).containsExactly(Duration.ofSeconds(seconds));
  }

  @Test
  void retryAfterHttpDateIsHonoured() {
    Clock clock = Clock.fixed(Instant.parse("2026-11-28T12:00:00Z"), ZoneOffset.UTC);
    useClient(clientBuilder().clock(clock));
    server.enqueue(new MockResponse.Builder().code(503).setHeader("Retry-After", "Sat, 28 Nov 2026 12:00:04 GMT").build());
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    assertThat(time.sleeps).containsExactly(Duration.ofSeconds(4));
  }

  @Test
  void retryAfterBeyondTheCapEndsTheCallAtOnce() {
    server.enqueue(new MockResponse.Builder().code(429).setHeader("Retry-After", "3600").build());
    server.enqueue(chatOk());

    ServiceRateLimitedException e = catchThrowableOfType(ServiceRateLimitedException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.retryAfter()).isEqualTo(Duration.ofHours(1));
    assertThat(server.getRequestCount()).isEqualTo(1);
    assertThat(time.sleeps).isEmpty();
  }

  @Test
  void noRetryPolicyMakesOneAttempt() {
    useClient(clientBuilder().retryPolicy(RetryPolicy.none()));
    server.enqueue(json(503, "{}"));
    server.enqueue(chatOk());

    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER))).isInstanceOf(ServiceUnavailableException.class);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void connectionResetBeforeTheResponseIsRetried() throws Exception {
    server.enqueue(TestSupport.resetBeforeTheResponse());
    server.enqueue(chatOk());

    ChatResponse response = client.chat(ChatRequest.of("hi"), USER);

    assertThat(response.answer()).isEqualTo("I found 3 candidates");
    assertThat(time.sleeps).hasSize(1);
  }

  @Test
  void timedOutAttemptIsRetriedThenSucceeds() throws Exception {
    // Long enough for the second attempt to succeed on a loaded machine; the first one stalls.
    useClient(clientBuilder().timeout(Duration.ofSeconds(2)));
    server.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build());
    server.enqueue(chatOk());

    ChatResponse response = client.chat(ChatRequest.of("hi"), USER);

    assertThat(response.sessionId()).isEqualTo("sess_8f14e45f");
    List<RecordedRequest> attempts = takeAll();
    assertThat(attempts.get(0).getHeaders().get("Idempotency-Key")).isEqualTo(attempts.get(1).getHeaders().get("Idempotency-Key"));
  }

  @Test
  void timedOutAttemptIsNotRetriedWhenThePolicySaysSo() {
    useClient(clientBuilder().timeout(Duration.ofMillis(200))
        .retryPolicy(RetryPolicy.builder().jitter(0).retryOnTimeout(false).build()));
    server.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build());
    server.enqueue(chatOk());

    CallTimeoutException e = catchThrowableOfType(CallTimeoutException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.attempts()).isEqualTo(1);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void networkFailureIsNotRetriedWhenThePolicySaysSo() throws Exception {
    useClient(clientBuilder().baseUrl(TestSupport.refusingUrl())
        .retryPolicy(RetryPolicy.builder().jitter(0).retryOnNetworkFailure(false).build()));

    TransportException e =
        catchThrowableOfType(TransportException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.isRetryable()).isFalse();
    assertThat(e.attempts()).isEqualTo(1);
    assertThat(time.sleeps).isEmpty();
  }

  @Test
  void timeoutAfterTheLastAttemptSaysWhichLimitFired() {
    useClient(clientBuilder().timeout(Duration.ofMillis(200)).retryPolicy(RetryPolicy.none()));
    server.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build());

    CallTimeoutException e = catchThrowableOfType(CallTimeoutException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.CALL);
    assertThat(e.attempts()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(ints = {1200, 1500})
  void noAttemptStartsAfterTheDeadline(int deadlineMillis) {
    useClient(clientBuilder()
        .retryPolicy(RetryPolicy.builder().jitter(0).maxRetries(5).deadline(Duration.ofMillis(deadlineMillis)).build()));
    for (int i = 0; i < 6; i++) {
      server.enqueue(json(503, "{}"));
    }

    ServiceUnavailableException e =
        catchThrowableOfType(ServiceUnavailableException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    // After 500 ms of backoff the next wait is 1000 ms: it would end past (1.2 s) or exactly on
    // (1.5 s) the deadline, with no time left to try. Only the first wait is taken.
    assertThat(time.sleeps).containsExactly(Duration.ofMillis(500));
    assertThat(e.attempts()).isEqualTo(2);
  }

  @Test
  void failedAttemptResponseIsClosedBeforeTheNextOne() throws Exception {
    // Both attempts reuse one pooled connection only if the first response body was consumed and closed.
    server.enqueue(json(503, "{\"detail\":\"busy\"}"));
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    RecordedRequest first = server.takeRequest();
    RecordedRequest second = server.takeRequest();
    assertThat(second.getConnectionIndex()).isEqualTo(first.getConnectionIndex());
  }

  @Test
  void customRetryableStatuses() {
    useClient(clientBuilder()
        .retryPolicy(RetryPolicy.builder().jitter(0).retryableStatuses(Set.of(500)).build()));
    server.enqueue(json(500, "{}"));
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void sleepingThreadInterruptedEndsTheCallAsCancelled() {
    useClient(clientBuilder().sleeper(d -> {
      throw new InterruptedException();
    }));
    server.enqueue(json(503, "{}"));

    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER))).isInstanceOf(CallCancelledException.class);
    assertThat(Thread.interrupted()).isTrue();
  }

  @Test
  void policyComputesJitteredBackoffWithinBounds() {
    RetryPolicy policy = RetryPolicy.ofDefaults();
    assertThat(policy.delayBeforeRetry(1, null, 0.0)).isEqualTo(Duration.ofMillis(400));
    assertThat(policy.delayBeforeRetry(1, null, 0.5)).isEqualTo(Duration.ofMillis(500));
    assertThat(policy.delayBeforeRetry(1, null, 0.999999)).isBetween(Duration.ofMillis(599), Duration.ofMillis(600));
    assertThat(policy.delayBeforeRetry(10, null, 0.5)).isEqualTo(Duration.ofSeconds(8));
    assertThat(policy.delayBeforeRetry(10, null, 1.0)).isEqualTo(Duration.ofSeconds(8));
    assertThat(policy.delayBeforeRetry(1, Duration.ofSeconds(31), 0.5)).isNull();
  }

  @Test
  void serverStallIsCutByTheTimeoutNotWaitedOut() throws Exception {
    useClient(clientBuilder().timeout(Duration.ofMillis(100)).retryPolicy(RetryPolicy.none()));
    server.enqueue(new MockResponse.Builder().headersDelay(1, TimeUnit.HOURS).build());

    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER))).isInstanceOf(CallTimeoutException.class);
  }
}
