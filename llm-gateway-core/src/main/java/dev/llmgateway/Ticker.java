package dev.llmgateway;

/**
 * A monotonic time source in nanoseconds, like {@link System#nanoTime()}. Inject a fake in tests so
 * that deadlines and the circuit breaker's open period pass without waiting.
 */
@FunctionalInterface
public interface Ticker {
  /**
   * Returns the current reading.
   *
   * @return nanoseconds since an arbitrary origin
   */
  long read();

  /**
   * Returns the system ticker.
   *
   * @return a ticker backed by {@link System#nanoTime()}
   */
  static Ticker system() {
    return System::nanoTime;
  }
}
