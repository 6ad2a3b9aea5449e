package dev.llmgateway;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The SDK's own {@link CircuitBreaker}: consecutive failures open it, one probe at a time when
 * half-open. Built only by {@link CircuitBreaker.Builder}. Thread-safe and lock-free.
 */
final class DefaultCircuitBreaker implements CircuitBreaker {
  private record Snapshot(State state, int failures, long openedAt, boolean probing) {}

  private static final Snapshot CLOSED_CLEAN = new Snapshot(State.CLOSED, 0, 0, false);

  private final boolean enabled;
  private final int failureThreshold;
  private final Duration openDuration;
  private final long openNanos;
  private final Ticker ticker;
  private final AtomicReference<Snapshot> snapshot = new AtomicReference<>(CLOSED_CLEAN);
  private final CopyOnWriteArrayList<StateListener> listeners = new CopyOnWriteArrayList<>();

  DefaultCircuitBreaker(boolean enabled, int failureThreshold, Duration openDuration, Ticker ticker) {
    this.enabled = enabled;
    this.failureThreshold = failureThreshold;
    this.openDuration = openDuration;
    this.openNanos = openDuration.toNanos();
    this.ticker = ticker;
  }

  @Override
  public State state() {
    if (!enabled) {
      return State.DISABLED;
    }
    Snapshot s = current();
    if (s.state == State.OPEN && ticker.read() - s.openedAt >= openNanos) {
      return State.HALF_OPEN;
    }
    return s.state;
  }

  @Override
  public void addListener(StateListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  @Override
  public void removeListener(StateListener listener) {
    listeners.remove(listener);
  }

  @Override
  public boolean tryAcquire() {
    if (!enabled) {
      return true;
    }
    while (true) {
      Snapshot s = current();
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

  @Override
  public Duration remainingOpenTime() {
    Snapshot s = current();
    if (!enabled || s.state != State.OPEN) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(Math.max(0, openNanos - (ticker.read() - s.openedAt)));
  }

  @Override
  public void onSuccess() {
    if (!enabled) {
      return;
    }
    while (true) {
      Snapshot s = current();
      if (s.equals(CLOSED_CLEAN) || s.state == State.OPEN) {
        return;
      }
      if (transition(s, CLOSED_CLEAN)) {
        return;
      }
    }
  }

  @Override
  public void onFailure() {
    if (!enabled) {
      return;
    }
    while (true) {
      Snapshot s = current();
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

  @Override
  public void onIgnored() {
    if (!enabled) {
      return;
    }
    while (true) {
      Snapshot s = current();
      if (s.state != State.HALF_OPEN || !s.probing) {
        return;
      }
      if (snapshot.compareAndSet(s, new Snapshot(State.HALF_OPEN, s.failures, s.openedAt, false))) {
        return;
      }
    }
  }

  /** The snapshot now: set at construction and only ever swapped for another, never null. */
  private Snapshot current() {
    return Objects.requireNonNull(snapshot.get());
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
}
