package dev.llmgateway.interop;

import static dev.llmgateway.interop.ExampleGateway.API;
import static dev.llmgateway.interop.ExampleGateway.DEPOSIT;
import static dev.llmgateway.interop.ExampleGateway.charge;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static dev.llmgateway.interop.Fixtures.withFault;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.Usage;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.host.internal.Heartbeat;
import dev.llmgateway.host.internal.RelayTimer;
import dev.llmgateway.internal.Watchdog;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The load test of issue 6: {@value #DEFAULT_STREAMS} browsers stream answers through the example
 * gateway's relay from the reference service, back to back, for {@value #DEFAULT_SECONDS} s (all on
 * loopback). Afterwards nothing may be left over: no errors, every stream's credits settled
 * exactly, no busy connection in the SDK's pool, no thread the run started still alive, and the
 * heap back near where it was.
 *
 * <p>Shorter runs: {@code -Dsoak.seconds=10 -Dsoak.streams=50 -Dsoak.tokenDelayMs=50}. The token
 * delay paces the service (about 26 tokens per answer), so the load is streams held open rather
 * than raw throughput.
 */
@InteropTest
@Tag("soak")
class GatewaySoakInteropTest {
  static final int DEFAULT_STREAMS = 200;
  static final int DEFAULT_SECONDS = 60;
  private static final int STREAMS = Integer.getInteger("soak.streams", DEFAULT_STREAMS);
  private static final Duration DURATION = Duration.ofSeconds(Long.getLong("soak.seconds", DEFAULT_SECONDS));
  private static final int TOKEN_DELAY_MS = Integer.getInteger("soak.tokenDelayMs", 100);
  /** Bound on everything that should end promptly once the run is over. */
  private static final Duration GRACE = Duration.ofSeconds(30);
  private static final long HEAP_SLACK_BYTES = 16L << 20;
  /**
   * Daemon threads that outlive a run by design: OkHttp's task runner threads (idle for a minute
   * after their last task, and named after the task they run, e.g. "OkHttp ConnectionPool connection
   * closer"), Okio's timeout watchdog, the SDK's one JVM-wide stream watchdog, the relays' one
   * JVM-wide timer and their heartbeat helpers (idle for 30 s after their last ping).
   */
  private static final List<String> LINGERING_DAEMONS = List.of("OkHttp TaskRunner", "OkHttp ConnectionPool",
      "Okio Watchdog", "llm-gateway-stream-watchdog", "llm-gateway-relay-timer", "llm-gateway-relay-heartbeat");
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final MediaType JSON = MediaType.get("application/json");

  private final ReferenceService service;

  GatewaySoakInteropTest(ReferenceService service) {
    this.service = service;
  }

  @Test
  void manyConcurrentStreamsThroughTheRelayLeaveNothingBehind() throws Exception {
    long heapBefore = settledHeapBytes();
    Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
    int timersBefore = Watchdog.pendingTasks();
    int relayTimersBefore = RelayTimer.pendingTasks();

    int streams = soak();

    assertThat(streams).as("streams completed").isGreaterThanOrEqualTo(STREAMS);
    List<String> leaked = awaitNewThreadsGone(threadsBefore);
    assertThat(leaked).as("threads started by the run and still alive").isEmpty();
    assertThat(Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().equals("llm-gateway-stream-watchdog"))).as("stream watchdogs").hasSizeLessThan(2);
    assertThat(Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().equals("llm-gateway-relay-timer"))).as("relay timers").hasSizeLessThan(2);
    assertThat(Watchdog.pendingTasks()).as("stream time limits still armed")
        .isLessThanOrEqualTo(timersBefore);
    assertThat(RelayTimer.pendingTasks()).as("relay heartbeats still armed")
        .isLessThanOrEqualTo(relayTimersBefore);
    assertThat(Heartbeat.pingsBeingWritten()).as("relay heartbeats still being written").isZero();
    long heapAfter = settledHeapBytes();
    assertThat(heapAfter - heapBefore).as("heap growth in bytes (before %d, after %d)", heapBefore, heapAfter)
        .isLessThan(HEAP_SLACK_BYTES);
  }

  /** Runs the load, checks the ledger and the pools, closes everything; returns the streams completed. */
  private int soak() throws Exception {
    List<UserContext> users = new ArrayList<>();
    for (int i = 0; i < STREAMS; i++) {
      users.add(UserContext.builder().userId("soak-" + i).companyId("456").role("recruiter").build());
    }
    RateLimiter unlimited = (key, operation) -> RateLimiter.Decision.allow();
    OkHttpClient sdkHttp = new OkHttpClient();
    OkHttpClient browser = new OkHttpClient.Builder().readTimeout(GRACE).build();
    ExecutorService browsers = Executors.newFixedThreadPool(STREAMS);
    AtomicLongArray charged = new AtomicLongArray(STREAMS);
    AtomicInteger completed = new AtomicInteger();
    Queue<String> errors = new ConcurrentLinkedQueue<>();
    try (ExampleGateway gateway = ExampleGateway.start(service, sdkHttp, users, unlimited, 4 * STREAMS)) {
      String query = withFault(SEARCH_QUERY, "delay_ms=" + TOKEN_DELAY_MS);
      CountDownLatch ready = new CountDownLatch(STREAMS);
      CountDownLatch go = new CountDownLatch(1);
      long[] deadline = new long[1];
      for (int i = 0; i < STREAMS; i++) {
        int index = i;
        UserContext user = users.get(i);
        browsers.execute(() -> {
          ready.countDown();
          try {
            go.await();
            while (System.nanoTime() < deadline[0]) {
              Usage usage = streamOnce(browser, gateway, user, query);
              charged.addAndGet(index, charge(usage));
              completed.incrementAndGet();
            }
          } catch (Exception | AssertionError e) {
            errors.add(user.userId() + ": " + e);
          }
        });
      }
      assertThat(ready.await(GRACE.toMillis(), TimeUnit.MILLISECONDS)).as("browsers ready").isTrue();
      deadline[0] = System.nanoTime() + DURATION.toNanos();
      go.countDown();
      browsers.shutdown();
      assertThat(browsers.awaitTermination(DURATION.plus(GRACE).toMillis(), TimeUnit.MILLISECONDS))
          .as("browsers finished").isTrue();

      assertThat(errors).as("errors").isEmpty();
      gateway.settlements().awaitApplied(completed.get(), GRACE);
      assertThat(gateway.settlements().counts()).isEqualTo(Map.of(Settlement.COMMITTED, (long) completed.get()));
      assertThat(gateway.ledger().pendingCount()).isZero();
      for (int i = 0; i < STREAMS; i++) {
        String userId = users.get(i).userId();
        assertThat(gateway.ledger().balance(userId)).as("balance of %s", userId).isEqualTo(DEPOSIT - charged.get(i));
        assertThat(gateway.ledger().reserved(userId)).as("reserved for %s", userId).isZero();
      }
      assertThat(sdkHttp.connectionPool().connectionCount() - sdkHttp.connectionPool().idleConnectionCount())
          .as("busy connections in the SDK's pool").isZero();
    } finally {
      browsers.shutdownNow();
      for (OkHttpClient client : List.of(sdkHttp, browser)) {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
      }
    }
    return completed.get();
  }

  /** One relayed stream, read to its end; returns the usage of its {@code complete} event. */
  private static Usage streamOnce(OkHttpClient browser, ExampleGateway gateway, UserContext user, String query)
      throws Exception {
    Request request = new Request.Builder().url(gateway.url(API + "/chat/stream"))
        .header("Authorization", gateway.bearer(user))
        .post(RequestBody.create(MAPPER.writeValueAsString(Map.of("query", query)), JSON))
        .build();
    try (Response response = browser.newCall(request).execute()) {
      if (response.code() != 200) {
        throw new AssertionError("status " + response.code() + ": " + response.body().string());
      }
      ServerSentEvent last = null;
      int chunks = 0;
      try (SseReader reader = SseReader.create(response.body().source())) {
        for (ServerSentEvent event; (event = reader.next()) != null; ) {
          last = event;
          chunks += event.type().equals("chunk") ? 1 : 0;
        }
      }
      if (last == null || !last.type().equals("complete")) {
        throw new AssertionError("stream ended with " + last + " after " + chunks + " chunks");
      }
      JsonNode usage = MAPPER.readTree(last.data()).path("usage");
      return new Usage(usage.path("prompt_tokens").asLong(), usage.path("completion_tokens").asLong(),
          usage.path("total_tokens").asLong());
    }
  }

  /**
   * Joins every thread started since {@code before} (except the lingering daemon pools), each for
   * what is left of a shared bound; returns those still alive after it.
   */
  private static List<String> awaitNewThreadsGone(Set<Thread> before) throws InterruptedException {
    Set<Thread> started = new HashSet<>(Thread.getAllStackTraces().keySet());
    started.removeAll(before);
    long deadline = System.nanoTime() + GRACE.toNanos();
    List<String> alive = new ArrayList<>();
    for (Thread thread : started) {
      if (LINGERING_DAEMONS.stream().anyMatch(thread.getName()::startsWith) && thread.isDaemon()) {
        continue;
      }
      thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      if (thread.isAlive()) {
        alive.add(thread.getName() + (thread.isDaemon() ? " (daemon)" : ""));
      }
    }
    return alive;
  }

  /** Heap in use after a few full collections. */
  private static long settledHeapBytes() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return memory.getHeapMemoryUsage().getUsed();
  }
}
