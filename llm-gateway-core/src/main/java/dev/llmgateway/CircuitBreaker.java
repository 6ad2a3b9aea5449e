package dev.llmgateway;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Stops calling a service that keeps failing. After {@link #failureThreshold()} consecutive failed
 * attempts (connection failures, timeouts, {@code 5xx}) the breaker opens: calls fail at once with
 * {@link CircuitOpenException} and touch no network. After {@link #openDuration()} it lets one
 * probe call through (half-open): success closes it, failure opens it again. Answers such as
 * {@code 4xx} count as successes (the service is up); calls the client cancelled count as nothing.
 *
 * <p>Thread-safe and lock-free. One breaker guards one service: a client builds its own unless
 * given one, and {@link LlmGatewayClient#newBuilder()} shares it with the derived client.
 */
public final class CircuitBreaker {
  /** Consecutive failures that open the breaker. */
  public static final int DEFAULT_FAILURE_THRESHOLD = 5;
  /** How long the breaker stays open before letting a probe through. */
  public static final Duration DEFAULT_OPEN_DURATION = Duration.ofSeconds(30);

  /** The breaker's states. */
  public enum State {
    /** Calls flow; failures are counted. */
    CLOSED,
    /** Calls fail fast. */
    OPEN,
    /** One probe call is allowed through. */
    HALF_OPEN,
    /** The breaker never opens. */
    DISABLED
  }

  /** Receives state changes. Called on the thread whose call caused the change; must not block. */
  @FunctionalInterface
  public interface StateListener {
    /**
     * The state changed.
     *
     * @param from the previous state
     * @param to the new state
     */
    void onStateChange(State from, State to);
  }

  private record Snapshot(State state, int failures, long openedAt, boolean probing) {}

  private static final Snapshot CLOSED_CLEAN = new Snapshot(State.CLOSED, 0, 0, false);

  private final boolean enabled;
  private final int failureThreshold;
  private final Duration openDuration;
  private final long openNanos;
  private final Ticker ticker;
  private final AtomicReference<Snapshot> snapshot = new AtomicReference<>(CLOSED_CLEAN);
  private final CopyOnWriteArrayList<StateListener> listeners = new CopyOnWriteArrayList<>();

  private CircuitBreaker(Builder b) {
    this.enabled = b.enabled;
    this.failureThreshold = b.failureThreshold;
    this.openDuration = b.openDuration;
    this.openNanos = b.openDuration.toNanos();
    this.ticker = b.ticker;
  }

  /**
   * Returns a new breaker with the defaults: opens after 5 consecutive failures, for 30 s.
   *
   * @return a new breaker
   */
  public static CircuitBreaker ofDefaults() {
    return builder().build();
  }

  /**
   * Returns a breaker that never opens.
   *
   * @return a new disabled breaker
   */
  public static CircuitBreaker disabled() {
    return builder().enabled(false).build();
  }

  /**
   * Starts a builder holding the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** @return consecutive failures that open the breaker */
  public int failureThreshold() {
    return failureThreshold;
  }

  /** @return how long the breaker stays open before a probe */
  public Duration openDuration() {
    return openDuration;
  }

  /**
   * Returns the current state. An open breaker whose open period has passed reports {@link
   * State#HALF_OPEN}: the next call is the probe.
   *
   * @return the state
   */
  public State state() {
    if (!enabled) {
      return State.DISABLED;
    }
    Snapshot s = snapshot.get();
    if (s.state == State.OPEN && ticker.read() - s.openedAt >= openNanos) {
      return State.HALF_OPEN;
    }
    return s.state;
  }

  /**
   * Registers a listener for state changes.
   *
   * @param listener the listener
   */
  public void addListener(StateListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Removes a listener added with {@link #addListener}.
   *
   * @param listener the listener
   */
  public void removeListener(StateListener listener) {
    listeners.remove(listener);
  }

  /**
   * Asks to make one attempt. Every {@code true} must be followed by exactly one of {@link
   * #onSuccess()}, {@link #onFailure()} or {@link #onIgnored()}.
   *
   * @return true if the attempt may go ahead
   */
  public boolean tryAcquire() {
    if (!enabled) {
      return true;
    }
    while (true) {
      Snapshot s = snapshot.get();
      switch (s.state) {
        case CLOSED:
          return true;
        case OPEN:
          if (ticker.read() - s.openedAt < openNanos) {
            return false;
          }
          if (transition(s, new Snapshot(State.HALF_OPEN, s.failures, s.openedAt, true))) {
            return true;
          }
          break;
        case HALF_OPEN:
          if (s.probing) {
            return false;
          }
          if (snapshot.compareAndSet(s, new Snapshot(State.HALF_OPEN, s.failures, s.openedAt, true))) {
            return true;
          }
          break;
        default:
          return true;
      }
    }
  }

  /**
   * Returns how long until the open breaker lets a probe through.
   *
   * @return the remaining open time; zero when not open
   */
  public Duration remainingOpenTime() {
    Snapshot s = snapshot.get();
    if (!enabled || s.state != State.OPEN) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(Math.max(0, openNanos - (ticker.read() - s.openedAt)));
  }

  /** Records a successful attempt (the service answered, even with a {@code 4xx}). */
  public void onSuccess() {
    if (!enabled) {
      return;
    }
    while (true) {
      Snapshot s = snapshot.get();
      if (s == CLOSED_CLEAN || s.state == State.OPEN) {
        return;
      }
      if (transition(s, CLOSED_CLEAN)) {
        return;
      }
    }
  }

  /** Records a failed attempt (connection failure, timeout, {@code 5xx}). */
  public void onFailure() {
    if (!enabled) {
      return;
    }
    while (true) {
      Snapshot s = snapshot.get();
      Snapshot next;
      if (s.state == State.OPEN) {
        return;
      } else if (s.state == State.HALF_OPEN || s.failures + 1 >= failureThreshold) {
        next = new Snapshot(State.OPEN, s.failures + 1, ticker.read(), false);
      } else {
        next = new Snapshot(State.CLOSED, s.failures + 1, 0, false);
      }
      if (transition(s, next)) {
        return;
      }
    }
  }

  /** Records an attempt that says nothing about the service's health, e.g. one the caller cancelled. */
  public void onIgnored() {
    if (!enabled) {
      return;
    }
    while (true) {
      Snapshot s = snapshot.get();
      if (s.state != State.HALF_OPEN || !s.probing) {
        return;
      }
      if (snapshot.compareAndSet(s, new Snapshot(State.HALF_OPEN, s.failures, s.openedAt, false))) {
        return;
      }
    }
  }

  private boolean transition(Snapshot from, Snapshot to) {
    if (!snapshot.compareAndSet(from, to)) {
      return false;
    }
    if (from.state != to.state) {
      for (StateListener listener : listeners) {
        try {
          listener.onStateChange(from.state, to.state);
        } catch (RuntimeException ignored) {
          // A listener must not break the call that changed the state.
        }
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "CircuitBreaker{state=" + state() + ", failureThreshold=" + failureThreshold
        + ", openDuration=" + openDuration + "}";
  }

  /** Builds a {@link CircuitBreaker}. Not thread-safe. */
  public static final class Builder {
    private boolean enabled = true;
    private int failureThreshold = DEFAULT_FAILURE_THRESHOLD;
    private Duration openDuration = DEFAULT_OPEN_DURATION;
    private Ticker ticker = Ticker.system();

    private Builder() {}

    /**
     * Sets whether the breaker can open at all. Default true.
     *
     * @param enabled false for a breaker that never opens
     * @return this builder
     */
    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    /**
     * Sets how many consecutive failed attempts open the breaker. Default {@value
     * #DEFAULT_FAILURE_THRESHOLD}.
     *
     * @param failureThreshold at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder failureThreshold(int failureThreshold) {
      if (failureThreshold < 1) {
        throw new IllegalArgumentException("failureThreshold < 1: " + failureThreshold);
      }
      this.failureThreshold = failureThreshold;
      return this;
    }

    /**
     * Sets how long the breaker stays open before it lets a probe through. Default 30 s.
     *
     * @param openDuration positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder openDuration(Duration openDuration) {
      Objects.requireNonNull(openDuration, "openDuration");
      if (openDuration.isZero() || openDuration.isNegative()) {
        throw new IllegalArgumentException("openDuration must be positive: " + openDuration);
      }
      this.openDuration = openDuration;
      return this;
    }

    /**
     * Sets the time source. Default {@link Ticker#system()}; tests pass a fake.
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Builds the breaker, closed.
     *
     * @return a new breaker
     */
    public CircuitBreaker build() {
      return new CircuitBreaker(this);
    }
  }
}
