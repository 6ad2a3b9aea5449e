package dev.llmgateway.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A UTC clock that tests move by hand, so nothing ever sleeps. Thread-safe: an {@link #advance}
 * from one thread is seen by the next {@link #instant()} of any other, and concurrent advances add up.
 */
public final class MutableClock extends Clock {
  private final AtomicReference<Instant> now;

  /**
   * A clock standing at {@code start}.
   *
   * @param start the instant the clock shows until it is moved
   */
  public MutableClock(Instant start) {
    this.now = new AtomicReference<>(Objects.requireNonNull(start, "start"));
  }

  /**
   * A clock standing at an ISO-8601 instant.
   *
   * @param isoInstant such as {@code "2026-01-01T00:00:00Z"}
   * @return the clock
   * @throws java.time.format.DateTimeParseException if {@code isoInstant} is not an instant
   */
  public static MutableClock at(String isoInstant) {
    return new MutableClock(Instant.parse(isoInstant));
  }

  /**
   * Moves the clock on (or back, with a negative duration).
   *
   * @param duration how far
   */
  public void advance(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    now.updateAndGet(t -> t.plus(duration));
  }

  /**
   * Puts the clock at an instant.
   *
   * @param instant where the clock now stands
   */
  public void set(Instant instant) {
    now.set(Objects.requireNonNull(instant, "instant"));
  }

  @Override
  public Instant instant() {
    return Objects.requireNonNull(now.get());
  }

  /** Always UTC. */
  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /**
   * Not supported: tests that need another zone convert the instant themselves.
   *
   * @throws UnsupportedOperationException always
   */
  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("MutableClock is UTC only");
  }
}
