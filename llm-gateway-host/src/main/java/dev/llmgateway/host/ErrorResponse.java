package dev.llmgateway.host;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a host answers for a failed call: status, body and extra headers, as made by {@link
 * ErrorMapper}. Immutable and thread-safe.
 *
 * <pre>{@code
 * ErrorResponse error = errors.toResponse(e);
 * response.status(error.status());
 * error.headers().forEach(response::header);
 * response.contentType("application/json").body(error.toJson());
 * }</pre>
 *
 * @param kind what kind of failure it was
 * @param status the HTTP status to answer with
 * @param envelope the body
 * @param headers extra headers, such as {@code Retry-After}; keep their order
 */
public record ErrorResponse(ErrorKind kind, int status, Envelope envelope, Map<String, String> headers) {
  /** The header telling a client how many seconds to wait. */
  public static final String RETRY_AFTER = "Retry-After";

  /**
   * Checks the values and copies the headers.
   *
   * @param kind the kind
   * @param status the status
   * @param envelope the body
   * @param headers the extra headers
   * @throws IllegalArgumentException if {@code status} is not between 100 and 599
   */
  public ErrorResponse {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(envelope, "envelope");
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status out of range: " + status);
    }
    headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
  }

  /**
   * Writes the body as JSON; see {@link Envelope#toJson()}.
   *
   * @return the JSON text
   * @throws IllegalArgumentException if the envelope's data cannot be written as JSON
   */
  public String toJson() {
    return envelope.toJson();
  }
}
