package dev.llmgateway;

import static dev.llmgateway.ChatStreamTest.DONE;
import static dev.llmgateway.ChatStreamTest.END;
import static dev.llmgateway.ChatStreamTest.SESSION;
import static dev.llmgateway.TestSupport.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.testkit.SseResponses;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.Test;

/**
 * Calls end when they are told to: a cancel stops delivery even of events already buffered, ends a
 * wait between attempts at once, and a stream's total limit bounds those waits.
 */
class CancelAndDeadlineTest extends MockServerTest {
  /** 50 tokens and the end: about 2 KiB, in the client's buffer after its first read. */
  private static final String BUFFERED = SESSION
      + "data: {\"type\":\"token\",\"content\":\"word \"}\n\n".repeat(50) + DONE + END;

  @Test
  void cancelFromAnotherThreadStopsEventsAlreadyBuffered() throws Exception {
    server.enqueue(SseResponses.sse(BUFFERED));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      Iterator<StreamEvent> events = stream.iterator();
      assertThat(events.next()).isInstanceOf(StreamEvent.SessionStarted.class);
      Thread canceller = new Thread(stream::cancel);
      canceller.start();
      canceller.join();

      assertThat(catchThrowable(events::hasNext)).isInstanceOf(CallCancelledException.class);
      assertThat(catchThrowable(events::hasNext)).as("and on every later read").isInstanceOf(CallCancelledException.class);
    }
    assertThat(audit.events).singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.CANCELLED));
  }

  @Test
  void completionAfterCancelIsACancellationNotTheBufferedAnswer() {
    server.enqueue(SseResponses.sse(BUFFERED));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      stream.iterator().next();
      stream.cancel();
      assertThat(catchThrowable(stream::completion)).isInstanceOf(CallCancelledException.class);
    }
    assertThat(audit.events).singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.CANCELLED));
  }

  @Test
  void cancelInsideOnTokenStopsEveryLaterCallbackEvenWhenBuffered() throws Exception {
    server.enqueue(SseResponses.sse(BUFFERED));
    StreamHandle[] handle = new StreamHandle[1];
    CountDownLatch handed = new CountDownLatch(1);
    StreamCallbackTest.Recorder recorder = new StreamCallbackTest.Recorder() {
      @Override
      public void onEvent(StreamEvent event) {
        super.onEvent(event);
        if (event instanceof StreamEvent.Token) {
          awaitUninterruptibly(handed);
          handle[0].cancel();
        }
      }
    };
    handle[0] = client.chatStream(ChatRequest.of("hi"), USER, recorder);
    handed.countDown();
    recorder.await();

    // The token's own onToken comes after the cancel inside onEvent: it is not delivered either.
    assertThat(recorder.calls).containsExactly("event session", "event token");
    assertThat(recorder.error).isInstanceOf(CallCancelledException.class);
    assertThat(recorder.completion).isNull();
    assertThat(recorder.terminal).hasValue(1);
    assertThat(audit.events).singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.CANCELLED));
  }

  @Test
  void cancelEndsACallbackStreamsRetryWaitAtOnce() throws Exception {
    CountDownLatch waiting = new CountDownLatch(1);
    useClient(realTime(waiting));
    server.enqueue(new MockResponse.Builder().code(429).setHeader("Retry-After", "30").build());
    StreamCallbackTest.Recorder recorder = new StreamCallbackTest.Recorder();
    StreamHandle handle = client.chatStream(ChatRequest.of("hi"), USER, recorder);
    assertThat(waiting.await(10, TimeUnit.SECONDS)).isTrue();

    handle.cancel();

    // Liveness, not speed: the wait was 30 s; the stream ends long before.
    assertThat(recorder.ended.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(recorder.error).isInstanceOf(CallCancelledException.class);
    assertThat(server.getRequestCount()).isEqualTo(1);
    assertThat(audit.events).singleElement()
        .satisfies(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.CANCELLED));
  }

  @Test
  void cancelEndsAnIteratorStreamsRetryWaitAtOnce() throws Exception {
    CountDownLatch waiting = new CountDownLatch(1);
    useClient(realTime(waiting).retryPolicy(RetryPolicy.builder().jitter(0)
        .initialBackoff(Duration.ofSeconds(30)).maxBackoff(Duration.ofSeconds(30)).build()));
    server.enqueue(SseResponses.sse(": no event before the end\n\n"));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      Throwable[] thrown = new Throwable[1];
      CountDownLatch ended = new CountDownLatch(1);
      // The stream ends before its first event; the reader then waits 30 s to retry.
      Thread reader = new Thread(() -> {
        thrown[0] = catchThrowable(stream::completion);
        ended.countDown();
      });
      reader.start();
      assertThat(waiting.await(10, TimeUnit.SECONDS)).isTrue();

      stream.cancel();

      // Liveness, not speed: the wait was 30 s; the reader ends long before.
      assertThat(ended.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(thrown[0]).isInstanceOf(CallCancelledException.class);
    }
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aRetryWaitPastTheTotalLimitEndsTheStreamAtOnceWithTotal() {
    server.enqueue(new MockResponse.Builder().code(429).setHeader("Retry-After", "5").build());
    StreamOptions options = StreamOptions.builder().totalTimeout(Duration.ofMillis(1500)).build();

    CallTimeoutException e = catchThrowableOfType(CallTimeoutException.class,
        () -> client.chatStream(ChatRequest.of("hi"), USER, options));

    assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.TOTAL);
    assertThat(e).hasCauseInstanceOf(ServiceRateLimitedException.class).hasMessageContaining("1500 ms");
    assertThat(time.sleeps).isEmpty();
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aBackoffPastTheTotalLimitEndsACallbackStreamWithTotal() throws Exception {
    useClient(clientBuilder().retryPolicy(RetryPolicy.builder().jitter(0).initialBackoff(Duration.ofSeconds(2)).build()));
    server.enqueue(new MockResponse.Builder().code(503).build());
    StreamOptions options = StreamOptions.builder().totalTimeout(Duration.ofMillis(1500)).build();
    StreamCallbackTest.Recorder recorder = new StreamCallbackTest.Recorder();

    client.chatStream(ChatRequest.of("hi"), USER, options, recorder);
    recorder.await();

    assertThat(recorder.error).isInstanceOfSatisfying(CallTimeoutException.class,
        t -> assertThat(t.limit()).isEqualTo(CallTimeoutException.Limit.TOTAL));
    assertThat(time.sleeps).isEmpty();
  }

  @Test
  void aRetryWaitWithinTheTotalLimitStillRetries() {
    server.enqueue(new MockResponse.Builder().code(429).setHeader("Retry-After", "1").build());
    server.enqueue(SseResponses.sse(BUFFERED));
    StreamOptions options = StreamOptions.builder().totalTimeout(Duration.ofSeconds(10)).build();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, options)) {
      assertThat(stream.text()).startsWith("word word");
    }
    assertThat(time.sleeps).containsExactly(Duration.ofSeconds(1));
  }

  @Test
  void syncChatGivesUpAtOnceWithTheLastFailureWhenAWaitWouldPassTheRetryDeadline() {
    useClient(clientBuilder().retryPolicy(RetryPolicy.builder().jitter(0).deadline(Duration.ofSeconds(3)).build()));
    server.enqueue(new MockResponse.Builder().code(429).setHeader("Retry-After", "5").build());

    ServiceRateLimitedException e = catchThrowableOfType(ServiceRateLimitedException.class,
        () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(5));
    assertThat(time.sleeps).isEmpty();
  }

  /** A client on real time whose listener counts {@code waiting} down when a retry is scheduled. */
  private LlmGatewayClient.Builder realTime(CountDownLatch waiting) {
    return clientBuilder().ticker(Ticker.system()).sleeper(Sleeper.system())
        .circuitBreaker(CircuitBreaker.disabled())
        .listener(new GatewayListener() {
          @Override
          public void retryScheduled(CallInfo call, int nextAttempt, Duration delay, LlmGatewayException cause) {
            waiting.countDown();
          }
        });
  }

  static void awaitUninterruptibly(CountDownLatch latch) {
    try {
      assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
