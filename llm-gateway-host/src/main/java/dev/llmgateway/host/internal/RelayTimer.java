package dev.llmgateway.host.internal;

import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads of every relay's heartbeat in the JVM: one daemon timer thread whose tasks only
 * re-arm or hand work on, never block, so one thread serves any number of relays; and helper
 * threads for the pings, which may block on a browser that stopped reading. Both start with the
 * first relay. The client's own timer thread (stream time limits) is another one: relays add no
 * work to it.
 */
public final class RelayTimer {
  /** How long an idle helper thread of {@link #offload} waits for work before it ends. */
  static final Duration HELPER_KEEP_ALIVE = Duration.ofSeconds(30);

  private static final ScheduledThreadPoolExecutor TIMER = createTimer();
  private static final ThreadPoolExecutor HELPERS = createHelpers();

  /** The shared timer for the heartbeats' timers, its helper threads for pings, the system clock. */
  public static final Heartbeat.Scheduler SCHEDULER = new Heartbeat.Scheduler() {
    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public Future<?> schedule(long delayNanos, Runnable task) {
      return RelayTimer.schedule(Duration.ofNanos(delayNanos), task);
    }

    @Override
    public void execute(Runnable task) {
      offload(task);
    }
  };

  private RelayTimer() {}

  private static ScheduledThreadPoolExecutor createTimer() {
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, task -> {
      Thread thread = new Thread(task, "llm-gateway-relay-timer");
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

  /**
   * Runs {@code task} once after {@code delay} on the timer thread.
   *
   * @param delay the delay
   * @param task quick, never blocks
   * @return cancels the task (a cancelled task is removed at once)
   */
  public static Future<?> schedule(Duration delay, Runnable task) {
    return TIMER.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Returns how many tasks wait to run: every running relay's heartbeat timer. A relay that has
   * ended leaves none behind, which the fault tests check.
   *
   * @return the count
   */
  public static int pendingTasks() {
    return TIMER.getQueue().size();
  }

  /**
   * Runs {@code task} now on a helper daemon thread, never on the timer's: for work a timer
   * starts that may block, such as a write to a browser. A task that blocks holds only its own
   * helper thread; callers keep at most one task of theirs running at a time.
   *
   * @param task may block
   */
  public static void offload(Runnable task) {
    HELPERS.execute(task);
  }
}
