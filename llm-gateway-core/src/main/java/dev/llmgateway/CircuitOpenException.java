package dev.llmgateway;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The circuit breaker is open: the service failed repeatedly, so calls fail fast without touching
 * the network until the breaker lets a probe through. {@link #isRetryable()} is true: a new call
 * may succeed after {@link #retryAfter()}. Immutable and thread-safe.
 */
public final class CircuitOpenException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  private final Duration retryAfter;

  /**
   * Creates the exception.
   *
   * @param retryAfter how long until the breaker lets a probe through
   * @param requestId the request id of the refused call
   * @param attempts attempts made before the breaker refused
   * @param lastFailure the failure that preceded the refusal within this call, or null
   */
  public CircuitOpenException(
      Duration retryAfter, @Nullable String requestId, int attempts, @Nullable Throwable lastFailure) {
    super(
        "Circuit breaker is open after repeated failures of the LLM service; next probe in "
            + Math.max(0, retryAfter.toMillis()) + " ms",
        requestId,
        attempts,
        lastFailure,
        true);
    this.retryAfter = retryAfter;
  }

  /**
   * Returns how long until the breaker lets a probe call through.
   *
   * @return a non-negative duration
   */
  public Duration retryAfter() {
    return retryAfter;
  }
}
