package dev.llmgateway.internal;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One daemon thread that fires the stream time limits and relay heartbeats of every client. Its
 * tasks only flag, cancel or hand work on, never block, so one thread serves any number of streams;
 * cancelled tasks are removed at once. Work that may block (a heartbeat written to a browser that
 * stopped reading) goes to {@link #offload}, never onto this thread.
 */
public final class Watchdog {
  /** How long an idle helper thread of {@link #offload} waits for work before it ends. */
  static final Duration HELPER_KEEP_ALIVE = Duration.ofSeconds(30);

  private static final ScheduledThreadPoolExecutor EXECUTOR = create();
  private static final ThreadPoolExecutor HELPERS = createHelpers();

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

  /**
   * Threads on demand, reused while busy ones block: a helper stuck writing to one browser never
   * delays another relay's heartbeat. Each relay has at most one task here at a time, so there are
   * never more helpers than relays (whose own threads the host already pays for).
   */
  private static ThreadPoolExecutor createHelpers() {
    AtomicInteger count = new AtomicInteger();
    return new ThreadPoolExecutor(0, Integer.MAX_VALUE, HELPER_KEEP_ALIVE.toNanos(), TimeUnit.NANOSECONDS,
        new SynchronousQueue<>(), task -> {
          Thread thread = new Thread(task, "llm-gateway-relay-heartbeat-" + count.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        });
  }

  /** Runs {@code task} once after {@code delay}; it must be quick and not block. */
  public static ScheduledFuture<?> schedule(Duration delay, Runnable task) {
    return EXECUTOR.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Returns how many tasks wait to run: every stream's armed time limits and every relay's
   * heartbeat. A finished stream leaves none behind, which the fault tests check.
   */
  public static int pendingTasks() {
    return EXECUTOR.getQueue().size();
  }

  /**
   * Runs {@code task} now on a helper daemon thread, never on the watchdog's: for work a timer
   * starts that may block, such as a write to a browser. A task that blocks holds only its own
   * helper thread; callers keep at most one task of theirs running at a time.
   */
  public static void offload(Runnable task) {
    HELPERS.execute(task);
  }
}
