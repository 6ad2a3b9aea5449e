package dev.llmgateway;

import static dev.llmgateway.ChatStreamTest.DONE;
import static dev.llmgateway.ChatStreamTest.END;
import static dev.llmgateway.ChatStreamTest.FULL;
import static dev.llmgateway.ChatStreamTest.HELLO;
import static dev.llmgateway.ChatStreamTest.SESSION;
import static dev.llmgateway.ChatStreamTest.sse;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.testkit.SseResponses;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link LlmGatewayClient#chatPublisher}: what the TCK does not check (see {@link ChatPublisherTckTest}). */
class ChatPublisherTest extends MockServerTest {
  private static final String[] FULL_TYPES = {"session", "intent", "token", "token", "candidates", "action", "done"};
  private static final String BIG_TOKEN = "data: {\"type\":\"token\",\"content\":\"" + "x".repeat(64 * 1024) + "\"}\n\n";

  private final TrackingExecutor executor = new TrackingExecutor();

  /** Records signals, checks they never overlap nor come from inside {@code request}, and counts terminal ones. */
  static class Recorder implements Flow.Subscriber<StreamEvent> {
    private static final ThreadLocal<Boolean> IN_REQUEST = ThreadLocal.withInitial(() -> false);

    private final long initialRequest;
    volatile Flow.Subscription subscription;
    final List<StreamEvent> events = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();
    final List<String> violations = new CopyOnWriteArrayList<>();
    final AtomicInteger terminal = new AtomicInteger();
    final Semaphore received = new Semaphore(0);
    final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicInteger inSignal = new AtomicInteger();
    volatile Throwable error;
    volatile boolean completed;

    Recorder(long initialRequest) {
      this.initialRequest = initialRequest;
    }

    /** Requests as a subscriber would, marking the thread so a signal from inside it is caught. */
    void request(long n) {
      IN_REQUEST.set(true);
      try {
        subscription.request(n);
      } finally {
        IN_REQUEST.set(false);
      }
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (initialRequest > 0) {
        request(initialRequest);
      }
    }

    @Override
    public void onNext(StreamEvent event) {
      enter("onNext");
      events.add(event);
      threads.add(Thread.currentThread().getName());
      inSignal.decrementAndGet();
      received.release();
    }

    @Override
    public void onError(Throwable t) {
      enter("onError");
      error = t;
      end();
    }

    @Override
    public void onComplete() {
      enter("onComplete");
      completed = true;
      end();
    }

    private void enter(String signal) {
      if (inSignal.getAndIncrement() != 0) {
        violations.add(signal + " overlapped another signal");
      }
      if (IN_REQUEST.get()) {
        violations.add(signal + " from inside request");
      }
      if (terminal.get() > 0) {
        violations.add(signal + " after a terminal signal");
      }
    }

    private void end() {
      terminal.incrementAndGet();
      inSignal.decrementAndGet();
      terminated.countDown();
    }

    void awaitEvents(int n) throws InterruptedException {
      assertThat(received.tryAcquire(n, 20, TimeUnit.SECONDS)).as("%d events", n).isTrue();
    }

    void awaitTerminal() throws InterruptedException {
      assertThat(terminated.await(20, TimeUnit.SECONDS)).as("a terminal signal").isTrue();
    }
  }

  /** Runs tasks on named threads and tells when none is queued or running. */
  static final class TrackingExecutor implements Executor {
    private final AtomicInteger threadCount = new AtomicInteger();
    private final ExecutorService pool = Executors.newCachedThreadPool(
        task -> new Thread(task, "publisher-test-" + threadCount.incrementAndGet()));
    private final AtomicInteger active = new AtomicInteger();
    private final Object idle = new Object();

    @Override
    public void execute(Runnable task) {
      active.incrementAndGet();
      pool.execute(() -> {
        try {
          task.run();
        } finally {
          if (active.decrementAndGet() == 0) {
            synchronized (idle) {
              idle.notifyAll();
            }
          }
        }
      });
    }

    void awaitIdle() throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      synchronized (idle) {
        while (active.get() != 0 && System.nanoTime() < deadline) {
          idle.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
      }
      assertThat(active).as("tasks queued or running").hasValue(0);
    }

    void shutdown() {
      pool.shutdownNow();
    }
  }

  @Override
  LlmGatewayClient.Builder configure(LlmGatewayClient.Builder builder) {
    return builder.callbackExecutor(executor);
  }

  @AfterEach
  void stopExecutor() {
    executor.shutdown();
  }

  private Recorder subscribe(long initialRequest) {
    Recorder recorder = new Recorder(initialRequest);
    client.chatPublisher(ChatRequest.of("hi"), USER).subscribe(recorder);
    return recorder;
  }

  @Test
  void eventsArriveInOrderOnTheCallbackExecutorThenOneCompletion() throws Exception {
    server.enqueue(sse(FULL));

    Recorder recorder = subscribe(Long.MAX_VALUE);
    recorder.awaitTerminal();

    assertThat(recorder.events).extracting(StreamEvent::type)
        .containsExactly(FULL_TYPES);
    assertThat(recorder.completed).isTrue();
    assertThat(recorder.terminal).hasValue(1);
    assertThat(recorder.violations).isEmpty();
    assertThat(recorder.threads).allSatisfy(thread -> assertThat(thread).startsWith("publisher-test-"));
    RecordedRequest request = server.takeRequest();
    assertThat(request.getHeaders().get("Accept")).isEqualTo("text/event-stream");
    executor.awaitIdle();
    assertThat(audit.events).singleElement().satisfies(e -> {
      assertThat(e.action()).isEqualTo(Operation.CHAT_STREAM);
      assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
    });
  }

  @Test
  void nothingIsSentBeforeTheFirstRequestNorAfterACancelThatCameFirst() throws Exception {
    server.enqueue(sse(FULL));
    Recorder idle = subscribe(0);
    Recorder cancelledFirst = subscribe(0);
    cancelledFirst.subscription.cancel();
    cancelledFirst.request(1);

    Recorder reading = subscribe(Long.MAX_VALUE);
    reading.awaitTerminal();
    executor.awaitIdle();

    assertThat(server.getRequestCount()).isEqualTo(1);
    assertThat(audit.events).hasSize(1);
    assertThat(idle.events).isEmpty();
    assertThat(idle.terminal).hasValue(0);
    assertThat(cancelledFirst.terminal).hasValue(0);
  }

  @Test
  void demandOfOneReadsOneEventAndNothingIsReadWithoutDemand() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    server.enqueue(SseResponses.paused(SESSION, release, BIG_TOKEN, 1000, serverSawClose));
    release.countDown();

    Recorder recorder = subscribe(1);
    recorder.awaitEvents(1);
    executor.awaitIdle();
    assertThat(recorder.events).as("no thread reads while there is no demand").hasSize(1);

    recorder.request(2);
    recorder.awaitEvents(2);
    executor.awaitIdle();
    assertThat(recorder.events).extracting(StreamEvent::type).containsExactly("session", "token", "token");

    recorder.subscription.cancel();
    assertThat(serverSawClose.await(20, TimeUnit.SECONDS))
        .as("the server had not been able to write its 1,000 events of 64 KiB: nobody read them ahead").isTrue();
    executor.awaitIdle();
    assertThat(recorder.terminal).hasValue(0);
    assertThat(recorder.violations).isEmpty();
  }

  @Test
  void cancelWhileAReadIsBlockedClosesTheConnectionAtTheServerAndSignalsNothing() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    server.enqueue(SseResponses.paused(SESSION, release, HELLO, 1000, serverSawClose));

    Recorder recorder = subscribe(2);
    recorder.awaitEvents(1);
    recorder.subscription.cancel();
    executor.awaitIdle();
    release.countDown();

    assertThat(serverSawClose.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(recorder.terminal).as("no CallCancelledException after the subscriber's own cancel").hasValue(0);
    assertThat(recorder.events).hasSize(1);
    assertThat(audit.events).singleElement().extracting(AuditEvent::outcome).isEqualTo(AuditEvent.Outcome.CANCELLED);
  }

  @Test
  void cancelsRacingTheStreamsEndGiveAtMostOneTerminalSignalAndNeverACancellation() throws Exception {
    int streams = 30;
    List<Recorder> recorders = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      server.enqueue(sse(FULL));
      Recorder recorder = subscribe(Long.MAX_VALUE);
      recorders.add(recorder);
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> cancellers = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        Thread thread = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          recorder.subscription.cancel();
        });
        thread.start();
        cancellers.add(thread);
      }
      if (i % 2 == 0) {
        recorder.awaitEvents(1);
      }
      go.countDown();
      for (Thread thread : cancellers) {
        thread.join();
      }
      executor.awaitIdle();
    }

    for (Recorder recorder : recorders) {
      assertThat(recorder.terminal.get()).isLessThanOrEqualTo(1);
      assertThat(recorder.error).isNull();
      assertThat(recorder.violations).isEmpty();
    }
    assertThat(audit.events).extracting(AuditEvent::requestId).doesNotHaveDuplicates();
    assertThat(audit.events).extracting(AuditEvent::outcome)
        .allSatisfy(outcome -> assertThat(outcome).isIn(AuditEvent.Outcome.SUCCESS, AuditEvent.Outcome.CANCELLED));
  }

  @Test
  void requestsFromManyThreadsGiveSerializedSignalsInOrderAndExactlyOneCompletion() throws Exception {
    server.enqueue(SseResponses.sse(FULL, 1));
    Recorder recorder = subscribe(0);
    List<Thread> requesters = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread thread = new Thread(() -> {
        recorder.request(1);
        recorder.request(1);
      });
      thread.start();
      requesters.add(thread);
    }
    for (Thread thread : requesters) {
      thread.join();
    }
    recorder.awaitTerminal();
    executor.awaitIdle();

    assertThat(recorder.events).extracting(StreamEvent::type)
        .containsExactly(FULL_TYPES);
    assertThat(recorder.completed).isTrue();
    assertThat(recorder.terminal).hasValue(1);
    assertThat(recorder.violations).isEmpty();
  }

  @Test
  void aNonPositiveRequestSignalsIllegalArgumentExceptionAndCancelsTheStream() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    server.enqueue(SseResponses.paused(SESSION, release, HELLO, 1000, serverSawClose));

    Recorder recorder = subscribe(1);
    recorder.awaitEvents(1);
    recorder.request(0);
    recorder.awaitTerminal();
    executor.awaitIdle();
    release.countDown();

    assertThat(recorder.error).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3.9");
    assertThat(recorder.terminal).hasValue(1);
    assertThat(serverSawClose.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(audit.events).singleElement().extracting(AuditEvent::outcome).isEqualTo(AuditEvent.Outcome.CANCELLED);
  }

  @Test
  void failuresAreSignalledAsTheIteratorThrowsThem() throws Exception {
    server.enqueue(sse(SESSION + HELLO + "data: {\"type\":\"error\",\"code\":\"boom\",\"message\":\"x\",\"retryable\":false}\n\n"));
    server.enqueue(sse(SESSION + HELLO));
    server.enqueue(json(401, "{\"detail\":\"bad token\"}"));
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(SseResponses.stalled(SESSION, release));
    List<Recorder> recorders = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        Recorder recorder = new Recorder(Long.MAX_VALUE);
        StreamOptions options = i < 3 ? StreamOptions.DEFAULTS : StreamOptions.builder().idleTimeout(Duration.ofMillis(200)).build();
        client.chatPublisher(ChatRequest.of("hi"), USER, options).subscribe(recorder);
        recorder.awaitTerminal();
        recorders.add(recorder);
      }
    } finally {
      release.countDown();
    }

    assertThat(recorders.get(0).error).isInstanceOf(StreamErrorException.class);
    assertThat(((StreamErrorException) recorders.get(0).error).partialText()).isEqualTo("Hello");
    assertThat(recorders.get(1).error).isInstanceOf(StreamInterruptedException.class);
    assertThat(recorders.get(2).error).isInstanceOf(AuthenticationException.class);
    assertThat(recorders.get(3).error).isInstanceOf(CallTimeoutException.class);
    assertThat(((CallTimeoutException) recorders.get(3).error).limit()).isEqualTo(CallTimeoutException.Limit.IDLE);
    assertThat(recorders).allSatisfy(r -> assertThat(r.terminal).hasValue(1));
    executor.awaitIdle();
    assertThat(audit.events).extracting(AuditEvent::outcome).containsOnly(AuditEvent.Outcome.FAILURE);
  }

  @Test
  void eachSubscriptionSendsTheMessageAgainWithTheSameRequestIdAndIdempotencyKey() throws Exception {
    server.enqueue(sse(SESSION + DONE + END));
    server.enqueue(sse(SESSION + DONE + END));
    Flow.Publisher<StreamEvent> publisher = client.chatPublisher(ChatRequest.of("hi"), USER);

    for (int i = 0; i < 2; i++) {
      Recorder recorder = new Recorder(Long.MAX_VALUE);
      publisher.subscribe(recorder);
      recorder.awaitTerminal();
      assertThat(recorder.completed).isTrue();
    }

    RecordedRequest first = server.takeRequest();
    RecordedRequest second = server.takeRequest();
    assertThat(second.getHeaders().get("X-Request-Id")).isEqualTo(first.getHeaders().get("X-Request-Id"));
    assertThat(second.getHeaders().get("Idempotency-Key")).isNotBlank()
        .isEqualTo(first.getHeaders().get("Idempotency-Key"));
  }

  @Test
  void anInvalidRequestIsRefusedWhenThePublisherIsMadeAndASubscriptionAfterCloseSignalsIllegalStateException() {
    assertThat(catchThrowable(() -> client.chatPublisher(ChatRequest.of(""), USER)))
        .isInstanceOf(ValidationException.class);
    Flow.Publisher<StreamEvent> publisher = client.chatPublisher(ChatRequest.of("hi"), USER);
    client.close();
    Recorder recorder = new Recorder(1);

    publisher.subscribe(recorder);

    assertThat(recorder.error).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThat(recorder.terminal).hasValue(1);
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void aStreamWaitingForASlotHoldsNoThreadAndStartsWhenOneFrees() throws Exception {
    useClient(configure(clientBuilder()).maxConcurrentRequests(1).maxQueueWait(Duration.ofSeconds(30)));
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(SseResponses.stalled(SESSION, release));
    server.enqueue(sse(FULL));
    ChatStream holder = client.chatStream(ChatRequest.of("hi"), USER);

    Recorder waiting = subscribe(Long.MAX_VALUE);
    executor.awaitIdle();
    assertThat(server.getRequestCount()).isEqualTo(1);
    assertThat(waiting.events).isEmpty();

    holder.close();
    release.countDown();
    waiting.awaitTerminal();
    assertThat(waiting.completed).isTrue();
    assertThat(waiting.events).hasSize(7);
  }

  @Test
  void aSubscriberWhoseOnNextThrowsHasItsStreamCancelledAndGetsOneOnError() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    server.enqueue(SseResponses.paused(SESSION, release, HELLO, 1000, serverSawClose));
    Recorder recorder = new Recorder(Long.MAX_VALUE) {
      @Override
      public void onNext(StreamEvent event) {
        super.onNext(event);
        throw new IllegalStateException("subscriber bug");
      }
    };

    client.chatPublisher(ChatRequest.of("hi"), USER).subscribe(recorder);
    recorder.awaitTerminal();
    release.countDown();

    assertThat(recorder.error).isInstanceOf(LlmGatewayException.class).hasCauseInstanceOf(IllegalStateException.class);
    assertThat(recorder.terminal).hasValue(1);
    assertThat(recorder.events).hasSize(1);
    assertThat(serverSawClose.await(20, TimeUnit.SECONDS)).isTrue();
  }
}
