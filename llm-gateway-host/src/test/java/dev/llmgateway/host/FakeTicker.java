package dev.llmgateway.host;

import dev.llmgateway.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A ticker that tests move by hand. Starts at an arbitrary, negative reading, like nanoTime may. */
final class FakeTicker implements Ticker {
  private final AtomicLong nanos = new AtomicLong(-5_000_000_000L);

  @Override
  public long read() {
    return nanos.get();
  }

  void advance(Duration duration) {
    nanos.addAndGet(duration.toNanos());
  }
}
