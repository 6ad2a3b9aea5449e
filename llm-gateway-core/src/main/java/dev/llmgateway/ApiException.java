package dev.llmgateway;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The service answered with an error status. Carries the {@linkplain #status() status}, FastAPI's
 * {@code detail} (a {@linkplain #detail() text}, or for {@code 422} a list of {@linkplain
 * #fieldErrors() field errors}) and a bounded copy of the raw {@linkplain #body() body}, which may
 * be HTML or empty when a proxy answered.
 *
 * <p>Subclasses name the statuses a caller acts on: {@link BadRequestException} (400, 422), {@link
 * AuthenticationException} (401), {@link PermissionDeniedException} (403), {@link
 * NotFoundException} (404), {@link ConflictException} (409), {@link RateLimitedException} (429)
 * and {@link ServerErrorException} (500 and other 5xx). {@code 502}, {@code 503} and {@code 504}
 * become {@link ServiceUnavailableException} instead.
 */
public class ApiException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  /** At most this many characters of an error body are kept. */
  public static final int MAX_BODY_CHARS = 4096;

  private final int status;
  private final @Nullable String detail;
  @SuppressWarnings("serial") // List.copyOf of serializable records: serializable
  private final List<FieldError> fieldErrors;
  private final String body;
  private final @Nullable Duration retryAfter;

  /**
   * Creates the exception.
   *
   * @param message a summary naming the operation and status
   * @param status the HTTP status
   * @param detail FastAPI's {@code detail} text, or null when the body had none
   * @param fieldErrors the entries of a {@code 422} {@code detail} list; empty otherwise
   * @param body the raw body, truncated to {@link #MAX_BODY_CHARS}
   * @param retryAfter the {@code Retry-After} the service sent, or null
   * @param requestId the request id of the call
   * @param attempts attempts made
   */
  public ApiException(
      String message,
      int status,
      @Nullable String detail,
      List<FieldError> fieldErrors,
      String body,
      @Nullable Duration retryAfter,
      @Nullable String requestId,
      int attempts) {
    super(message, requestId, attempts, null);
    this.status = status;
    this.detail = detail;
    this.fieldErrors = List.copyOf(fieldErrors);
    this.body = body.length() > MAX_BODY_CHARS ? body.substring(0, MAX_BODY_CHARS) : body;
    this.retryAfter = retryAfter;
  }

  /**
   * Returns the HTTP status.
   *
   * @return the status code
   */
  public int status() {
    return status;
  }

  /**
   * Returns FastAPI's {@code detail}: its text, or for a list the field errors joined.
   *
   * @return the detail, or null when the body carried none (HTML, empty, other JSON)
   */
  public @Nullable String detail() {
    return detail;
  }

  /**
   * Returns the field errors of a FastAPI {@code 422} answer.
   *
   * @return an immutable list, empty when the body was not such a list
   */
  public List<FieldError> fieldErrors() {
    return fieldErrors;
  }

  /**
   * Returns the raw body, at most {@link #MAX_BODY_CHARS} characters.
   *
   * @return the body text; empty when there was none
   */
  public String body() {
    return body;
  }

  /**
   * Returns how long the service asked the caller to wait before trying again.
   *
   * @return the parsed {@code Retry-After} header, or null when absent or unreadable
   */
  public @Nullable Duration retryAfter() {
    return retryAfter;
  }

  /**
   * One entry of a FastAPI validation error list.
   *
   * @param location the {@code loc} path, e.g. {@code ["body", "query"]}
   * @param message the {@code msg}
   * @param type the {@code type}, or an empty string
   */
  public record FieldError(List<String> location, String message, String type) implements Serializable {
    /**
     * Creates a field error.
     *
     * @param location the {@code loc} path
     * @param message the {@code msg}
     * @param type the {@code type}
     */
    public FieldError {
      location = List.copyOf(location);
    }

    @Override
    public String toString() {
      return String.join(".", location) + ": " + message;
    }
  }
}
