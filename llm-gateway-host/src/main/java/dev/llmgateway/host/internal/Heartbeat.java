package dev.llmgateway.host.internal;

import dev.llmgateway.sse.SseWriter;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Keeps one relay's connection alive: a {@code : ping} comment goes out whenever the relay has
 * written nothing for the interval, so no silence exceeds the interval by more than the timer's
 * own lateness.
 *
 * <p>One one-shot timer per relay, armed for the end of the current silence. Writes do not touch
 * it (the per-token cost is one clock read and one volatile write in {@link #wrote()}); when it
 * fires early because something was written since, it re-arms for the new end. The timer never
 * writes: it hands the ping to a helper thread ({@link Scheduler#execute}), at most one per relay
 * at a time, and the ping uses {@link SseWriter#tryWriteComment}, so it skips when an event is
 * being written. A browser that stops reading therefore holds at most one helper thread and never
 * the timer thread that every relay's heartbeat shares ({@link RelayTimer}).
 *
 * <p>Thread-safe: {@link #wrote()} and {@link #stop()} are called by the relay's thread, the rest
 * runs on the scheduler's threads.
 */
public final class Heartbeat {
  /** The comment a heartbeat writes. */
  static final String PING = "ping";
  /** Pings being written now, in the whole JVM: none once every relay has stopped. */
  private static final AtomicInteger WRITING = new AtomicInteger();

  /** Where a heartbeat's timer and pings run: {@link RelayTimer#SCHEDULER}, or a fake in tests. */
  public interface Scheduler {
    /**
     * Returns the time in nanoseconds, as {@link System#nanoTime()}.
     *
     * @return the time
     */
    long nanoTime();

    /**
     * Runs {@code task} once after {@code delayNanos}, on a thread that must not block.
     *
     * @param delayNanos the delay
     * @param task quick, never blocks
     * @return cancels the task
     */
    Future<?> schedule(long delayNanos, Runnable task);

    /**
     * Runs {@code task} now on a thread that may block.
     *
     * @param task may block
     * @throws RejectedExecutionException if it cannot run now
     */
    void execute(Runnable task);
  }

  private final SseWriter writer;
  private final long intervalNanos;
  private final Scheduler scheduler;
  private final Runnable onFailure;
  /** Held by a ping while it writes; taken for good by {@link #stop()}, so no ping writes after it. */
  private final Semaphore writing = new Semaphore(1);
  private final Runnable tick = this::tick;
  private final Runnable ping = this::ping;
  private volatile long lastWrite;
  private volatile boolean stopped;
  private volatile @Nullable Future<?> timer;
  private volatile @Nullable IOException failure;

  private Heartbeat(SseWriter writer, Duration interval, Scheduler scheduler, Runnable onFailure) {
    this.writer = writer;
    this.intervalNanos = interval.toNanos();
    this.scheduler = scheduler;
    this.onFailure = onFailure;
    this.lastWrite = scheduler.nanoTime();
  }

  /**
   * Starts the heartbeat of a relay that has just written (the silence starts now).
   *
   * @param writer the relay's writer
   * @param interval the longest silence, positive
   * @param scheduler where the timer and the pings run
   * @param onFailure called on a helper thread once when a ping fails: the browser has gone
   * @return the running heartbeat; {@link #stop()} it when the relay ends
   */
  public static Heartbeat start(SseWriter writer, Duration interval, Scheduler scheduler, Runnable onFailure) {
    Heartbeat heartbeat = new Heartbeat(writer, interval, scheduler, onFailure);
    heartbeat.arm(heartbeat.intervalNanos);
    return heartbeat;
  }

  /** Records that the relay wrote: the silence starts again. The relay's per-event cost. */
  public void wrote() {
    lastWrite = scheduler.nanoTime();
  }

  /**
   * Returns how many pings are being written now, by every relay in the JVM. A relay that has
   * ended leaves none (its {@link #stop()} waits for its ping), which the fault tests check: a
   * count that stays above 0 is a ping stuck on a browser that stopped reading.
   *
   * @return the count
   */
  public static int pingsBeingWritten() {
    return WRITING.get();
  }

  /**
   * Returns why a ping failed, once one has.
   *
   * @return the write's failure (the browser has gone), or null
   */
  public @Nullable IOException failure() {
    return failure;
  }

  /**
   * Stops the heartbeat: no ping is written once this returns. Waits for a ping being written to
   * finish (the relay's own next write would wait for it too); an interrupt ends the wait.
   */
  public void stop() {
    stopped = true;
    Future<?> armed = timer;
    if (armed != null) {
      armed.cancel(false);
    }
    try {
      writing.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** On the timer's thread: never writes, never blocks. */
  private void tick() {
    if (stopped) {
      return;
    }
    long silenceLeft = lastWrite + intervalNanos - scheduler.nanoTime();
    if (silenceLeft > 0) {
      arm(silenceLeft); // something was written since the timer was armed
      return;
    }
    try {
      scheduler.execute(ping);
    } catch (RejectedExecutionException e) {
      arm(intervalNanos);
    }
  }

  /** On a helper thread: may block on a browser that stopped reading. */
  private void ping() {
    if (writing.tryAcquire()) {
      WRITING.incrementAndGet();
      try {
        if (!stopped && writer.tryWriteComment(PING)) {
          wrote();
        }
      } catch (IOException | RuntimeException e) {
        failure = e instanceof IOException ? (IOException) e : new IOException(e);
      } finally {
        WRITING.decrementAndGet();
        writing.release();
      }
      if (failure != null) {
        onFailure.run();
        return;
      }
    }
    // Skipped while an event was being written: that write restarts the silence when it ends.
    long silenceLeft = lastWrite + intervalNanos - scheduler.nanoTime();
    arm(silenceLeft > 0 ? silenceLeft : intervalNanos);
  }

  private void arm(long delayNanos) {
    if (stopped) {
      return;
    }
    Future<?> next = scheduler.schedule(delayNanos, tick);
    timer = next;
    if (stopped) {
      next.cancel(false);
    }
  }
}
