package dev.llmgateway;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The service, or a proxy in front of it, answered that it is unavailable: {@code 502}, {@code 503}
 * or {@code 504}, after the retries the policy allowed. {@link #status()} is always one of these
 * three; {@link #retryAfter()} holds the service's {@code Retry-After} when it sent one. Retried by
 * the default policy and usually safe to try again later.
 *
 * <p>When no answer came at all (the connection was refused or reset, the host unknown, TLS
 * failed), the client throws {@link TransportException} instead; a caller that handles "the
 * service is unavailable" catches both. Immutable and thread-safe.
 */
public final class ServiceUnavailableException extends ApiException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception; see {@link ApiException#ApiException} for the parameters.
   *
   * @param message a summary naming the operation and status
   * @param status the HTTP status: 502, 503 or 504
   * @param detail FastAPI's {@code detail} text, or null
   * @param fieldErrors the entries of a {@code 422} {@code detail} list
   * @param body the raw body
   * @param retryAfter the {@code Retry-After} the service sent, or null
   * @param headers the response headers
   * @param requestId the request id of the call
   * @param attempts attempts made
   * @param retryable whether the retry policy retries this status
   * @throws IllegalArgumentException if {@code status} is not 502, 503 or 504
   */
  public ServiceUnavailableException(
      String message,
      int status,
      @Nullable String detail,
      List<FieldError> fieldErrors,
      String body,
      @Nullable Duration retryAfter,
      Map<String, List<String>> headers,
      @Nullable String requestId,
      int attempts,
      boolean retryable) {
    super(message, checkStatus(status), detail, fieldErrors, body, retryAfter, headers, requestId, attempts, retryable);
  }

  private static int checkStatus(int status) {
    if (status < 502 || status > 504) {
      throw new IllegalArgumentException("ServiceUnavailableException status must be 502, 503 or 504: " + status);
    }
    return status;
  }
}
