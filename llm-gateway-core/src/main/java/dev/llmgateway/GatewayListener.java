package dev.llmgateway;

import dev.llmgateway.internal.LoggingListener;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Observes calls: their start and end, each HTTP attempt, scheduled retries and circuit breaker
 * changes. Every method has an empty default, so implement only what you need. The client's
 * default is {@link #logging()}; to keep logs while adding metrics, use {@link
 * #composite(GatewayListener...)}.
 *
 * <p>Methods run synchronously on the thread doing the work (the caller's thread for blocking calls,
 * an OkHttp dispatcher thread for asynchronous ones), with the request id in the SLF4J MDC. They
 * must be fast and must not block; an exception thrown by a listener is logged and ignored.
 * Implementations must be thread-safe.
 */
public interface GatewayListener {
  /**
   * A logical call passed validation and is about to make its first attempt.
   *
   * @param call the call
   */
  default void callStart(CallInfo call) {}

  /**
   * An HTTP attempt starts.
   *
   * @param call the call
   * @param attempt the attempt number, from 1
   */
  default void attemptStart(CallInfo call, int attempt) {}

  /**
   * An HTTP attempt ended.
   *
   * @param call the call
   * @param attempt the attempt number, from 1
   * @param status the HTTP status, or 0 when no response arrived
   * @param latency time from the attempt's start to its end
   * @param failure why the attempt failed, or null when it succeeded
   */
  default void attemptEnd(
      CallInfo call, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {}

  /**
   * A failed attempt will be retried.
   *
   * @param call the call
   * @param nextAttempt the number of the coming attempt
   * @param delay the wait before it
   * @param failure the failure that caused the retry
   */
  default void retryScheduled(CallInfo call, int nextAttempt, Duration delay, LlmGatewayException failure) {}

  /**
   * A logical call ended, successfully or not. Called exactly once per {@link #callStart}.
   *
   * @param call the call
   * @param latency time from the call's start
   * @param failure the exception the caller receives, or null on success
   */
  default void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {}

  /**
   * The circuit breaker changed state.
   *
   * @param from the old state
   * @param to the new state
   */
  default void circuitStateChanged(CircuitBreaker.State from, CircuitBreaker.State to) {}

  /**
   * Returns the default listener: logs to SLF4J logger {@code dev.llmgateway.LlmGatewayClient},
   * DEBUG per attempt, WARN per retry and per breaker change, never a secret and the query only as
   * a 50-character preview.
   *
   * @return the logging listener
   */
  static GatewayListener logging() {
    return LoggingListener.INSTANCE;
  }

  /**
   * Returns a listener that does nothing.
   *
   * @return the no-op listener
   */
  static GatewayListener none() {
    return new GatewayListener() {};
  }

  /**
   * Returns a listener that forwards every event to each of {@code listeners} in order; one that
   * throws does not keep the others from being called.
   *
   * @param listeners the listeners
   * @return the composite
   */
  static GatewayListener composite(GatewayListener... listeners) {
    List<GatewayListener> all = List.of(listeners);
    return new GatewayListener() {
      @Override
      public void callStart(CallInfo call) {
        all.forEach(l -> LoggingListener.safely(() -> l.callStart(call)));
      }

      @Override
      public void attemptStart(CallInfo call, int attempt) {
        all.forEach(l -> LoggingListener.safely(() -> l.attemptStart(call, attempt)));
      }

      @Override
      public void attemptEnd(
          CallInfo call, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {
        all.forEach(l -> LoggingListener.safely(() -> l.attemptEnd(call, attempt, status, latency, failure)));
      }

      @Override
      public void retryScheduled(CallInfo call, int nextAttempt, Duration delay, LlmGatewayException failure) {
        all.forEach(l -> LoggingListener.safely(() -> l.retryScheduled(call, nextAttempt, delay, failure)));
      }

      @Override
      public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
        all.forEach(l -> LoggingListener.safely(() -> l.callEnd(call, latency, failure)));
      }

      @Override
      public void circuitStateChanged(CircuitBreaker.State from, CircuitBreaker.State to) {
        all.forEach(l -> LoggingListener.safely(() -> l.circuitStateChanged(from, to)));
      }
    };
  }
}
