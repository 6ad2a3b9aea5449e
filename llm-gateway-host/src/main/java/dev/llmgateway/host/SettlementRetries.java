package dev.llmgateway.host;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Repeats a settlement the ledger could not write ({@link StateStoreException}) off the request
 * thread, with doubling backoff, a bounded number of times. Repeats are safe: a ledger applies at
 * most one settlement per reservation and answers a repeat with a no-op ({@link
 * Settlement#ALREADY_COMMITTED} ...). When every attempt failed the reservation stays pending and
 * the ledger's reaper releases it after its lease; {@link #abandoned()} counts those. Thread-safe.
 */
final class SettlementRetries implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SettlementRetries.class);
  static final String THREAD_NAME = "llm-gateway-settlement-retry";
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

  private final int attempts;
  private final Duration backoff;
  private final @Nullable ScheduledExecutorService hostScheduler;
  private final Consumer<Reservation> onAbandoned;
  private final AtomicLong abandoned = new AtomicLong();
  /** Attempts scheduled and not yet run: told of their abandonment if {@link #close()} drops them. */
  private final Set<Attempt> waiting = ConcurrentHashMap.newKeySet();
  private @Nullable ScheduledThreadPoolExecutor own; // guarded by this; made at the first failure
  private boolean closed; // guarded by this

  SettlementRetries(int attempts, Duration backoff, @Nullable ScheduledExecutorService hostScheduler,
      Consumer<Reservation> onAbandoned) {
    this.attempts = attempts;
    this.backoff = backoff;
    this.hostScheduler = hostScheduler;
    this.onAbandoned = onAbandoned;
  }

  /**
   * Schedules the repeats of a settlement whose first attempt failed.
   *
   * @param reservation the reservation to settle
   * @param settle one attempt: calls the ledger
   * @param report told of the settlement once an attempt succeeded
   * @param abandoned told, after the gateway's listener, when the settlement is given up
   * @param failure why the first attempt failed
   */
  void retry(Reservation reservation, Supplier<Settlement> settle, Consumer<Settlement> report, Runnable abandoned,
      StateStoreException failure) {
    schedule(new Attempt(reservation, settle, report, abandoned, 1), failure);
  }

  long abandoned() {
    return abandoned.get();
  }

  private void schedule(Attempt attempt, StateStoreException failure) {
    if (attempt.number > attempts) {
      abandon(attempt, "all " + attempts + " retries failed", failure);
      return;
    }
    Duration delay = backoff.multipliedBy(1L << Math.min(attempt.number - 1, 20));
    long delayNanos = (delay.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : delay).toNanos();
    waiting.add(attempt);
    try {
      // Attempt catches what the ledger throws, so the future holds nothing worth reading.
      Future<?> unused = scheduler().schedule(attempt, delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      if (waiting.remove(attempt)) {
        abandon(attempt, "the gateway is closed", failure);
      }
    }
  }

  private synchronized ScheduledExecutorService scheduler() {
    if (hostScheduler != null) {
      return hostScheduler;
    }
    if (closed) {
      throw new RejectedExecutionException("closed");
    }
    if (own == null) {
      ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, task -> {
        Thread thread = new Thread(task, THREAD_NAME);
        thread.setDaemon(true);
        return thread;
      });
      executor.setRemoveOnCancelPolicy(true);
      executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
      own = executor;
    }
    return own;
  }

  private void abandon(Attempt attempt, String why, StateStoreException failure) {
    Reservation reservation = attempt.reservation;
    abandoned.incrementAndGet();
    LOG.error("Settlement of reservation {} (request {}) abandoned: {} ({}); it stays pending until the ledger's "
        + "reaper releases it after its lease", reservation.id(), reservation.requestId(), why, failure.getMessage());
    tellAbandoned(attempt);
  }

  /** Tells the gateway's listener, then the call's, that the settlement was given up. */
  private void tellAbandoned(Attempt attempt) {
    try {
      onAbandoned.accept(attempt.reservation);
    } catch (RuntimeException e) {
      LOG.warn("Settlement listener threw; ignored", e);
    }
    attempt.abandoned.run();
  }

  /** Stops the gateway's own retry thread; settlements still waiting are abandoned to the reaper. */
  @Override
  public void close() {
    ScheduledThreadPoolExecutor executor;
    synchronized (this) {
      closed = true;
      executor = own;
      own = null;
    }
    if (executor == null) {
      return;
    }
    List<Runnable> dropped = executor.shutdownNow();
    for (Runnable task : dropped) {
      if (task instanceof Future<?> future) {
        future.cancel(false);
      }
    }
    List<Attempt> left = new ArrayList<>();
    for (Attempt attempt : List.copyOf(waiting)) {
      if (waiting.remove(attempt)) { // else it is running: it settles or is abandoned itself
        left.add(attempt);
      }
    }
    if (!left.isEmpty()) {
      abandoned.addAndGet(left.size());
      LOG.error("{} settlement(s) still waiting for a retry were abandoned at close; the ledger's reaper releases "
          + "them after their lease", left.size());
      left.forEach(this::tellAbandoned);
    }
    try {
      executor.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private final class Attempt implements Runnable {
    final Reservation reservation;
    final Supplier<Settlement> settle;
    final Consumer<Settlement> report;
    final Runnable abandoned;
    final int number;

    Attempt(Reservation reservation, Supplier<Settlement> settle, Consumer<Settlement> report, Runnable abandoned,
        int number) {
      this.reservation = Objects.requireNonNull(reservation, "reservation");
      this.settle = settle;
      this.report = report;
      this.abandoned = abandoned;
      this.number = number;
    }

    @Override
    public void run() {
      if (!waiting.remove(this)) {
        return; // abandoned at close
      }
      Settlement settlement;
      try {
        settlement = settle.get();
      } catch (StateStoreException e) {
        LOG.error("Retry {} of {} to settle reservation {} failed: {}", number, attempts, reservation.id(),
            e.getMessage());
        schedule(new Attempt(reservation, settle, report, abandoned, number + 1), e);
        return;
      } catch (RuntimeException e) {
        abandon(this, "the ledger threw " + e.getClass().getSimpleName(),
            new StateStoreException("settlement failed", reservation.requestId(), e));
        return;
      }
      LOG.info("Reservation {} settled on retry {}: {}", reservation.id(), number, settlement);
      report.accept(settlement);
    }
  }
}
