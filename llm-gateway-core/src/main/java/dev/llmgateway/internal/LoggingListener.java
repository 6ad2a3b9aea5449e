package dev.llmgateway.internal;

import dev.llmgateway.CallInfo;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The default listener: SLF4J, DEBUG per attempt, WARN per retry and breaker change. */
public final class LoggingListener implements GatewayListener {
  public static final LoggingListener INSTANCE = new LoggingListener();
  /** {@link GatewayListener#none()}. */
  public static final GatewayListener NONE = new GatewayListener() {};
  static final Logger LOG = LoggerFactory.getLogger("dev.llmgateway.LlmGatewayClient");

  private LoggingListener() {}

  @Override
  public void attemptStart(CallInfo call, int attempt) {
    if (LOG.isDebugEnabled()) {
      LOG.debug("{} {} attempt {} started (query \"{}\")", call.method(), call.path(), attempt, call.queryPreview());
    }
  }

  @Override
  public void attemptEnd(
      CallInfo call, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {
    if (LOG.isDebugEnabled()) {
      LOG.debug(
          "{} {} attempt {} ended: status {} in {} ms{}",
          call.method(), call.path(), attempt, status, latency.toMillis(),
          failure == null ? "" : " (" + failure.getClass().getSimpleName() + ": " + failure.getMessage() + ")");
    }
  }

  @Override
  public void retryScheduled(CallInfo call, int nextAttempt, Duration delay, LlmGatewayException failure) {
    LOG.warn(
        "{} {} failed ({}: {}); attempt {} in {} ms",
        call.method(), call.path(), failure.getClass().getSimpleName(), failure.getMessage(),
        nextAttempt, delay.toMillis());
  }

  @Override
  public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
    if (LOG.isDebugEnabled()) {
      LOG.debug(
          "{} {} {} in {} ms", call.method(), call.path(),
          failure == null ? "succeeded" : "failed with " + failure.getClass().getSimpleName(),
          latency.toMillis());
    }
  }

  @Override
  public void circuitStateChanged(CircuitBreaker.State from, CircuitBreaker.State to) {
    LOG.warn("LLM service circuit breaker {} -> {}", from, to);
  }

  /** Runs listener code, logging and swallowing what it throws. */
  public static void safely(Runnable listenerCall) {
    try {
      listenerCall.run();
    } catch (RuntimeException e) {
      threw(e);
    }
  }

  /** Logs what a listener threw; the caller ignores it. */
  public static void threw(RuntimeException e) {
    LOG.warn("A GatewayListener or AuditSink threw; ignored", e);
  }
}
