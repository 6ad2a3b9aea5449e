package dev.llmgateway;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The client already had {@link LlmGatewayClient.Builder#maxConcurrentRequests(int) its limit} of
 * calls in flight, and none ended within {@link LlmGatewayClient.Builder#maxQueueWait(Duration)}:
 * the call was not started and nothing was sent. Says nothing about the service's health (the
 * circuit breaker does not count it); a host usually answers 503 with a short {@code
 * Retry-After}. {@link #isRetryable()} is true: a new call may succeed once calls in flight end.
 * Immutable and thread-safe.
 */
public final class ConcurrencyLimitExceededException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  private final int limit;
  private final Duration waited;

  /**
   * Creates the exception.
   *
   * @param limit the client's limit of calls in flight
   * @param waited how long the call waited for one of them to end
   * @param requestId the request id of the refused call
   */
  public ConcurrencyLimitExceededException(int limit, Duration waited, @Nullable String requestId) {
    super("LLM call not started: " + limit + " calls were in flight (the client's maxConcurrentRequests) and "
        + "none ended within " + waited.toMillis() + " ms (request id " + requestId + ")", requestId, 0, null, true);
    this.limit = limit;
    this.waited = waited;
  }

  /**
   * Returns the client's limit of calls in flight.
   *
   * @return the limit
   */
  public int limit() {
    return limit;
  }

  /**
   * Returns how long the call waited for a call in flight to end.
   *
   * @return the wait
   */
  public Duration waited() {
    return waited;
  }
}
