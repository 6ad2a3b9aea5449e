package dev.llmgateway;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The service (or a proxy in front of it) answered with an error status. Carries the {@linkplain
 * #status() status}, the response {@linkplain #headers() headers}, FastAPI's {@code detail} (a
 * {@linkplain #detail() text}, or for {@code 422} a list of {@linkplain #fieldErrors() field
 * errors}) and a bounded copy of the raw {@linkplain #body() body}, which may be HTML or empty when
 * a proxy answered. When no answer came at all, the client throws {@link TransportException}
 * instead.
 *
 * <p>Subclasses name the statuses a caller acts on: {@link BadRequestException} (400, 422), {@link
 * AuthenticationException} (401), {@link PermissionDeniedException} (403), {@link
 * NotFoundException} (404), {@link ConflictException} (409), {@link ServiceRateLimitedException}
 * (429), {@link ServiceUnavailableException} (502, 503, 504) and {@link ServerErrorException} (500
 * and other 5xx). {@link #isRetryable()} is true when the status is one of the retry policy's
 * {@link RetryPolicy#retryableStatuses() retryableStatuses}. Immutable and thread-safe.
 */
public class ApiException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  /** At most this many characters of an error body are kept. */
  public static final int MAX_BODY_CHARS = 4096;
  /** At most this many header values are kept; later ones are dropped. */
  public static final int MAX_HEADERS = 64;
  /** At most this many characters of a header value are kept. */
  public static final int MAX_HEADER_VALUE_CHARS = 1024;

  /** Headers that carry a credential; never kept, whoever sent them. */
  private static final Set<String> CREDENTIAL_HEADERS =
      Set.of("authorization", "proxy-authorization", "x-service-token", "cookie", "set-cookie");

  private final int status;
  private final @Nullable String detail;
  @SuppressWarnings("serial") // List.copyOf of serializable records: serializable
  private final List<FieldError> fieldErrors;
  private final String body;
  private final @Nullable Duration retryAfter;
  @SuppressWarnings("serial") // Map.copyOf of List.copyOf of strings: serializable
  private final Map<String, List<String>> headers;

  /**
   * Creates the exception.
   *
   * @param message a summary naming the operation and status
   * @param status the HTTP status
   * @param detail FastAPI's {@code detail} text, or null when the body had none
   * @param fieldErrors the entries of a {@code 422} {@code detail} list; empty otherwise
   * @param body the raw body, truncated to {@link #MAX_BODY_CHARS}
   * @param retryAfter the {@code Retry-After} the service sent, or null
   * @param headers the response headers; copied as {@link #headers()} describes
   * @param requestId the request id of the call
   * @param attempts attempts made
   * @param retryable whether the retry policy retries this status; see {@link #isRetryable()}
   */
  public ApiException(
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
    super(message, requestId, attempts, null, retryable);
    this.status = status;
    this.detail = detail;
    this.fieldErrors = List.copyOf(fieldErrors);
    this.body = body.length() > MAX_BODY_CHARS ? body.substring(0, MAX_BODY_CHARS) : body;
    this.retryAfter = retryAfter;
    this.headers = copyHeaders(headers);
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
   * Returns the headers of the error response: names in lower case, values in the order received.
   * A bounded copy: at most {@link #MAX_HEADERS} values, each cut to {@link
   * #MAX_HEADER_VALUE_CHARS} characters. Headers that carry a credential ({@code Authorization},
   * {@code Proxy-Authorization}, {@code X-Service-Token}, {@code Cookie}, {@code Set-Cookie}) are
   * never kept, and the client also drops any header whose value repeats a credential of the
   * request; so nothing here echoes the request's own credentials.
   *
   * @return an immutable map from lower-case name to its values; empty when none were kept
   */
  public Map<String, List<String>> headers() {
    return headers;
  }

  /**
   * Returns the first value of one response header.
   *
   * @param name the header name, in any case
   * @return the first value kept in {@link #headers()}, or null when there is none
   */
  public @Nullable String header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null ? null : values.get(0);
  }

  private static Map<String, List<String>> copyHeaders(Map<String, List<String>> headers) {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    int kept = 0;
    for (Map.Entry<String, List<String>> header : headers.entrySet()) {
      String name = Objects.requireNonNull(header.getKey(), "header name").toLowerCase(Locale.ROOT);
      if (CREDENTIAL_HEADERS.contains(name)) {
        continue;
      }
      for (String value : header.getValue()) {
        if (kept == MAX_HEADERS) {
          break;
        }
        Objects.requireNonNull(value, "header value");
        copy.computeIfAbsent(name, n -> new ArrayList<>())
            .add(value.length() > MAX_HEADER_VALUE_CHARS ? value.substring(0, MAX_HEADER_VALUE_CHARS) : value);
        kept++;
      }
    }
    copy.replaceAll((name, values) -> List.copyOf(values));
    return Collections.unmodifiableMap(copy);
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
