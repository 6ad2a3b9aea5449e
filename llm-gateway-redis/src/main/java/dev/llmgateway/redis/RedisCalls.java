package dev.llmgateway.redis;

import dev.llmgateway.TransportException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.Objects;

/** Waits for Redis commands with a bound and turns their failures into typed, retryable errors. */
final class RedisCalls {
  private RedisCalls() {}

  /** Checks a timeout setting. */
  static Duration checkTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    return timeout;
  }

  /** Checks a key prefix setting. */
  static String checkPrefix(String prefix) {
    return checkPrefix(prefix, "keyPrefix");
  }

  /** Checks a prefix setting, named {@code name} in the error. */
  static String checkPrefix(String prefix, String name) {
    Objects.requireNonNull(prefix, name);
    if (prefix.isEmpty()) {
      throw new IllegalArgumentException(name + " must not be empty");
    }
    return prefix;
  }

  /**
   * Waits at most {@code timeout} for {@code stage}.
   *
   * @throws TransportException (retryable) if it failed, took longer or the wait was interrupted
   */
  static <T> T await(CompletionStage<T> stage, Duration timeout, String what) {
    CompletableFuture<T> future = stage.toCompletableFuture();
    try {
      return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(false);
      throw failure(what, timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(false);
      throw unavailable(what + ": interrupted while waiting for Redis", e);
    } catch (ExecutionException | CancellationException e) {
      throw failure(what, timeout, e);
    }
  }

  /**
   * The error for a failed or timed-out command: names the cause's class, never the command's
   * arguments (ids, keys).
   */
  static TransportException failure(String what, Duration timeout, Throwable e) {
    Throwable cause = unwrap(e);
    if (cause instanceof TransportException) {
      return (TransportException) cause;
    }
    if (cause instanceof TimeoutException) {
      return unavailable(what + ": Redis did not answer within " + timeout, cause);
    }
    return unavailable(what + ": Redis failed (" + cause.getClass().getSimpleName() + ")", cause);
  }

  static TransportException unavailable(String message, Throwable cause) {
    return new TransportException(message, null, 1, cause, true);
  }

  static Throwable unwrap(Throwable e) {
    Throwable t = e;
    for (int i = 0; i < 8 && (t instanceof ExecutionException || t instanceof CompletionException); i++) {
      Throwable cause = t.getCause();
      if (cause == null) {
        break;
      }
      t = cause;
    }
    return t;
  }
}
