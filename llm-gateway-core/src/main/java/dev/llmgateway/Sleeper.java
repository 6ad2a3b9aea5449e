package dev.llmgateway;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits between retries: {@link #sleep} for blocking calls, {@link #delay} for asynchronous ones
 * (which must not block a thread). Inject a fake in tests to retry without waiting and to record
 * the delays asked for.
 *
 * <p>Implementations must be thread-safe.
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
   * Blocks the calling thread for {@code duration}, or until {@code wake} completes (normally or
   * not), whichever comes first. The SDK waits this way between the attempts of a stream, so that
   * cancelling the stream, or its total time limit, ends the wait at once. The default ignores
   * {@code wake} and calls {@link #sleep(Duration)}: a custom sleeper that cannot be woken simply
   * waits its time; {@link #system()} is woken.
   *
   * @param duration how long at most; never negative
   * @param wake ends the wait early when it completes
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  default void sleep(Duration duration, CompletionStage<?> wake) throws InterruptedException {
    sleep(duration);
  }

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
    return SystemSleeper.INSTANCE;
  }
}

/** {@link Sleeper#system()}: real time, woken by the stage it is given. */
final class SystemSleeper implements Sleeper {
  static final SystemSleeper INSTANCE = new SystemSleeper();

  private SystemSleeper() {}

  @Override
  public void sleep(Duration duration) throws InterruptedException {
    Thread.sleep(duration.toMillis(), (int) (duration.toNanos() % 1_000_000));
  }

  @Override
  public void sleep(Duration duration, CompletionStage<?> wake) throws InterruptedException {
    try {
      wake.toCompletableFuture().get(duration.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException expected) {
      // The full wait passed, or the wake-up completed exceptionally: either ends the wait.
    }
  }

  @Override
  public String toString() {
    return "Sleeper.system()";
  }
}
