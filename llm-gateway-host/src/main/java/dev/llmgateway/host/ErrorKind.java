package dev.llmgateway.host;

/**
 * The kinds of failure a host reports, each with its HTTP status, a machine-readable {@linkplain
 * #code() code} (sent as {@code meta.error_code}) and a fixed, user-safe default message. See
 * {@link ErrorMapper} for which exception becomes which kind. Immutable and thread-safe.
 */
public enum ErrorKind {
  /** The SDK refused the input before sending: {@code 422}, {@code data} lists each field. */
  VALIDATION_FAILED(422, "validation_failed", "The request is invalid."),
  /** The service refused the request as malformed ({@code 400}). */
  BAD_REQUEST(400, "bad_request", "The request could not be processed."),
  /** The service refused the request as invalid ({@code 422}). */
  REQUEST_REJECTED(422, "request_rejected", "The request was rejected as invalid."),
  /** The user's credits do not cover the call: {@code 402}. */
  INSUFFICIENT_CREDITS(402, "insufficient_credits", "You do not have enough credits for this request."),
  /** The host's {@link ChatPolicy} does not allow the user this request: {@code 403}. */
  FORBIDDEN(403, "forbidden", "You are not allowed to use the assistant for this request."),
  /** The session is unknown: {@code 404}. */
  NOT_FOUND(404, "not_found", "The conversation was not found."),
  /** The session is busy with another message: {@code 409}. */
  CONFLICT(409, "conflict", "The conversation is busy with another message. Please try again shortly."),
  /** The host's limiter or the service refused for rate: {@code 429}. */
  RATE_LIMITED(429, "rate_limited", "Too many requests. Please wait before trying again."),
  /** The caller went away or cancelled: {@code 499} (client closed request). */
  CANCELLED(499, "cancelled", "The request was cancelled."),
  /** A bug in the host or the SDK, or an exception nobody mapped: {@code 500}. */
  INTERNAL_ERROR(500, "internal_error", "Something went wrong. Please try again later."),
  /**
   * The service failed in a way the user cannot fix (it refused the host's credentials, answered
   * an unexpected status or an unusable body): {@code 502}.
   */
  UPSTREAM_ERROR(502, "upstream_error", "The assistant could not complete the request. Please try again later."),
  /** The service ended a stream with an {@code error} event: {@code 502}, with the service's code. */
  STREAM_FAILED(502, "stream_failed", "The answer could not be completed. Please try again."),
  /** The stream from the service was cut off: {@code 502}. */
  STREAM_INTERRUPTED(502, "stream_interrupted", "The answer was cut off. Please try again."),
  /** The service is unreachable, overloaded, or the circuit breaker is open: {@code 503}. */
  SERVICE_UNAVAILABLE(503, "service_unavailable", "The assistant is temporarily unavailable. Please try again later."),
  /** The service did not answer in time: {@code 504}. */
  TIMEOUT(504, "timeout", "The assistant took too long to respond. Please try again.");

  private final int status;
  private final String code;
  private final String defaultMessage;

  ErrorKind(int status, String code, String defaultMessage) {
    this.status = status;
    this.code = code;
    this.defaultMessage = defaultMessage;
  }

  /**
   * Returns the HTTP status the host answers with.
   *
   * @return the status code
   */
  public int status() {
    return status;
  }

  /**
   * Returns the machine-readable code, stable across versions.
   *
   * @return e.g. {@code rate_limited}
   */
  public String code() {
    return code;
  }

  /**
   * Returns the message used unless the {@link ErrorMapper} was given another.
   *
   * @return a short, user-safe English sentence
   */
  public String defaultMessage() {
    return defaultMessage;
  }
}
