package dev.llmgateway.internal;

import dev.llmgateway.CallInfo;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.CreditSettlement;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Operation;
import dev.llmgateway.Usage;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Forwards every event to each listener in order, each shielded from what the others throw. Plain
 * loops, no lambda per event: it sits on the per-call path of {@link
 * GatewayListener#composite(GatewayListener...)} and {@link GatewayListener.Factory#composite}.
 */
public final class CompositeListener implements GatewayListener {
  private final GatewayListener[] listeners;

  private CompositeListener(GatewayListener[] listeners) {
    this.listeners = listeners;
  }

  /**
   * Composes listeners.
   *
   * @param listeners the listeners, none null
   * @return their composite
   * @throws NullPointerException if {@code listeners} or one of them is null
   */
  public static GatewayListener of(GatewayListener... listeners) {
    GatewayListener[] all = Objects.requireNonNull(listeners, "listeners").clone();
    for (GatewayListener l : all) {
      Objects.requireNonNull(l, "listeners contains null");
    }
    return new CompositeListener(all);
  }

  /**
   * Checks factories and returns the factory composing their listeners.
   *
   * @param factories the factories, none null
   * @return the composing factory
   * @throws NullPointerException if {@code factories} or one of them is null
   */
  public static GatewayListener.Factory ofFactories(GatewayListener.Factory... factories) {
    GatewayListener.Factory[] all = Objects.requireNonNull(factories, "factories").clone();
    for (GatewayListener.Factory f : all) {
      Objects.requireNonNull(f, "factories contains null");
    }
    return call -> create(all, call);
  }

  /**
   * The listener of one call from each factory: one that throws or returns null is logged and
   * left out; with one listener left, that one; with none, {@link GatewayListener#none()}.
   */
  private static GatewayListener create(GatewayListener.Factory[] factories, CallInfo call) {
    // One array per call, used as is when every factory gave a listener (the usual case).
    GatewayListener[] created = new GatewayListener[factories.length];
    int count = 0;
    for (GatewayListener.Factory factory : factories) {
      GatewayListener listener;
      try {
        listener = factory.create(call);
      } catch (RuntimeException e) {
        LoggingListener.LOG.warn("A composed GatewayListener.Factory threw; the call goes on without its listener", e);
        continue;
      }
      if (listener == null) {
        LoggingListener.LOG.warn("A composed GatewayListener.Factory returned null; the call goes on without it");
        continue;
      }
      created[count++] = listener;
    }
    if (count == 0) {
      return LoggingListener.NONE;
    }
    if (count == 1) {
      return created[0];
    }
    return new CompositeListener(count == created.length ? created : Arrays.copyOf(created, count));
  }

  @Override
  public void callStart(CallInfo call) {
    for (GatewayListener l : listeners) {
      try {
        l.callStart(call);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void attemptStart(CallInfo call, int attempt) {
    for (GatewayListener l : listeners) {
      try {
        l.attemptStart(call, attempt);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void attemptEnd(
      CallInfo call, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {
    for (GatewayListener l : listeners) {
      try {
        l.attemptEnd(call, attempt, status, latency, failure);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void retryScheduled(CallInfo call, int nextAttempt, Duration delay, LlmGatewayException failure) {
    for (GatewayListener l : listeners) {
      try {
        l.retryScheduled(call, nextAttempt, delay, failure);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void firstEvent(CallInfo call, Duration sinceCallStart) {
    for (GatewayListener l : listeners) {
      try {
        l.firstEvent(call, sinceCallStart);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void usageReported(CallInfo call, Usage usage) {
    for (GatewayListener l : listeners) {
      try {
        l.usageReported(call, usage);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void creditsReserved(CallInfo call, long credits) {
    for (GatewayListener l : listeners) {
      try {
        l.creditsReserved(call, credits);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void creditsSettled(CallInfo call, CreditSettlement settlement, long creditsCharged) {
    for (GatewayListener l : listeners) {
      try {
        l.creditsSettled(call, settlement, creditsCharged);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
    for (GatewayListener l : listeners) {
      try {
        l.callEnd(call, latency, failure);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void attemptHeaders(CallInfo call, int attempt, GatewayListener.HeaderSink headers) {
    for (GatewayListener l : listeners) {
      try {
        l.attemptHeaders(call, attempt, headers);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void callRefused(Operation operation, LlmGatewayException refusal) {
    for (GatewayListener l : listeners) {
      try {
        l.callRefused(operation, refusal);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }

  @Override
  public void circuitStateChanged(CircuitBreaker.State from, CircuitBreaker.State to) {
    for (GatewayListener l : listeners) {
      try {
        l.circuitStateChanged(from, to);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
  }
}
