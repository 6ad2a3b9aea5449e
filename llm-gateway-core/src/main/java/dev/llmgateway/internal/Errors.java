package dev.llmgateway.internal;

import dev.llmgateway.ApiException;
import dev.llmgateway.AuthenticationException;
import dev.llmgateway.BadRequestException;
import dev.llmgateway.ConflictException;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.PermissionDeniedException;
import dev.llmgateway.RateLimitedException;
import dev.llmgateway.ServerErrorException;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.TimeoutException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** Maps HTTP statuses and I/O failures to the SDK's exceptions. */
public final class Errors {
  private static final int DETAIL_IN_MESSAGE = 200;

  private Errors() {}

  /** The exception for a non-2xx answer. */
  public static LlmGatewayException fromStatus(
      String operation, int status, String body, @Nullable Duration retryAfter, String requestId, int attempts) {
    Json.ErrorBody error = Json.errorBody(body);
    String message = operation + " failed with HTTP " + status
        + (error.detail() == null ? "" : ": " + Text.preview(error.detail(), DETAIL_IN_MESSAGE))
        + " (request id " + requestId + ", " + attempts + (attempts == 1 ? " attempt)" : " attempts)");
    switch (status) {
      case 400:
      case 422:
        return new BadRequestException(message, status, error.detail(), error.fieldErrors(), body, retryAfter, requestId, attempts);
      case 401:
        return new AuthenticationException(message, status, error.detail(), error.fieldErrors(), body, retryAfter, requestId, attempts);
      case 403:
        return new PermissionDeniedException(message, status, error.detail(), error.fieldErrors(), body, retryAfter, requestId, attempts);
      case 404:
        return new NotFoundException(message, status, error.detail(), error.fieldErrors(), body, retryAfter, requestId, attempts);
      case 409:
        return new ConflictException(message, status, error.detail(), error.fieldErrors(), body, retryAfter, requestId, attempts);
      case 429:
        return new RateLimitedException(message, status, error.detail(), error.fieldErrors(), body, retryAfter, requestId, attempts);
      case 502:
      case 503:
      case 504:
        ApiException cause =
            new ServerErrorException(message, status, error.detail(), error.fieldErrors(), body, retryAfter, requestId, attempts);
        return new ServiceUnavailableException(
            operation + " failed: the LLM service is unavailable (HTTP " + status + ", request id " + requestId
                + ", " + attempts + (attempts == 1 ? " attempt)" : " attempts)"),
            status, retryAfter, requestId, attempts, cause);
      default:
        if (status >= 500) {
          return new ServerErrorException(message, status, error.detail(), error.fieldErrors(), body, retryAfter, requestId, attempts);
        }
        return new ApiException(message, status, error.detail(), error.fieldErrors(), body, retryAfter, requestId, attempts);
    }
  }

  /**
   * The exception for an I/O failure of an attempt that was not cancelled.
   *
   * @param cutByDeadline whether the attempt's timeout had been shortened to the retry deadline
   */
  public static LlmGatewayException fromIo(
      String operation, IOException e, boolean cutByDeadline, String requestId, int attempts) {
    String suffix = " (request id " + requestId + ", " + attempts + (attempts == 1 ? " attempt)" : " attempts)");
    if (e instanceof InterruptedIOException) {
      String text = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      if (text.contains("connect")) {
        return new TimeoutException(
            TimeoutException.Limit.CONNECT, operation + " timed out connecting to the LLM service" + suffix,
            requestId, attempts, e);
      }
      TimeoutException.Limit limit = cutByDeadline ? TimeoutException.Limit.DEADLINE : TimeoutException.Limit.CALL;
      return new TimeoutException(
          limit,
          operation + (cutByDeadline ? " ran past the retry deadline" : " timed out waiting for the LLM service") + suffix,
          requestId, attempts, e);
    }
    if (e instanceof ConnectException || e instanceof UnknownHostException || e instanceof NoRouteToHostException) {
      return new ServiceUnavailableException(
          operation + " could not connect to the LLM service (" + e.getClass().getSimpleName() + ")" + suffix,
          0, null, requestId, attempts, e);
    }
    return new ServiceUnavailableException(
        operation + " failed on the network (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")" + suffix,
        0, null, requestId, attempts, e);
  }

  /** True when the failure happened before the request could reach the service. */
  public static boolean surelyNotSent(IOException e) {
    return e instanceof ConnectException || e instanceof UnknownHostException || e instanceof NoRouteToHostException;
  }

  /** Parses {@code Retry-After}: delta seconds or an HTTP date; null when absent or unreadable. */
  public static @Nullable Duration retryAfter(@Nullable String header, Clock clock) {
    if (header == null) {
      return null;
    }
    String value = header.strip();
    if (value.isEmpty()) {
      return null;
    }
    if (value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      try {
        return Duration.ofSeconds(Long.parseLong(value));
      } catch (NumberFormatException tooLarge) {
        return Duration.ofSeconds(Long.MAX_VALUE / 1_000_000_000L);
      }
    }
    try {
      ZonedDateTime when = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME);
      Duration delta = Duration.between(clock.instant(), when.toInstant());
      return delta.isNegative() ? Duration.ZERO : delta;
    } catch (DateTimeParseException unreadable) {
      return null;
    }
  }
}
