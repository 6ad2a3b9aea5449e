package dev.llmgateway.internal;

import dev.llmgateway.CallInfo;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.CreditSettlement;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Usage;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The listener of one logical call: the client's shared listener alone when no factory is set
 * (nothing allocated), else the shared listener then the call's own, each shielded from the other.
 */
final class CallListeners implements GatewayListener {
  private final GatewayListener shared;
  private final GatewayListener own;

  private CallListeners(GatewayListener shared, GatewayListener own) {
    this.shared = shared;
    this.own = own;
  }

  /** The listener a call reports to; calls the client's factory, if any, once. */
  static GatewayListener forCall(ClientConfig config, CallInfo info) {
    GatewayListener.Factory factory = config.listenerFactory();
    if (factory == null) {
      return config.listener();
    }
    GatewayListener own;
    try {
      own = factory.create(info);
    } catch (RuntimeException e) {
      LoggingListener.LOG.warn("A GatewayListener.Factory threw; the call goes on without a listener of its own", e);
      return config.listener();
    }
    if (own == null) {
      LoggingListener.LOG.warn("A GatewayListener.Factory returned null; the call goes on without a listener of its own");
      return config.listener();
    }
    return new CallListeners(config.listener(), own);
  }

  /**
   * Whether {@code listener} may use {@link GatewayListener#firstEvent}, {@link
   * GatewayListener#usageReported} and {@link GatewayListener#attemptHeaders}: false for the
   * built-in listeners, which ignore them, so that a client without a listener of its own
   * computes nothing for them.
   */
  static boolean wantsDetails(GatewayListener listener) {
    return listener != LoggingListener.INSTANCE && listener != LoggingListener.NONE;
  }

  @Override
  public void callStart(CallInfo call) {
    try {
      shared.callStart(call);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
    own.callStart(call);
  }

  @Override
  public void attemptStart(CallInfo call, int attempt) {
    try {
      shared.attemptStart(call, attempt);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
    own.attemptStart(call, attempt);
  }

  @Override
  public void attemptEnd(
      CallInfo call, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {
    try {
      shared.attemptEnd(call, attempt, status, latency, failure);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
    own.attemptEnd(call, attempt, status, latency, failure);
  }

  @Override
  public void attemptHeaders(CallInfo call, int attempt, HeaderSink headers) {
    try {
      shared.attemptHeaders(call, attempt, headers);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
    own.attemptHeaders(call, attempt, headers);
  }

  @Override
  public void retryScheduled(CallInfo call, int nextAttempt, Duration delay, LlmGatewayException failure) {
    try {
      shared.retryScheduled(call, nextAttempt, delay, failure);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
    own.retryScheduled(call, nextAttempt, delay, failure);
  }

  @Override
  public void firstEvent(CallInfo call, Duration sinceCallStart) {
    try {
      shared.firstEvent(call, sinceCallStart);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
    own.firstEvent(call, sinceCallStart);
  }

  @Override
  public void usageReported(CallInfo call, Usage usage) {
    try {
      shared.usageReported(call, usage);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
    own.usageReported(call, usage);
  }

  @Override
  public void creditsReserved(CallInfo call, long credits) {
    try {
      shared.creditsReserved(call, credits);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
    own.creditsReserved(call, credits);
  }

  @Override
  public void creditsSettled(CallInfo call, CreditSettlement settlement, long creditsCharged) {
    try {
      shared.creditsSettled(call, settlement, creditsCharged);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
    own.creditsSettled(call, settlement, creditsCharged);
  }

  @Override
  public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
    try {
      shared.callEnd(call, latency, failure);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
    own.callEnd(call, latency, failure);
  }

  /** Never called: breaker changes go to the shared listener only, not to any call's. */
  @Override
  public void circuitStateChanged(CircuitBreaker.State from, CircuitBreaker.State to) {
    shared.circuitStateChanged(from, to);
  }
}
