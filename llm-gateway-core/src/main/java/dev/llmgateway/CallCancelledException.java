package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * The caller cancelled the call (for example by cancelling the future of {@link
 * LlmGatewayClient#chatAsync}); the HTTP call was cancelled with it. Reported to listeners and the
 * audit sink as a cancellation, never as a service failure, and never counted by the circuit
 * breaker. {@link #isRetryable()} is false: the caller gave up. Immutable and thread-safe.
 */
public final class CallCancelledException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param requestId the request id of the call
   * @param attempts attempts made
   * @param cause the underlying failure, or null
   */
  public CallCancelledException(@Nullable String requestId, int attempts, @Nullable Throwable cause) {
    super("Call cancelled by the caller", requestId, attempts, cause);
  }
}
