package dev.llmgateway;

import static dev.llmgateway.ChatStreamTest.DONE;
import static dev.llmgateway.ChatStreamTest.END;
import static dev.llmgateway.ChatStreamTest.HELLO;
import static dev.llmgateway.ChatStreamTest.SESSION;
import static dev.llmgateway.ChatStreamTest.sse;
import static dev.llmgateway.TestSupport.CHAT_JSON;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.testkit.SseResponses;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.SocketEffect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The contract between the client and a pluggable {@link CircuitBreaker}: exactly one outcome per
 * permitted attempt, a stream's with its first event; and a host breaker that throws is contained.
 */
class CircuitBreakerContractTest extends MockServerTest {
  private final RecordingBreaker breaker = new RecordingBreaker();

  /** Records permits and outcomes; an outcome without an outstanding permit is recorded as a violation. */
  static class RecordingBreaker implements CircuitBreaker {
    final List<String> outcomes = new CopyOnWriteArrayList<>();
    final AtomicInteger permits = new AtomicInteger();
    final AtomicInteger outstanding = new AtomicInteger();

    @Override
    public boolean tryAcquire() {
      permits.incrementAndGet();
      outstanding.incrementAndGet();
      return true;
    }

    @Override
    public void onSuccess() {
      settle("success");
    }

    @Override
    public void onFailure() {
      settle("failure");
    }

    @Override
    public void onIgnored() {
      settle("ignored");
    }

    private void settle(String outcome) {
      outcomes.add(outstanding.decrementAndGet() < 0 ? "UNPERMITTED " + outcome : outcome);
    }

    @Override
    public State state() {
      return State.CLOSED;
    }

    @Override
    public Duration remainingOpenTime() {
      return Duration.ZERO;
    }

    @Override
    public void addListener(StateListener listener) {}

    @Override
    public void removeListener(StateListener listener) {}
  }

  @Override
  LlmGatewayClient.Builder configure(LlmGatewayClient.Builder builder) {
    return builder.circuitBreaker(breaker);
  }

  @AfterEach
  void everyPermitWasSettledOnce() {
    assertThat(breaker.outstanding).as("permits not settled").hasValue(0);
    assertThat(breaker.outcomes).hasSize(breaker.permits.get());
  }

  @Test
  void eachAttemptOfARetriedCallIsSettledOnce() {
    server.enqueue(json(503, "{}"));
    server.enqueue(json(404, "{\"detail\":\"nope\"}"));
    catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));
    server.enqueue(chatOk());
    client.chat(ChatRequest.of("hi"), USER);

    assertThat(breaker.outcomes).containsExactly("failure", "success", "success");
  }

  @Test
  void aSuccessfulAnswerWhoseBodyIsCutOffCountsOnlyAsAFailure() {
    server.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
        .body(CHAT_JSON).onResponseBody(new SocketEffect.CloseSocket(true, false, false)).build());
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    assertThat(breaker.outcomes).containsExactly("failure", "success");
  }

  @Test
  void aStreamIsSettledByItsFirstEventNotByItsOpening() {
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(SseResponses.paused(": opened\n\n", release, HELLO + DONE + END, 1, new CountDownLatch(1)));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(breaker.outcomes).as("open, no event yet").isEmpty();
      release.countDown();
      assertThat(stream.iterator().next()).isInstanceOf(StreamEvent.Token.class);
      assertThat(breaker.outcomes).containsExactly("success");
      stream.completion();
    }
    assertThat(breaker.outcomes).containsExactly("success");
  }

  @Test
  void aStreamCutBeforeItsFirstEventIsAFailureAndOneClosedBeforeItIsIgnored() {
    server.enqueue(sse(""));
    server.enqueue(sse(SESSION + DONE + END));
    try (ChatStream retried = client.chatStream(ChatRequest.of("hi"), USER)) {
      retried.completion();
    }
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(SseResponses.stalled(": opened\n\n", release));
    try {
      client.chatStream(ChatRequest.of("hi"), USER).close();
    } finally {
      release.countDown();
    }

    assertThat(breaker.outcomes).containsExactly("failure", "success", "ignored");
  }

  @Test
  void aStreamWhoseTotalLimitFiresBeforeItsFirstEventIsAFailure() {
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(SseResponses.stalled(": opened\n\n", release));
    StreamOptions options = StreamOptions.builder()
        .firstEventTimeout(Duration.ofSeconds(20)).totalTimeout(Duration.ofSeconds(1)).build();
    Throwable e;
    try {
      e = catchThrowable(() -> {
        try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, options)) {
          stream.completion();
        }
      });
    } finally {
      release.countDown();
    }

    assertThat(e).isInstanceOf(CallTimeoutException.class);
    assertThat(((CallTimeoutException) e).limit()).isEqualTo(CallTimeoutException.Limit.TOTAL);
    assertThat(breaker.outcomes).containsExactly("failure");
  }

  @Test
  void aPublisherStreamIsSettledByItsFirstEvent() throws Exception {
    server.enqueue(sse(SESSION + HELLO + DONE + END));
    ChatPublisherTest.Recorder subscriber = new ChatPublisherTest.Recorder(Long.MAX_VALUE);
    client.chatPublisher(ChatRequest.of("hi"), USER).subscribe(subscriber);
    subscriber.awaitTerminal();

    assertThat(breaker.outcomes).containsExactly("success");
  }

  /** A host breaker that throws from every method, or only from tryAcquire, once. */
  static final class ThrowingBreaker extends RecordingBreaker {
    final AtomicInteger refuseByThrowing = new AtomicInteger();
    volatile boolean throwFromOutcomes;

    @Override
    public boolean tryAcquire() {
      if (refuseByThrowing.getAndDecrement() > 0) {
        throw new IllegalStateException("breaker bug in tryAcquire");
      }
      return super.tryAcquire();
    }

    @Override
    public void onSuccess() {
      super.onSuccess();
      if (throwFromOutcomes) {
        throw new IllegalStateException("breaker bug in onSuccess");
      }
    }

    @Override
    public Duration remainingOpenTime() {
      throw new IllegalStateException("breaker bug in remainingOpenTime");
    }
  }

  @Test
  void aHostBreakerThatThrowsFromTryAcquireRefusesTheAttemptWithoutSendingItAndWithoutKeepingItsSlot() {
    ThrowingBreaker throwing = new ThrowingBreaker();
    throwing.refuseByThrowing.set(1);
    useClient(clientBuilder().circuitBreaker(throwing).maxConcurrentRequests(1).maxQueueWait(Duration.ZERO));
    server.enqueue(chatOk());

    Throwable refused = catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));
    ChatResponse next = client.chat(ChatRequest.of("hi"), USER);

    assertThat(refused).isInstanceOf(CircuitOpenException.class);
    assertThat(((CircuitOpenException) refused).retryAfter()).isZero();
    assertThat(next.answer()).isEqualTo("I found 3 candidates");
    assertThat(server.getRequestCount()).isEqualTo(1);
    assertThat(throwing.outcomes).containsExactly("success");
    assertThat(audit.events).extracting(AuditEvent::outcome)
        .containsExactly(AuditEvent.Outcome.FAILURE, AuditEvent.Outcome.SUCCESS);
  }

  @Test
  void aHostBreakerThatThrowsFromItsOutcomesBreaksNeitherCallsNorStreams() throws Exception {
    ThrowingBreaker throwing = new ThrowingBreaker();
    throwing.throwFromOutcomes = true;
    useClient(clientBuilder().circuitBreaker(throwing));
    server.enqueue(chatOk());
    server.enqueue(sse(SESSION + HELLO + DONE + END));

    client.chat(ChatRequest.of("hi"), USER);
    StreamCallbackTest.Recorder listener = new StreamCallbackTest.Recorder();
    client.chatStream(ChatRequest.of("hi"), USER, listener);
    listener.await();

    assertThat(listener.completion.text()).isEqualTo("Hello");
    assertThat(listener.terminal).hasValue(1);
    assertThat(throwing.outcomes).containsExactly("success", "success");
    assertThat(audit.events).extracting(AuditEvent::outcome)
        .containsExactly(AuditEvent.Outcome.SUCCESS, AuditEvent.Outcome.SUCCESS);
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void theClientReturnsTheHostsOwnBreaker() {
    assertThat(client.circuitBreaker()).isSameAs(breaker);
    try (LlmGatewayClient derived = client.newBuilder().timeout(Duration.ofSeconds(5)).build()) {
      assertThat(derived.circuitBreaker()).isSameAs(breaker);
    }
  }
}
