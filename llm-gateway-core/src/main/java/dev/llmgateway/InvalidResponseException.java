package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * The service answered with a success status but a body the SDK cannot use: not JSON, the wrong
 * shape, a required field missing, or larger than the configured limit. Not retried: the same
 * request would most likely get the same answer ({@link #isRetryable()} is false). Immutable and
 * thread-safe.
 */
public final class InvalidResponseException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  private final int status;

  /**
   * Creates the exception.
   *
   * @param message what was wrong with the response
   * @param status the HTTP status of the response
   * @param requestId the request id of the call
   * @param attempts attempts made
   * @param cause the parse failure, or null
   */
  public InvalidResponseException(
      String message, int status, @Nullable String requestId, int attempts, @Nullable Throwable cause) {
    super(message, requestId, attempts, cause);
    this.status = status;
  }

  /**
   * Returns the HTTP status of the unusable response.
   *
   * @return the status code
   */
  public int status() {
    return status;
  }
}
