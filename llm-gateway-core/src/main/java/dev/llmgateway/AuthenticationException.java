package dev.llmgateway;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The service refused the credentials ({@code 401}): a wrong service token, an expired or
 * badly signed JWT, or a reused stream token. Not retried by the default policy.
 */
public final class AuthenticationException extends ApiException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception; see {@link ApiException#ApiException} for the parameters.
   *
   * @param message a summary naming the operation and status
   * @param status the HTTP status
   * @param detail FastAPI's {@code detail} text, or null
   * @param fieldErrors the entries of a {@code 422} {@code detail} list
   * @param body the raw body
   * @param retryAfter the {@code Retry-After} the service sent, or null
   * @param headers the response headers
   * @param requestId the request id of the call
   * @param attempts attempts made
   * @param retryable whether the retry policy retries this status
   */
  public AuthenticationException(
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
    super(message, status, detail, fieldErrors, body, retryAfter, headers, requestId, attempts, retryable);
  }
}
