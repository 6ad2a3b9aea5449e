package dev.llmgateway.internal;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One daemon thread that fires the stream time limits and concurrency-slot waits of every client.
 * Its tasks only flag or cancel, never block, so one thread serves any number of streams; cancelled
 * tasks are removed at once.
 */
public final class Watchdog {
  private static final ScheduledThreadPoolExecutor EXECUTOR = create();

  private Watchdog() {}

  private static ScheduledThreadPoolExecutor create() {
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, task -> {
      Thread thread = new Thread(task, "llm-gateway-stream-watchdog");
      thread.setDaemon(true);
      return thread;
    });
    executor.setRemoveOnCancelPolicy(true);
    return executor;
  }

  /** Runs {@code task} once after {@code delay}; it must be quick and not block. */
  public static ScheduledFuture<?> schedule(Duration delay, Runnable task) {
    return EXECUTOR.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Returns how many tasks wait to run: every stream's armed time limits and every waiting call's
   * concurrency-slot limit. A finished stream leaves none behind, which the fault tests check.
   */
  public static int pendingTasks() {
    return EXECUTOR.getQueue().size();
  }
}
