package dev.llmgateway.internal;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The client's limit on logical calls in flight, shared by every kind of call (sync, async,
 * iterator and callback streams) and by the clients derived with {@code newBuilder()}. A call
 * holds one slot from its start to its end, retries and waits included. When every slot is taken,
 * a blocking caller waits on its own thread and an asynchronous one waits in a queue without a
 * thread; either waits at most the time it is given. Slots are handed to waiters first come, first
 * served.
 *
 * <p>Thread-safe. The lock guards only the counter and the queue (no I/O, no callback runs under
 * it).
 */
public final class ConcurrencyLimiter {
  private final int max;
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private int inFlight;

  public ConcurrencyLimiter(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max < 1: " + max);
    }
    this.max = max;
  }

  public int max() {
    return max;
  }

  /** Calls holding a slot now. */
  public int inFlight() {
    lock.lock();
    try {
      return inFlight;
    } finally {
      lock.unlock();
    }
  }

  /** Calls waiting for a slot now. */
  public int waiting() {
    lock.lock();
    try {
      return waiters.size();
    } finally {
      lock.unlock();
    }
  }

  /** Takes a slot if one is free, without waiting. */
  public boolean tryAcquire() {
    lock.lock();
    try {
      if (inFlight < max && waiters.isEmpty()) {
        inFlight++;
        return true;
      }
      return false;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes a slot, blocking the calling thread up to {@code maxWait}.
   *
   * @return true with a slot, false when none freed in time
   * @throws InterruptedException if the thread was interrupted (it holds no slot then)
   */
  public boolean acquire(Duration maxWait) throws InterruptedException {
    if (tryAcquire()) {
      return true;
    }
    CompletableFuture<Void> granted = new CompletableFuture<>();
    Waiter waiter = new Waiter(() -> granted.complete(null));
    if (!enqueue(waiter)) {
      return true;
    }
    try {
      granted.get(maxWait.toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      return !waiter.withdraw();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      if (!waiter.withdraw()) {
        release();
      }
      throw e;
    }
  }

  /**
   * Runs {@code granted} once a slot is the caller's: at once on this thread if one is free, else
   * on the thread that frees one. The caller's slot is then to be {@linkplain #release()
   * released} by the caller. {@code timedOut} runs (on the watchdog thread) when no slot freed
   * within {@code maxWait}. Both must be quick and must not throw.
   *
   * @return the queued waiter, to {@link Waiter#withdraw()} when the call ends while it waits; null
   *     when {@code granted} already ran
   */
  public @Nullable Waiter acquireLater(Duration maxWait, Runnable granted, Runnable timedOut) {
    if (tryAcquire()) {
      granted.run();
      return null;
    }
    Waiter waiter = new Waiter(granted);
    if (!enqueue(waiter)) {
      granted.run();
      return null;
    }
    waiter.timer = Watchdog.schedule(maxWait, () -> {
      if (waiter.withdraw()) {
        timedOut.run();
      }
    });
    if (waiter.state.get() != Waiter.WAITING) {
      waiter.stopTimer(); // granted or withdrawn before its timer was set
    }
    return waiter;
  }

  /** Queues the waiter; false when a slot freed meanwhile and was taken for it instead. */
  private boolean enqueue(Waiter waiter) {
    lock.lock();
    try {
      if (inFlight < max && waiters.isEmpty()) {
        inFlight++;
        return false;
      }
      waiters.add(waiter);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Frees a slot: it passes to the longest waiter, if any. */
  public void release() {
    Waiter next;
    lock.lock();
    try {
      next = waiters.poll();
      while (next != null && !next.grant()) {
        next = waiters.poll();
      }
      if (next == null) {
        inFlight--;
      }
    } finally {
      lock.unlock();
    }
    if (next != null) {
      next.stopTimer();
      next.granted.run();
    }
  }

  /** A call waiting for a slot. */
  public final class Waiter {
    private static final int WAITING = 0;
    private static final int GRANTED = 1;
    private static final int WITHDRAWN = 2;

    private final AtomicInteger state = new AtomicInteger(WAITING);
    private final Runnable granted;
    private volatile @Nullable ScheduledFuture<?> timer;

    private Waiter(Runnable granted) {
      this.granted = granted;
    }

    private boolean grant() {
      return state.compareAndSet(WAITING, GRANTED);
    }

    /**
     * Leaves the queue.
     *
     * @return true if it left without a slot; false if a slot had already been handed to it (its
     *     holder must then release it)
     */
    public boolean withdraw() {
      if (!state.compareAndSet(WAITING, WITHDRAWN)) {
        return false;
      }
      stopTimer();
      lock.lock();
      try {
        waiters.remove(this);
      } finally {
        lock.unlock();
      }
      return true;
    }

    private void stopTimer() {
      ScheduledFuture<?> t = timer;
      if (t != null) {
        t.cancel(false);
      }
    }
  }
}
