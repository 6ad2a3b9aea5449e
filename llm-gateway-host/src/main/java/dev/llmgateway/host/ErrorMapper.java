package dev.llmgateway.host;

import dev.llmgateway.ApiException;
import dev.llmgateway.AuthenticationException;
import dev.llmgateway.BadRequestException;
import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallTimeoutException;
import dev.llmgateway.CircuitOpenException;
import dev.llmgateway.ConcurrencyLimitExceededException;
import dev.llmgateway.ConflictException;
import dev.llmgateway.InvalidResponseException;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.PermissionDeniedException;
import dev.llmgateway.ServerErrorException;
import dev.llmgateway.ServiceRateLimitedException;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.StreamInterruptedException;
import dev.llmgateway.TransportException;
import dev.llmgateway.ValidationException;
import dev.llmgateway.host.internal.SafeText;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * Turns any exception into the {@link ErrorResponse} a host answers with: an HTTP status, an
 * {@link Envelope} with a fixed, user-safe message, and extra headers. Immutable and thread-safe;
 * create one and share it.
 *
 * <p>Nothing internal reaches the response: no exception message or class name, stack trace,
 * service URL, upstream body or upstream message. The envelope carries the {@linkplain
 * ErrorKind#defaultMessage() kind's message}, {@code meta.request_id} (the exception's request id,
 * else the one the caller passes) and {@code meta.error_code}; {@code data} carries only values the
 * client can act on, listed below. Log the exception itself on the host side.
 *
 * <table>
 *   <caption>Exception to response</caption>
 *   <tr><th>exception</th><th>status</th><th>{@code data}, headers</th></tr>
 *   <tr><td>{@link ValidationException}</td><td>422</td>
 *       <td>a list of {@code {field, reason}}, one per violation</td></tr>
 *   <tr><td>{@link RateLimitExceededException} (the host's limiter)</td><td>429</td>
 *       <td>{@code {retry_after_seconds}}; {@code Retry-After}</td></tr>
 *   <tr><td>{@link ServiceRateLimitedException} (the service's {@code 429})</td><td>429</td>
 *       <td>as above when the service said how long; otherwise nothing</td></tr>
 *   <tr><td>{@link InsufficientCreditsException}</td><td>402</td><td>{@code {needed, available}}</td></tr>
 *   <tr><td>{@link ForbiddenException} (the host's {@link ChatPolicy} refused the user)</td><td>403</td>
 *       <td>—</td></tr>
 *   <tr><td>{@link CircuitOpenException}</td><td>503</td>
 *       <td>{@code {retry_after_seconds}}; {@code Retry-After}</td></tr>
 *   <tr><td>{@link ConcurrencyLimitExceededException} (the client's calls in flight are at their
 *       limit; nothing was sent)</td><td>503</td><td>{@code {retry_after_seconds}: 1};
 *       {@code Retry-After: 1}</td></tr>
 *   <tr><td>{@link StateStoreException} (the host's shared store, a database or Redis, failed;
 *       nothing was sent)</td><td>503</td><td>{@code {retry_after_seconds}: 1};
 *       {@code Retry-After: 1}</td></tr>
 *   <tr><td>{@link ServiceUnavailableException} with {@code 502} or {@code 503}</td>
 *       <td>503</td><td>{@code Retry-After} when the service sent one</td></tr>
 *   <tr><td>{@link ServiceUnavailableException} with {@code 504} (a proxy's timeout)</td>
 *       <td>504</td><td>—</td></tr>
 *   <tr><td>{@link TransportException} (no answer came: connection refused or reset, unknown
 *       host, TLS, a stream that ended before its first event)</td><td>503</td><td>—</td></tr>
 *   <tr><td>{@link CallTimeoutException}</td><td>504</td><td>—</td></tr>
 *   <tr><td>{@link BadRequestException} {@code 422}</td><td>422</td>
 *       <td>a list of {@code {field, reason}}: the fields the service named, reason "is invalid"
 *       (the service's own words are not passed on)</td></tr>
 *   <tr><td>{@link BadRequestException} {@code 400}</td><td>400</td><td>—</td></tr>
 *   <tr><td>{@link AuthenticationException} ({@code 401}), {@link PermissionDeniedException}
 *       ({@code 403})</td><td>502</td>
 *       <td>— : the host's own credentials or scopes failed; the end user did nothing wrong</td></tr>
 *   <tr><td>{@link NotFoundException}</td><td>404</td><td>— ({@link ChatGateway} also reports
 *       a {@code 403} for another user's session this way)</td></tr>
 *   <tr><td>{@link ConflictException}</td><td>409</td><td>{@code Retry-After} when the service sent one</td></tr>
 *   <tr><td>{@link ServerErrorException} ({@code 500}, other 5xx), any other {@link ApiException}
 *       (an unexpected status such as 405 or 413: the host built a request the service does not
 *       take)</td><td>502</td><td>—</td></tr>
 *   <tr><td>{@link StreamErrorException}</td><td>502</td>
 *       <td>{@code {code, retryable}}: the service's error code (when it is a plain code) and its
 *       word on retrying</td></tr>
 *   <tr><td>{@link StreamInterruptedException}</td><td>502</td><td>—</td></tr>
 *   <tr><td>{@link InvalidResponseException}</td><td>502</td><td>—</td></tr>
 *   <tr><td>{@link CallCancelledException}</td><td>499</td><td>—</td></tr>
 *   <tr><td>anything else, other {@link LlmGatewayException}s included</td><td>500</td><td>—</td></tr>
 * </table>
 *
 * <p>{@link CompletionException} and {@link ExecutionException} (from {@code chatAsync} futures)
 * are unwrapped first. {@code Retry-After} is whole seconds, rounded up, at least 1.
 */
public final class ErrorMapper {
  /** {@code data} key of the wait, in whole seconds, when one is known. */
  public static final String RETRY_AFTER_SECONDS = "retry_after_seconds";

  private static final ErrorMapper DEFAULTS = new Builder().build();
  private static final String UPSTREAM_FIELD_REASON = "is invalid";
  private static final int MAX_UNWRAP = 16;

  private final Map<ErrorKind, String> messages;

  private ErrorMapper(Builder b) {
    this.messages = new EnumMap<>(b.messages);
  }

  /**
   * Returns the mapper with the default English messages.
   *
   * @return the shared default mapper
   */
  public static ErrorMapper ofDefaults() {
    return DEFAULTS;
  }

  /**
   * Starts a builder holding the default messages.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the message this mapper puts in envelopes of a kind.
   *
   * @param kind the kind
   * @return the message
   */
  public String message(ErrorKind kind) {
    Objects.requireNonNull(kind, "kind");
    return Objects.requireNonNull(messages.get(kind)); // the builder holds one for every kind
  }

  /**
   * Maps an exception, with the request id it carries.
   *
   * @param error any exception
   * @return the response
   */
  public ErrorResponse toResponse(Throwable error) {
    return toResponse(error, null);
  }

  /**
   * Maps an exception.
   *
   * @param error any exception
   * @param fallbackRequestId the request id to report when the exception carries none (the host's
   *     own exceptions, or SDK exceptions thrown before an id was assigned); null for none
   * @return the response
   */
  public ErrorResponse toResponse(Throwable error, @Nullable String fallbackRequestId) {
    Throwable e = unwrap(Objects.requireNonNull(error, "error"));
    String requestId = e instanceof LlmGatewayException ? ((LlmGatewayException) e).requestId() : null;
    if (requestId == null) {
      requestId = fallbackRequestId;
    }

    if (e instanceof ValidationException) {
      List<Map<String, String>> fields = new ArrayList<>();
      for (ValidationException.Violation v : ((ValidationException) e).violations()) {
        fields.add(fieldError(v.field(), v.reason()));
      }
      return respond(ErrorKind.VALIDATION_FAILED, fields, null, requestId);
    }
    if (e instanceof RateLimitExceededException) {
      return withWait(ErrorKind.RATE_LIMITED, ((RateLimitExceededException) e).retryAfter(), requestId);
    }
    if (e instanceof ServiceRateLimitedException) {
      return withWait(ErrorKind.RATE_LIMITED, ((ServiceRateLimitedException) e).retryAfter(), requestId);
    }
    if (e instanceof InsufficientCreditsException) {
      InsufficientCreditsException credits = (InsufficientCreditsException) e;
      Map<String, Object> data = new LinkedHashMap<>();
      data.put("needed", credits.needed());
      data.put("available", credits.balance());
      return respond(ErrorKind.INSUFFICIENT_CREDITS, data, null, requestId);
    }
    if (e instanceof ForbiddenException) {
      return respond(ErrorKind.FORBIDDEN, null, null, requestId);
    }
    if (e instanceof CircuitOpenException) {
      return withWait(ErrorKind.SERVICE_UNAVAILABLE, ((CircuitOpenException) e).retryAfter(), requestId);
    }
    if (e instanceof ConcurrencyLimitExceededException) {
      return withWait(ErrorKind.SERVICE_UNAVAILABLE, Duration.ofSeconds(1), requestId);
    }
    if (e instanceof StateStoreException) {
      return withWait(ErrorKind.SERVICE_UNAVAILABLE, Duration.ofSeconds(1), requestId);
    }
    if (e instanceof ServiceUnavailableException) {
      ServiceUnavailableException unavailable = (ServiceUnavailableException) e;
      if (unavailable.status() == 504) {
        return respond(ErrorKind.TIMEOUT, null, null, requestId);
      }
      return withWait(ErrorKind.SERVICE_UNAVAILABLE, unavailable.retryAfter(), requestId);
    }
    if (e instanceof TransportException) {
      return respond(ErrorKind.SERVICE_UNAVAILABLE, null, null, requestId);
    }
    if (e instanceof CallTimeoutException) {
      return respond(ErrorKind.TIMEOUT, null, null, requestId);
    }
    if (e instanceof CallCancelledException) {
      return respond(ErrorKind.CANCELLED, null, null, requestId);
    }
    if (e instanceof StreamErrorException) {
      StreamErrorException stream = (StreamErrorException) e;
      Map<String, Object> data = new LinkedHashMap<>();
      data.put("code", SafeText.code(stream.code()));
      data.put("retryable", stream.retryable());
      return respond(ErrorKind.STREAM_FAILED, data, null, requestId);
    }
    if (e instanceof StreamInterruptedException) {
      return respond(ErrorKind.STREAM_INTERRUPTED, null, null, requestId);
    }
    if (e instanceof InvalidResponseException) {
      return respond(ErrorKind.UPSTREAM_ERROR, null, null, requestId);
    }
    if (e instanceof ApiException) {
      return upstream((ApiException) e, requestId);
    }
    return respond(ErrorKind.INTERNAL_ERROR, null, null, requestId);
  }

  @Override
  public String toString() {
    return "ErrorMapper{messages=" + messages.size() + "}";
  }

  private ErrorResponse upstream(ApiException e, @Nullable String requestId) {
    if (e instanceof BadRequestException) {
      if (e.status() != 422) {
        return respond(ErrorKind.BAD_REQUEST, null, null, requestId);
      }
      List<Map<String, String>> fields = new ArrayList<>();
      for (ApiException.FieldError fieldError : e.fieldErrors()) {
        String field = SafeText.field(fieldError.location());
        if (field != null) {
          fields.add(fieldError(field, UPSTREAM_FIELD_REASON));
        }
      }
      return respond(ErrorKind.REQUEST_REJECTED, fields, null, requestId);
    }
    if (e instanceof NotFoundException) {
      return respond(ErrorKind.NOT_FOUND, null, null, requestId);
    }
    if (e instanceof ConflictException) {
      return withWait(ErrorKind.CONFLICT, e.retryAfter(), requestId);
    }
    // 401 and 403 (the host's credentials or scopes), 5xx, and any status the contract does not name.
    return respond(ErrorKind.UPSTREAM_ERROR, null, null, requestId);
  }

  private ErrorResponse withWait(ErrorKind kind, @Nullable Duration wait, @Nullable String requestId) {
    if (wait == null) {
      return respond(kind, null, null, requestId);
    }
    long seconds = SafeText.retryAfterSeconds(wait);
    return respond(kind, Map.of(RETRY_AFTER_SECONDS, seconds), seconds, requestId);
  }

  private ErrorResponse respond(
      ErrorKind kind, @Nullable Object data, @Nullable Long retryAfterSeconds, @Nullable String requestId) {
    Map<String, Object> meta = new LinkedHashMap<>();
    if (requestId != null) {
      meta.put(Envelope.META_REQUEST_ID, requestId);
    }
    meta.put(Envelope.META_ERROR_CODE, kind.code());
    Map<String, String> headers =
        retryAfterSeconds == null ? Map.of() : Map.of(ErrorResponse.RETRY_AFTER, Long.toString(retryAfterSeconds));
    return new ErrorResponse(kind, kind.status(), Envelope.error(message(kind), data, meta), headers);
  }

  private static Map<String, String> fieldError(String field, String reason) {
    Map<String, String> entry = new LinkedHashMap<>();
    entry.put("field", field);
    entry.put("reason", reason);
    return entry;
  }

  private static Throwable unwrap(Throwable error) {
    Throwable e = error;
    for (int i = 0; i < MAX_UNWRAP
        && (e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null; i++) {
      e = e.getCause();
    }
    return e;
  }

  /** Builds an {@link ErrorMapper}. Not thread-safe. */
  public static final class Builder {
    private final Map<ErrorKind, String> messages = new EnumMap<>(ErrorKind.class);

    private Builder() {
      for (ErrorKind kind : ErrorKind.values()) {
        messages.put(kind, kind.defaultMessage());
      }
    }

    /**
     * Replaces the message of one kind, e.g. to translate it. The text is sent to end users as
     * it is: keep it free of internal detail.
     *
     * @param kind the kind
     * @param message the new message, not blank
     * @return this builder
     * @throws IllegalArgumentException if {@code message} is blank
     */
    public Builder message(ErrorKind kind, String message) {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(message, "message");
      if (message.isBlank()) {
        throw new IllegalArgumentException("message for " + kind + " is blank");
      }
      messages.put(kind, message);
      return this;
    }

    /**
     * Builds the mapper.
     *
     * @return the mapper
     */
    public ErrorMapper build() {
      return new ErrorMapper(this);
    }
  }
}
