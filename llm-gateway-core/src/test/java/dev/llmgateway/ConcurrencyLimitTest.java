package dev.llmgateway;

import static dev.llmgateway.ChatStreamTest.FULL;
import static dev.llmgateway.ChatStreamTest.SESSION;
import static dev.llmgateway.TestSupport.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.testkit.SseResponses;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code maxConcurrentRequests} bounds every kind of call, and a full client refuses in time. */
class ConcurrencyLimitTest extends MockServerTest {
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<CountDownLatch> holds = new ArrayList<>();

  @AfterEach
  void releaseHeldStreams() {
    holds.forEach(CountDownLatch::countDown);
    threads.shutdownNow();
  }

  /** Opens an iterator stream whose response stays open until the test ends: it holds a slot. */
  private ChatStream heldStream() {
    CountDownLatch hold = new CountDownLatch(1);
    holds.add(hold);
    server.enqueue(SseResponses.paused(SESSION, hold, "", 0, new CountDownLatch(1)));
    ChatStream stream = client.chatStream(ChatRequest.of("hold"), USER);
    stream.iterator().next();
    return stream;
  }

  @Test
  void everyKindOfCallIsRefusedTypedWhenTheLimitIsFullAndNothingIsSent() throws Exception {
    useClient(clientBuilder().maxConcurrentRequests(2).maxQueueWait(Duration.ofMillis(50)));
    heldStream();
    heldStream();

    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("a"), USER)))
        .isInstanceOfSatisfying(ConcurrencyLimitExceededException.class, e -> {
          assertThat(e.limit()).isEqualTo(2);
          assertThat(e.waited()).isEqualTo(Duration.ofMillis(50));
          assertThat(e.attempts()).isZero();
        });
    assertThat(catchThrowable(() -> client.chatAsync(ChatRequest.of("b"), USER).get(10, TimeUnit.SECONDS)))
        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ConcurrencyLimitExceededException.class);
    assertThat(catchThrowable(() -> client.chatStream(ChatRequest.of("c"), USER)))
        .isInstanceOf(ConcurrencyLimitExceededException.class);
    StreamCallbackTest.Recorder recorder = new StreamCallbackTest.Recorder();
    client.chatStream(ChatRequest.of("d"), USER, recorder);
    recorder.await();
    assertThat(recorder.error).isInstanceOf(ConcurrencyLimitExceededException.class);
    assertThat(catchThrowable(() -> client.sessions().list(USER, 10, null)))
        .isInstanceOf(ConcurrencyLimitExceededException.class);

    assertThat(server.getRequestCount()).isEqualTo(2);
    assertThat(audit.events).hasSize(5).allSatisfy(e -> {
      assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.FAILURE);
      assertThat(e.errorType()).isEqualTo("ConcurrencyLimitExceededException");
      assertThat(e.attempts()).isZero();
    });
    assertThat(client.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void theServiceNeverSeesMoreCallsThanTheLimitWhateverTheirKind() throws Exception {
    int limit = 4;
    useClient(clientBuilder().maxConcurrentRequests(limit).maxQueueWait(Duration.ofSeconds(30)));
    AtomicInteger held = new AtomicInteger();
    Semaphore arrivals = new Semaphore(0);
    Semaphore releases = new Semaphore(0);
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        held.incrementAndGet();
        arrivals.release();
        releases.tryAcquire(30, TimeUnit.SECONDS);
        held.decrementAndGet();
        return request.getUrl().encodedPath().endsWith("/stream") ? SseResponses.sse(FULL) : TestSupport.chatOk();
      }
    });
    List<Future<?>> calls = new ArrayList<>();
    List<StreamCallbackTest.Recorder> callbacks = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      calls.add(threads.submit(() -> client.chat(ChatRequest.of("sync"), USER)));
      calls.add(threads.submit(() -> {
        try (ChatStream stream = client.chatStream(ChatRequest.of("iterator"), USER)) {
          return stream.text();
        }
      }));
      calls.add(client.chatAsync(ChatRequest.of("async"), USER));
      StreamCallbackTest.Recorder recorder = new StreamCallbackTest.Recorder();
      callbacks.add(recorder);
      client.chatStream(ChatRequest.of("callback"), USER, recorder);
    }
    int total = calls.size() + callbacks.size();

    for (int arrived = 1; arrived <= total; arrived++) {
      if (arrived > limit) {
        releases.release(); // one call may end; only then may another reach the service
      }
      assertThat(arrivals.tryAcquire(30, TimeUnit.SECONDS)).as("arrival %d", arrived).isTrue();
      assertThat(held.get()).as("calls at the service after arrival %d", arrived).isLessThanOrEqualTo(limit);
    }
    releases.release(limit);

    for (Future<?> call : calls) {
      call.get(30, TimeUnit.SECONDS);
    }
    for (StreamCallbackTest.Recorder recorder : callbacks) {
      recorder.await();
      assertThat(recorder.completion).isNotNull();
    }
    assertThat(server.getRequestCount()).isEqualTo(total);
  }

  @Test
  void queuedCallsStartInOrderOnceASlotFreesWithoutHoldingAThreadMeanwhile() throws Exception {
    List<Runnable> tasks = new CopyOnWriteArrayList<>();
    ExecutorService real = Executors.newCachedThreadPool();
    Executor counting = task -> {
      tasks.add(task);
      real.execute(task);
    };
    useClient(clientBuilder().maxConcurrentRequests(1).maxQueueWait(Duration.ofSeconds(30)).callbackExecutor(counting));
    try {
      ChatStream first = heldStream();
      server.enqueue(TestSupport.chatOk());
      CompletableFuture<ChatResponse> async = client.chatAsync(ChatRequest.of("async"), USER);
      List<StreamCallbackTest.Recorder> recorders = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        server.enqueue(SseResponses.sse(FULL));
        StreamCallbackTest.Recorder recorder = new StreamCallbackTest.Recorder();
        recorders.add(recorder);
        client.chatStream(ChatRequest.of("callback " + i), USER, recorder);
      }

      assertThat(tasks).as("tasks given to the executor while every call waits").isEmpty();
      assertThat(async).isNotDone();
      assertThat(server.getRequestCount()).isEqualTo(1);

      first.close();

      assertThat(async.get(30, TimeUnit.SECONDS).answer()).isNotEmpty();
      for (StreamCallbackTest.Recorder recorder : recorders) {
        recorder.await();
        assertThat(recorder.completion).isNotNull();
      }
      server.takeRequest(); // the held stream
      assertThat(server.takeRequest().getUrl().encodedPath()).endsWith("/chat");
      for (int i = 0; i < 10; i++) {
        assertThat(server.takeRequest().getBody().utf8()).contains("callback " + i);
      }
    } finally {
      real.shutdownNow();
    }
  }

  @Test
  void cancellingAQueuedCallEndsItAtOnceAndItIsNeverSent() throws Exception {
    useClient(clientBuilder().maxConcurrentRequests(1).maxQueueWait(Duration.ofSeconds(30)));
    ChatStream first = heldStream();
    CompletableFuture<ChatResponse> async = client.chatAsync(ChatRequest.of("async"), USER);
    StreamCallbackTest.Recorder recorder = new StreamCallbackTest.Recorder();
    StreamHandle handle = client.chatStream(ChatRequest.of("callback"), USER, recorder);

    async.cancel(true);
    handle.cancel();

    recorder.await();
    assertThat(recorder.error).isInstanceOf(CallCancelledException.class);
    first.close();
    server.enqueue(TestSupport.chatOk());
    assertThat(client.chat(ChatRequest.of("after"), USER).answer()).isNotEmpty();
    assertThat(server.getRequestCount()).isEqualTo(2);
    assertThat(audit.events).extracting(AuditEvent::outcome).containsExactlyInAnyOrder(
        AuditEvent.Outcome.CANCELLED, AuditEvent.Outcome.CANCELLED, AuditEvent.Outcome.CANCELLED,
        AuditEvent.Outcome.SUCCESS);
  }

  @Test
  void aSyncCallerInterruptedWhileWaitingForASlotGetsACancellation() throws Exception {
    CountDownLatch waiting = new CountDownLatch(2); // the held stream's start, then the caller's
    useClient(clientBuilder().maxConcurrentRequests(1).maxQueueWait(Duration.ofSeconds(30))
        .listener(new GatewayListener() {
          @Override
          public void callStart(CallInfo call) {
            waiting.countDown();
          }
        }));
    heldStream();
    Throwable[] thrown = new Throwable[1];
    Thread caller = new Thread(() -> thrown[0] = catchThrowable(() -> client.chat(ChatRequest.of("a"), USER)));
    caller.start();
    assertThat(waiting.await(10, TimeUnit.SECONDS)).isTrue();
    caller.interrupt();
    caller.join(10_000);

    assertThat(caller.isAlive()).isFalse();
    assertThat(thrown[0]).isInstanceOf(CallCancelledException.class);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void callbackStreamsRunOnTheHostsExecutor() throws Exception {
    ExecutorService hosts = Executors.newSingleThreadExecutor(task -> new Thread(task, "host-callbacks"));
    try {
      useClient(clientBuilder().callbackExecutor(hosts));
      server.enqueue(SseResponses.sse(FULL));
      StreamCallbackTest.Recorder recorder = new StreamCallbackTest.Recorder();
      client.chatStream(ChatRequest.of("hi"), USER, recorder);
      recorder.await();
      assertThat(recorder.thread).isEqualTo("host-callbacks");
      assertThat(recorder.completion).isNotNull();
    } finally {
      hosts.shutdownNow();
    }
  }

  @Test
  void anExecutorThatRefusesFailsTheStreamTyped() throws Exception {
    useClient(clientBuilder().maxConcurrentRequests(1).callbackExecutor(task -> {
      throw new java.util.concurrent.RejectedExecutionException("full");
    }));
    StreamCallbackTest.Recorder recorder = new StreamCallbackTest.Recorder();
    client.chatStream(ChatRequest.of("hi"), USER, recorder);
    recorder.await();
    assertThat(recorder.error).hasMessageContaining("executor refused")
        .hasCauseInstanceOf(java.util.concurrent.RejectedExecutionException.class);
    assertThat(server.getRequestCount()).isZero();
    server.enqueue(TestSupport.chatOk());
    assertThat(client.chat(ChatRequest.of("the slot was freed"), USER).answer()).isNotEmpty();
  }

  @Test
  void maxQueueWaitMustNotBeNegative() {
    assertThat(catchThrowable(() -> LlmGatewayClient.builder().maxQueueWait(Duration.ofMillis(-1))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxQueueWait");
  }
}
