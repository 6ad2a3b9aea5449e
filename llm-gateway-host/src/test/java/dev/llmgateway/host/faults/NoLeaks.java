package dev.llmgateway.host.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.host.internal.Heartbeat;
import dev.llmgateway.host.internal.RelayTimer;
import dev.llmgateway.internal.Watchdog;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * What one fault test may leave behind: nothing. Made before the test, it records the live threads
 * and gives the test its own OkHttp threads, connection pool and credit ledger; {@link #verify()},
 * after the test has closed its clients and servers, asserts that
 *
 * <ul>
 *   <li>every HTTP call that started has ended, and no connection is still held by a call;
 *   <li>the dispatcher's threads finish (none is stuck in a call), and every thread started
 *       during the test has ended, except OkHttp's and Okio's shared daemons, the SDK's stream
 *       watchdog and the relays' timer, which live for the JVM;
 *   <li>no stream time limit is still armed on the SDK's watchdog, no relay heartbeat on the
 *       relays' timer, and no heartbeat is still being written;
 *   <li>every credit reservation was settled exactly once (one commit or release that applied,
 *       none repeated), none is open, and none was left for the ledger's reaper.
 * </ul>
 *
 * <p>Exiting threads are waited for with bounded joins, never sleeps. OkHttp reports a call's end
 * ({@code callEnd}, {@code callFailed}) and a connection's release on the thread that ran the call,
 * which may still be unwinding when the test is over (a cancelled async call fails on its dispatcher
 * thread after the caller has seen the cancellation): the checks wait for those counts to reach zero,
 * woken by the events themselves, and fail only if they are still open after the bound.
 */
final class NoLeaks {
  private static final long DEFAULT_JOIN_MILLIS = 5_000;
  /**
   * Threads shared by the whole JVM, not owned by one client: OkHttp's task runner (whose threads
   * take the name of the task they run, such as the connection pool's closer), Okio's timeouts,
   * the SDK's timers (the client's stream watchdog, the relays' timer) and the helpers that write
   * relay heartbeats (idle ones linger; busy ones are checked apart).
   */
  private static final List<String> SHARED_DAEMONS = List.of("OkHttp TaskRunner", "OkHttp ConnectionPool",
      "Okio Watchdog", "llm-gateway-stream-watchdog", "llm-gateway-relay-timer", "llm-gateway-relay-heartbeat",
      "MockWebServer TaskRunner");

  private final long joinMillis;
  private final Set<Thread> baseline = Set.copyOf(Thread.getAllStackTraces().keySet());
  private final int watchdogTasksBefore = Watchdog.pendingTasks();
  private final int relayTimerTasksBefore = RelayTimer.pendingTasks();
  private final AtomicInteger threadNumber = new AtomicInteger();
  private final ThreadPoolExecutor executor = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
      new SynchronousQueue<>(), task -> new Thread(task, "faults-dispatcher-" + threadNumber.incrementAndGet()));
  private final ConnectionPool pool = new ConnectionPool(5, 1, TimeUnit.MINUTES);
  private final AtomicInteger callsStarted = new AtomicInteger();
  private final Gauge callsOpen = new Gauge();
  private final Gauge connectionsHeld = new Gauge();
  private final List<AutoCloseable> closeFirst = new CopyOnWriteArrayList<>();
  private final List<Reservation> expired = new CopyOnWriteArrayList<>();
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.builder().expiryListener(expired::add).build();
  private final CountingLedger counting = new CountingLedger(ledger);

  NoLeaks() {
    this(DEFAULT_JOIN_MILLIS);
  }

  /** Waits at most {@code joinMillis} for each exiting thread. */
  NoLeaks(long joinMillis) {
    this.joinMillis = joinMillis;
  }

  /**
   * Returns a builder for the OkHttp client the test's SDK client shares: this test's own
   * dispatcher threads and pool, and a listener counting calls and held connections.
   */
  OkHttpClient.Builder http() {
    return new OkHttpClient.Builder()
        .dispatcher(new Dispatcher(executor))
        .connectionPool(pool)
        .eventListener(new Counter());
  }

  /** The ledger to read balances from. */
  InMemoryCreditLedger ledger() {
    return ledger;
  }

  /** The ledger to give the gateway: it counts every reservation and settlement. */
  CreditLedger countingLedger() {
    return counting;
  }

  /** HTTP calls started so far (each attempt of a retried call counts). */
  int callsStarted() {
    return callsStarted.get();
  }

  /** Credit reservations made so far on the {@linkplain #countingLedger() counting ledger}. */
  int reservations() {
    return counting.reservations();
  }

  /** Closes {@code resource} (a server, a client) before the checks run. */
  <T extends AutoCloseable> T closeBeforeChecking(T resource) {
    closeFirst.add(resource);
    return resource;
  }

  /** Closes what was registered, then asserts that nothing leaked. */
  void verify() throws Exception {
    for (int i = closeFirst.size() - 1; i >= 0; i--) {
      closeFirst.get(i).close();
    }
    assertThat(callsOpen.awaitZero(joinMillis)).as("HTTP calls started but never ended").isZero();
    assertThat(connectionsHeld.awaitZero(joinMillis)).as("connections acquired by a call and never released").isZero();
    assertThat(pool.connectionCount() - pool.idleConnectionCount()).as("connections in use in the pool").isZero();
    executor.shutdown();
    assertThat(executor.awaitTermination(joinMillis, TimeUnit.MILLISECONDS))
        .as("dispatcher threads still busy in a call").isTrue();
    pool.evictAll();
    List<Thread> left = new ArrayList<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (!baseline.contains(thread) && !shared(thread)) {
        thread.join(joinMillis);
        if (thread.isAlive()) {
          left.add(thread);
        }
      }
    }
    assertThat(left).as("threads started during the test still running").isEmpty();
    assertThat(Watchdog.pendingTasks()).as("stream time limits still armed")
        .isLessThanOrEqualTo(watchdogTasksBefore);
    assertThat(RelayTimer.pendingTasks()).as("relay heartbeats still armed")
        .isLessThanOrEqualTo(relayTimerTasksBefore);
    assertThat(Heartbeat.pingsBeingWritten()).as("relay heartbeats still being written").isZero();
    counting.assertEachSettledOnce();
    assertThat(ledger.pendingCount()).as("open reservations").isZero();
    assertThat(expired).as("reservations left for the reaper").isEmpty();
  }

  private static boolean shared(Thread thread) {
    String name = thread.getName();
    return SHARED_DAEMONS.stream().anyMatch(name::startsWith);
  }

  /** Counts calls from start to end and connections from acquisition to release. */
  private final class Counter extends EventListener {
    @Override
    public void callStart(Call call) {
      callsStarted.incrementAndGet();
      callsOpen.up();
    }

    @Override
    public void callEnd(Call call) {
      callsOpen.down();
    }

    @Override
    public void callFailed(Call call, IOException ioe) {
      callsOpen.down();
    }

    @Override
    public void connectionAcquired(Call call, Connection connection) {
      connectionsHeld.up();
    }

    @Override
    public void connectionReleased(Call call, Connection connection) {
      connectionsHeld.down();
    }
  }

  /** A count that events on other threads move; a reader can wait, without polling, for it to reach zero. */
  private static final class Gauge {
    private int value;

    synchronized void up() {
      value++;
    }

    synchronized void down() {
      if (--value == 0) {
        notifyAll();
      }
    }

    /** Waits at most {@code millis} for the count to reach zero; returns the count then. */
    synchronized int awaitZero(long millis) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
      for (long left = deadline - System.nanoTime(); value != 0 && left > 0; left = deadline - System.nanoTime()) {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return value;
    }
  }

  /** A ledger that records every reservation and every settlement made on it. */
  private static final class CountingLedger implements CreditLedger {
    private final CreditLedger delegate;
    private final Map<UUID, List<Settlement>> settlements = new ConcurrentHashMap<>();

    CountingLedger(CreditLedger delegate) {
      this.delegate = delegate;
    }

    @Override
    public Reservation reserve(UserContext user, Operation operation, long estimatedCredits, @Nullable String requestId) {
      Reservation reservation = delegate.reserve(user, operation, estimatedCredits, requestId);
      settlements.put(reservation.id(), new CopyOnWriteArrayList<>());
      return reservation;
    }

    @Override
    public Settlement commit(Reservation reservation, long credits) {
      return recorded(reservation, delegate.commit(reservation, credits));
    }

    @Override
    public Settlement release(Reservation reservation, String reason) {
      return recorded(reservation, delegate.release(reservation, reason));
    }

    @Override
    public Optional<Reservation> findByRequestId(String requestId) {
      return delegate.findByRequestId(requestId);
    }

    private Settlement recorded(Reservation reservation, Settlement settlement) {
      settlements.computeIfAbsent(reservation.id(), id -> new CopyOnWriteArrayList<>()).add(settlement);
      return settlement;
    }

    int reservations() {
      return settlements.size();
    }

    void assertEachSettledOnce() {
      settlements.forEach((id, made) -> assertThat(made).as("settlements of reservation %s", id)
          .hasSize(1).allMatch(Settlement::applied));
    }
  }
}
