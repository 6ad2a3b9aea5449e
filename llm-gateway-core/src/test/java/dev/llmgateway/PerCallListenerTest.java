package dev.llmgateway;

import static dev.llmgateway.ChatStreamTest.DONE;
import static dev.llmgateway.ChatStreamTest.END;
import static dev.llmgateway.ChatStreamTest.FULL;
import static dev.llmgateway.ChatStreamTest.HELLO;
import static dev.llmgateway.ChatStreamTest.SESSION;
import static dev.llmgateway.ChatStreamTest.sse;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.testkit.LogCapture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** {@link GatewayListener.Factory}: one listener per logical call, seeing only that call, in order. */
class PerCallListenerTest extends MockServerTest {
  private static final String CHAT_USAGE = "usage 120/48/168";
  private static final String STREAM_USAGE = "usage 5/2/7";

  /** Every listener the factory made, in order. */
  private final List<CallRecorder> created = new CopyOnWriteArrayList<>();
  /** What the shared listener saw, prefixed "shared", in one list with what the calls' own saw. */
  private final List<String> both = new CopyOnWriteArrayList<>();

  @Override
  LlmGatewayClient.Builder configure(LlmGatewayClient.Builder builder) {
    return builder.listenerFactory(call -> {
      CallRecorder recorder = new CallRecorder(call, null);
      created.add(recorder);
      return recorder;
    });
  }

  private CallRecorder only() {
    assertThat(created).hasSize(1);
    return created.get(0);
  }

  @Test
  void retriesAreAttemptsOfTheOneListenerOfTheCall() {
    server.enqueue(json(503, "{}"));
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    assertThat(only().events).containsExactly(
        "callStart", "attemptStart 1", "attemptEnd 1 503 ServiceUnavailableException", "retry 2 after 500",
        "attemptStart 2", "attemptEnd 2 200", CHAT_USAGE, "callEnd 500");
    assertThat(only().call.operation()).isEqualTo(Operation.CHAT);
  }

  @Test
  void theSharedListenerKeepsEveryEventAndHearsEachFirst() {
    useClient(client.newBuilder().listener(new CallRecorder(null, "shared")).listenerFactory(call -> {
      CallRecorder own = new CallRecorder(call, "own");
      created.add(own);
      return own;
    }));
    server.enqueue(sse(FULL));

    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      stream.completion();
    }

    assertThat(both).containsExactly(
        "shared callStart", "own callStart", "shared attemptStart 1", "own attemptStart 1",
        "shared attemptEnd 1 200", "own attemptEnd 1 200", "shared firstEvent 0", "own firstEvent 0",
        "shared " + STREAM_USAGE, "own " + STREAM_USAGE, "shared callEnd 0", "own callEnd 0");
  }

  @Test
  void firstEventIsTimedFromTheCallStartWithTheClientsTicker() {
    // The first attempt fails and waits 500 ms (fake time); the second takes 70 ms to its first event.
    useClient(client.newBuilder().listener(new GatewayListener() {
      @Override
      public void attemptStart(CallInfo call, int attempt) {
        if (attempt == 2) {
          time.advance(Duration.ofMillis(70));
        }
      }
    }));
    server.enqueue(json(503, "{}"));
    server.enqueue(sse(FULL));

    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      Iterator<StreamEvent> events = stream.iterator();
      assertThat(events.hasNext()).isTrue();
      assertThat(only().events).endsWith("attemptEnd 2 200", "firstEvent 570");
      time.advance(Duration.ofMillis(30));
      stream.completion();
    }

    assertThat(only().events).containsExactly(
        "callStart", "attemptStart 1", "attemptEnd 1 503 ServiceUnavailableException", "retry 2 after 500",
        "attemptStart 2", "attemptEnd 2 200", "firstEvent 570", STREAM_USAGE, "callEnd 600");
  }

  @Test
  void usageIsReportedForSyncAsyncAndEveryKindOfStream() throws Exception {
    server.enqueue(chatOk());
    server.enqueue(chatOk());
    server.enqueue(sse(FULL));
    server.enqueue(sse(FULL));
    server.enqueue(sse(FULL));

    client.chat(ChatRequest.of("sync"), USER);
    client.chatAsync(ChatRequest.of("async"), USER).get(20, TimeUnit.SECONDS);
    try (ChatStream stream = client.chatStream(ChatRequest.of("iterator"), USER)) {
      stream.completion();
    }
    StreamCallbackTest.Recorder callback = new StreamCallbackTest.Recorder();
    client.chatStream(ChatRequest.of("callback"), USER, callback);
    callback.await();
    ChatPublisherTest.Recorder subscriber = new ChatPublisherTest.Recorder(Long.MAX_VALUE);
    client.chatPublisher(ChatRequest.of("publisher"), USER).subscribe(subscriber);
    subscriber.awaitTerminal();

    assertThat(created).hasSize(5);
    for (CallRecorder call : created) {
      call.awaitEnd();
    }
    assertThat(created).extracting(c -> c.call.queryPreview())
        .containsExactly("sync", "async", "iterator", "callback", "publisher");
    assertThat(created.subList(0, 2)).allSatisfy(c -> assertThat(c.events).containsExactly(
        "callStart", "attemptStart 1", "attemptEnd 1 200", CHAT_USAGE, "callEnd 0"));
    assertThat(created.subList(2, 5)).allSatisfy(c -> assertThat(c.events).containsExactly(
        "callStart", "attemptStart 1", "attemptEnd 1 200", "firstEvent 0", STREAM_USAGE, "callEnd 0"));
  }

  @Test
  void aStreamWithoutUsageReportsNone() {
    server.enqueue(sse(SESSION + HELLO + "data: {\"type\":\"done\",\"finish_reason\":\"stop\"}\n\n" + END));

    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      stream.completion();
    }

    assertThat(only().events).containsExactly(
        "callStart", "attemptStart 1", "attemptEnd 1 200", "firstEvent 0", "callEnd 0");
  }

  @Test
  void concurrentCallsEachSeeOnlyTheirOwnEvents() throws Exception {
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return request.getUrl().encodedPath().endsWith("/stream") ? sse(FULL) : chatOk();
      }
    });
    int calls = 8;
    java.util.Map<String, String> startedOn = new java.util.concurrent.ConcurrentHashMap<>();
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService threads = Executors.newFixedThreadPool(calls);
    try {
      List<Future<String>> requestIds = new ArrayList<>();
      for (int i = 0; i < calls; i++) {
        boolean streamed = i % 2 == 0;
        String query = "call " + i;
        requestIds.add(threads.submit(() -> {
          startedOn.put(query, Thread.currentThread().getName());
          go.await();
          if (!streamed) {
            return client.chat(ChatRequest.of(query), USER).requestId();
          }
          try (ChatStream stream = client.chatStream(ChatRequest.of(query), USER)) {
            stream.completion();
            return stream.requestId();
          }
        }));
      }
      go.countDown();
      List<String> ids = new ArrayList<>();
      for (Future<String> id : requestIds) {
        ids.add(id.get(20, TimeUnit.SECONDS));
      }

      assertThat(created).hasSize(calls);
      assertThat(created).extracting(c -> c.call.requestId()).containsExactlyInAnyOrderElementsOf(ids);
      assertThat(created).allSatisfy(c -> {
        assertThat(c.foreign).as("events of other calls").isEmpty();
        assertThat(c.createdOn).as("the factory ran on the thread starting the call")
            .isEqualTo(startedOn.get(c.call.queryPreview()));
        assertThat(c.events).first().isEqualTo("callStart");
        assertThat(c.events).last().isEqualTo("callEnd 0");
        assertThat(c.events).containsOnlyOnce("callStart", "attemptStart 1", "callEnd 0");
        assertThat(c.events).hasSize(c.call.operation() == Operation.CHAT_STREAM ? 6 : 5);
      });
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void aCancelledStreamEndsWithOneOutcome() {
    server.enqueue(sse(SESSION + HELLO));

    ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER);
    Iterator<StreamEvent> events = stream.iterator();
    events.next();
    stream.cancel();
    assertThat(catchThrowable(events::hasNext)).isInstanceOf(CallCancelledException.class);
    stream.close();
    stream.cancel();

    assertThat(only().events).containsExactly(
        "callStart", "attemptStart 1", "attemptEnd 1 200", "firstEvent 0", "callEnd 0 CallCancelledException");
  }

  @Test
  void aStreamClosedEarlyEndsWithOneOutcome() throws Exception {
    server.enqueue(sse(SESSION + HELLO));

    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      stream.iterator().next();
    }
    StreamCallbackTest.Recorder callback = new StreamCallbackTest.Recorder() {
      @Override
      public void onEvent(StreamEvent event) {
        throw new IllegalStateException("the host's bug");
      }
    };
    server.enqueue(sse(SESSION + HELLO));
    client.chatStream(ChatRequest.of("hi"), USER, callback);
    callback.await();

    assertThat(created).hasSize(2);
    created.get(1).awaitEnd();
    assertThat(created).allSatisfy(c -> assertThat(c.events).containsExactly(
        "callStart", "attemptStart 1", "attemptEnd 1 200", "firstEvent 0", "callEnd 0 CallCancelledException"));
  }

  @Test
  void aFailedStreamEndsWithOneOutcomeAndNoUsage() throws Exception {
    server.enqueue(sse(SESSION + HELLO + "data: {\"type\":\"error\",\"code\":\"model_overloaded\","
        + "\"message\":\"busy\",\"retryable\":true}\n\n"));
    server.enqueue(sse(SESSION + HELLO));

    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(catchThrowable(stream::completion)).isInstanceOf(StreamErrorException.class);
    }
    ChatPublisherTest.Recorder subscriber = new ChatPublisherTest.Recorder(Long.MAX_VALUE);
    client.chatPublisher(ChatRequest.of("hi"), USER).subscribe(subscriber);
    subscriber.awaitTerminal();

    assertThat(created).hasSize(2);
    created.get(1).awaitEnd();
    assertThat(created.get(0).events).containsExactly(
        "callStart", "attemptStart 1", "attemptEnd 1 200", "firstEvent 0", "callEnd 0 StreamErrorException");
    assertThat(created.get(1).events).containsExactly(
        "callStart", "attemptStart 1", "attemptEnd 1 200", "firstEvent 0", "callEnd 0 StreamInterruptedException");
  }

  @Test
  void aCallRefusedBeforeAnyAttemptStillStartsAndEnds() {
    useClient(client.newBuilder().circuitBreaker(CircuitBreaker.disabled()).maxConcurrentRequests(1)
        .maxQueueWait(Duration.ZERO));
    server.enqueue(sse(SESSION + HELLO));

    try (ChatStream holding = client.chatStream(ChatRequest.of("holds the only slot"), USER)) {
      assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER)))
          .isInstanceOf(ConcurrencyLimitExceededException.class);
      assertThat(holding.iterator().next()).isNotNull();
    }

    assertThat(created).hasSize(2);
    assertThat(created.get(1).events).containsExactly("callStart", "callEnd 0 ConcurrencyLimitExceededException");
  }

  @Test
  void aFactoryOrListenerThatThrowsBreaksNothing() {
    try (LogCapture logs = new LogCapture()) {
      useClient(client.newBuilder().listenerFactory(call -> {
        throw new IllegalStateException("factory bug");
      }));
      server.enqueue(chatOk());
      assertThat(client.chat(ChatRequest.of("hi"), USER).answer()).isEqualTo("I found 3 candidates");

      useClient(client.newBuilder().listenerFactory(call -> null));
      server.enqueue(chatOk());
      assertThat(client.chat(ChatRequest.of("hi"), USER).answer()).isEqualTo("I found 3 candidates");

      List<String> shared = new CopyOnWriteArrayList<>();
      useClient(client.newBuilder()
          .listener(new GatewayListener() {
            @Override
            public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
              shared.add("callEnd");
              throw new IllegalStateException("shared listener bug");
            }
          })
          .listenerFactory(call -> new GatewayListener() {
            @Override
            public void usageReported(CallInfo call, Usage usage) {
              throw new IllegalStateException("own listener bug");
            }

            @Override
            public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
              shared.add("own callEnd");
            }
          }));
      server.enqueue(chatOk());
      assertThat(client.chat(ChatRequest.of("hi"), USER).answer()).isEqualTo("I found 3 candidates");

      assertThat(shared).containsExactly("callEnd", "own callEnd");
      assertThat(logs.allText()).contains("GatewayListener.Factory threw", "factory bug",
          "GatewayListener.Factory returned null", "shared listener bug", "own listener bug");
      assertThat(audit.events).hasSize(3)
          .allSatisfy(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS));
    }
  }

  @Test
  void composedFactoriesEachGiveTheCallAListenerHearingEveryEventInOrder() {
    useClient(client.newBuilder().listenerFactory(GatewayListener.Factory.composite(
        call -> new CallRecorder(call, "metrics"),
        call -> {
          CallRecorder tracing = new CallRecorder(call, "tracing");
          created.add(tracing);
          return tracing;
        })));
    server.enqueue(sse(FULL));

    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      stream.completion();
    }

    assertThat(both).containsExactly(
        "metrics callStart", "tracing callStart", "metrics attemptStart 1", "tracing attemptStart 1",
        "metrics attemptEnd 1 200", "tracing attemptEnd 1 200", "metrics firstEvent 0", "tracing firstEvent 0",
        "metrics " + STREAM_USAGE, "tracing " + STREAM_USAGE, "metrics callEnd 0", "tracing callEnd 0");
    assertThat(only().foreign).isEmpty();
  }

  @Test
  void aComposedFactoryOrListenerThatThrowsLeavesTheOthersAndTheCallAlone() {
    try (LogCapture logs = new LogCapture()) {
      useClient(client.newBuilder().listenerFactory(GatewayListener.Factory.composite(
          call -> {
            throw new IllegalStateException("metrics factory bug");
          },
          call -> null,
          call -> new GatewayListener() {
            @Override
            public void callStart(CallInfo c) {
              throw new IllegalStateException("tracing listener bug");
            }

            @Override
            public void callEnd(CallInfo c, Duration latency, @Nullable LlmGatewayException failure) {
              throw new IllegalStateException("tracing listener bug at the end");
            }
          },
          call -> {
            CallRecorder last = new CallRecorder(call, null);
            created.add(last);
            return last;
          })));
      server.enqueue(chatOk());

      assertThat(client.chat(ChatRequest.of("hi"), USER).answer()).isEqualTo("I found 3 candidates");

      assertThat(only().events).containsExactly("callStart", "attemptStart 1", "attemptEnd 1 200", CHAT_USAGE,
          "callEnd 0");
      assertThat(logs.allText()).contains("composed GatewayListener.Factory threw", "metrics factory bug",
          "composed GatewayListener.Factory returned null", "tracing listener bug", "tracing listener bug at the end");
    }
  }

  @Test
  void aCompositionOfNoListenersIsTheNoOpAndNullIsRefusedByName() {
    CallInfo info = new CallInfo("r", Operation.CHAT, "POST", "/p", "u", "c", "");
    assertThat(GatewayListener.Factory.composite().create(info)).isSameAs(GatewayListener.none());
    assertThat(GatewayListener.Factory.composite(call -> null).create(info)).isSameAs(GatewayListener.none());
    GatewayListener one = new GatewayListener() {};
    assertThat(GatewayListener.Factory.composite(call -> one).create(info)).isSameAs(one);

    assertThat(catchThrowable(() -> GatewayListener.Factory.composite((GatewayListener.Factory[]) null)))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("factories");
    assertThat(catchThrowable(() -> GatewayListener.Factory.composite(call -> one, null)))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("factories");
    assertThat(catchThrowable(() -> GatewayListener.composite(one, null)))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("listeners");
  }

  @Test
  void newBuilderKeepsTheFactory() {
    useClient(client.newBuilder().timeout(Duration.ofSeconds(9)));
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    assertThat(only().events).last().isEqualTo("callEnd 0");
  }

  /** Records one call's events (or, with {@code call} null, every call's), in fake-time milliseconds. */
  final class CallRecorder implements GatewayListener {
    final @Nullable CallInfo call;
    private final @Nullable String prefix;
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<String> foreign = new CopyOnWriteArrayList<>();
    final String createdOn = Thread.currentThread().getName();
    private final CountDownLatch ended = new CountDownLatch(1);

    CallRecorder(@Nullable CallInfo call, @Nullable String prefix) {
      this.call = call;
      this.prefix = prefix;
    }

    private void add(CallInfo info, String event) {
      if (call != null && !call.equals(info)) {
        foreign.add(event);
      }
      events.add(event);
      if (prefix != null) {
        both.add(prefix + " " + event);
      }
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
    public void attemptEnd(
        CallInfo info, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {
      add(info, "attemptEnd " + attempt + " " + status + (failure == null ? "" : " " + failure.getClass().getSimpleName()));
    }

    @Override
    public void retryScheduled(CallInfo info, int nextAttempt, Duration delay, LlmGatewayException failure) {
      add(info, "retry " + nextAttempt + " after " + delay.toMillis());
    }

    @Override
    public void firstEvent(CallInfo info, Duration sinceCallStart) {
      add(info, "firstEvent " + sinceCallStart.toMillis());
    }

    @Override
    public void usageReported(CallInfo info, Usage usage) {
      add(info, "usage " + usage.promptTokens() + "/" + usage.completionTokens() + "/" + usage.totalTokens());
    }

    @Override
    public void callEnd(CallInfo info, Duration latency, @Nullable LlmGatewayException failure) {
      add(info, "callEnd " + latency.toMillis() + (failure == null ? "" : " " + failure.getClass().getSimpleName()));
      ended.countDown();
    }

    void awaitEnd() throws InterruptedException {
      assertThat(ended.await(20, TimeUnit.SECONDS)).as("callEnd").isTrue();
    }
  }
}
