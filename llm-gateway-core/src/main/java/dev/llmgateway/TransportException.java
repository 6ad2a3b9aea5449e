package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * No answer came from the service: the connection was refused or reset, the host name did not
 * resolve, TLS failed, the connection broke before a response arrived, or a stream ended before
 * its first event. The {@linkplain #getCause() cause} is the underlying {@link java.io.IOException}
 * (null for a stream that ended cleanly before its first event). There is no status: when the
 * service or a proxy answered with one, the client throws {@link ApiException} (for {@code 502},
 * {@code 503} and {@code 504}, {@link ServiceUnavailableException}) instead.
 *
 * <p>A time limit that fires is a {@link CallTimeoutException}, and a stream cut off after its
 * first event a {@link StreamInterruptedException}, not this. {@link #isRetryable()} is the retry
 * policy's {@link RetryPolicy#retryOnNetworkFailure() retryOnNetworkFailure()}. Immutable and
 * thread-safe.
 */
public final class TransportException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what failed, without secrets
   * @param requestId the request id of the call
   * @param attempts attempts made
   * @param cause the I/O failure, or null
   * @param retryable whether the retry policy retries network failures
   */
  public TransportException(
      String message, @Nullable String requestId, int attempts, @Nullable Throwable cause, boolean retryable) {
    super(message, requestId, attempts, cause, retryable);
  }
}
