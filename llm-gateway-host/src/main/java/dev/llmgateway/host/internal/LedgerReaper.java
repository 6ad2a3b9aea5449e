package dev.llmgateway.host.internal;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * The daemon thread on which a credit ledger releases expired reservations every interval, until
 * {@link #close()}. Not API. Thread-safe.
 */
public final class LedgerReaper implements AutoCloseable {
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  private final @Nullable ScheduledExecutorService executor;

  private LedgerReaper(@Nullable ScheduledExecutorService executor) {
    this.executor = executor;
  }

  /**
   * Starts a reaper thread, or none.
   *
   * @param interval how often to run {@code releaseExpired}; null starts no thread
   * @param threadName the thread's name
   * @param releaseExpired the ledger's reaping; an exception it throws is logged and the next run
   *     happens as planned
   * @param log the ledger's logger
   * @return the reaper; without a thread when {@code interval} is null
   */
  public static LedgerReaper start(
      @Nullable Duration interval, String threadName, Runnable releaseExpired, Logger log) {
    if (interval == null) {
      return new LedgerReaper(null);
    }
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, threadName);
      thread.setDaemon(true);
      return thread;
    });
    long nanos = interval.toNanos();
    Runnable quietly = () -> {
      try {
        releaseExpired.run();
      } catch (RuntimeException e) {
        // An exception would cancel the scheduled task for good; log it and run again next time.
        log.error("Releasing expired credit reservations failed", e);
      }
    };
    // Its future is not needed: the task logs its own failures, and close() shuts the executor down.
    var unused = executor.scheduleWithFixedDelay(quietly, nanos, nanos, TimeUnit.NANOSECONDS);
    return new LedgerReaper(executor);
  }

  /**
   * Tells whether this reaper has a thread.
   *
   * @return {@code true} if it was started with an interval
   */
  public boolean hasThread() {
    return executor != null;
  }

  /**
   * Stops the thread, if any, waiting briefly for a run in progress. Idempotent.
   */
  @Override
  public void close() {
    ScheduledExecutorService running = executor;
    if (running == null || running.isShutdown()) {
      return;
    }
    running.shutdown();
    try {
      if (!running.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        running.shutdownNow();
      }
    } catch (InterruptedException e) {
      running.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
