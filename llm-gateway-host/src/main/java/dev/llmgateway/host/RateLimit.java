package dev.llmgateway.host;

import java.time.Duration;
import java.util.Objects;

/**
 * One token-bucket limit: {@code permits} per {@code period}, refilled evenly (one permit every
 * {@code period / permits}), with room for a burst of up to {@code burst} permits at once.
 * Immutable and thread-safe.
 *
 * <pre>{@code
 * RateLimit.perMinute(100);                   // 100 at once, then one every 600 ms
 * RateLimit.perMinute(10).withBurst(3);       // 3 at once, then one every 6 s
 * }</pre>
 *
 * @param permits permits refilled per period, at least 1
 * @param period the refill period, positive
 * @param burst the bucket's capacity: permits usable at once after a quiet spell, at least 1
 */
public record RateLimit(int permits, Duration period, int burst) {
  /**
   * Checks the values.
   *
   * @param permits permits per period
   * @param period the period
   * @param burst the capacity
   * @throws IllegalArgumentException if {@code permits < 1}, {@code burst < 1}, or {@code period}
   *     is not positive or shorter than one nanosecond per permit
   */
  public RateLimit {
    Objects.requireNonNull(period, "period");
    if (permits < 1) {
      throw new IllegalArgumentException("permits < 1: " + permits);
    }
    if (burst < 1) {
      throw new IllegalArgumentException("burst < 1: " + burst);
    }
    if (period.isZero() || period.isNegative() || period.toNanos() < permits) {
      throw new IllegalArgumentException("period must be positive and at least 1 ns per permit: " + period);
    }
  }

  /**
   * Returns a limit of {@code permits} per {@code period} with a burst of the same size.
   *
   * @param permits permits per period, at least 1
   * @param period the period, positive
   * @return the limit
   * @throws IllegalArgumentException if a value is out of range
   */
  public static RateLimit of(int permits, Duration period) {
    return new RateLimit(permits, period, permits);
  }

  /**
   * Returns a limit of {@code permits} per minute with a burst of the same size.
   *
   * @param permits permits per minute, at least 1
   * @return the limit
   * @throws IllegalArgumentException if {@code permits < 1}
   */
  public static RateLimit perMinute(int permits) {
    return of(permits, Duration.ofMinutes(1));
  }

  /**
   * Returns this limit with another burst.
   *
   * @param burst the capacity, at least 1
   * @return a new limit
   * @throws IllegalArgumentException if {@code burst < 1}
   */
  public RateLimit withBurst(int burst) {
    return new RateLimit(permits, period, burst);
  }

  /**
   * Returns the time it takes to refill one permit.
   *
   * @return {@code period / permits}
   */
  public Duration interval() {
    return period.dividedBy(permits);
  }
}
