package dev.llmgateway;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Waits between retries: {@link #sleep} for blocking calls, {@link #delay} for asynchronous ones
 * (which must not block a thread). Inject a fake in tests to retry without waiting and to record
 * the delays asked for.
 */
public interface Sleeper {
  /**
   * Blocks the calling thread for {@code duration}.
   *
   * @param duration how long; never negative
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  void sleep(Duration duration) throws InterruptedException;

  /**
   * Returns a stage that completes after {@code duration} without blocking the caller.
   *
   * @param duration how long; never negative
   * @return a stage completing after the delay
   */
  default CompletionStage<Void> delay(Duration duration) {
    return CompletableFuture.runAsync(
        () -> {}, CompletableFuture.delayedExecutor(duration.toNanos(), TimeUnit.NANOSECONDS));
  }

  /**
   * Returns the real sleeper: {@link Thread#sleep} and a delayed executor.
   *
   * @return the system sleeper
   */
  static Sleeper system() {
    return duration -> Thread.sleep(duration.toMillis(), (int) (duration.toNanos() % 1_000_000));
  }
}
