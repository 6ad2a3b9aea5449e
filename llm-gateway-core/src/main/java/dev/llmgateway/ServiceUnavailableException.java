package dev.llmgateway;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The service could not be reached or said it is unavailable: a connection failure (refused, reset,
 * unknown host) or a {@code 502}, {@code 503} or {@code 504} answer, after the retries the policy
 * allowed. Safe to try again later.
 */
public final class ServiceUnavailableException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final @Nullable Duration retryAfter;

  /**
   * Creates the exception.
   *
   * @param message what failed
   * @param status the HTTP status, or 0 when no response was received
   * @param retryAfter the service's {@code Retry-After}, or null
   * @param requestId the request id of the call
   * @param attempts attempts made
   * @param cause the underlying I/O exception or {@link ApiException}, or null
   */
  public ServiceUnavailableException(
      String message,
      int status,
      @Nullable Duration retryAfter,
      @Nullable String requestId,
      int attempts,
      @Nullable Throwable cause) {
    super(message, requestId, attempts, cause);
    this.status = status;
    this.retryAfter = retryAfter;
  }

  /**
   * Returns the HTTP status the service (or a proxy in front of it) answered with.
   *
   * @return 502, 503 or 504; or 0 when the connection failed before any response
   */
  public int status() {
    return status;
  }

  /**
   * Returns how long the service asked the caller to wait, if it said.
   *
   * @return the {@code Retry-After} duration, or null
   */
  public @Nullable Duration retryAfter() {
    return retryAfter;
  }
}
