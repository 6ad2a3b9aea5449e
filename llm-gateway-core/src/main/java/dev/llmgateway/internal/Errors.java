package dev.llmgateway.internal;

import dev.llmgateway.ApiException;
import dev.llmgateway.AuthenticationException;
import dev.llmgateway.BadRequestException;
import dev.llmgateway.CallTimeoutException;
import dev.llmgateway.ConflictException;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.PermissionDeniedException;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServerErrorException;
import dev.llmgateway.ServiceRateLimitedException;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.TransportException;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Maps HTTP statuses and I/O failures to the SDK's exceptions. Each exception's {@link
 * LlmGatewayException#isRetryable()} is decided here from the retry policy in effect, and {@link
 * LogicalCall#retryDelay} retries exactly the failures so marked.
 */
public final class Errors {
  private static final int DETAIL_IN_MESSAGE = 200;
  /** Request headers whose values are credentials: no response header may repeat them. */
  private static final List<String> CREDENTIAL_HEADERS =
      List.of("Authorization", "Proxy-Authorization", "X-Service-Token", "Cookie");
  /** The query parameter of a direct stream URL that carries the stream token. */
  private static final String TOKEN_PARAMETER = "token";

  private Errors() {}

  /** The exception for a non-2xx answer. */
  public static ApiException fromStatus(
      String operation, int status, String body, @Nullable Duration retryAfter, Map<String, List<String>> headers,
      String requestId, int attempts, RetryPolicy policy) {
    Json.ErrorBody error = Json.errorBody(body);
    String message = operation + " failed with HTTP " + status
        + (error.detail() == null ? "" : ": " + Text.preview(error.detail(), DETAIL_IN_MESSAGE))
        + " (request id " + requestId + ", " + attempts + (attempts == 1 ? " attempt)" : " attempts)");
    String detail = error.detail();
    List<ApiException.FieldError> fields = error.fieldErrors();
    boolean retryable = policy.isRetryableStatus(status);
    switch (status) {
      case 400:
      case 422:
        return new BadRequestException(
            message, status, detail, fields, body, retryAfter, headers, requestId, attempts, retryable);
      case 401:
        return new AuthenticationException(
            message, status, detail, fields, body, retryAfter, headers, requestId, attempts, retryable);
      case 403:
        return new PermissionDeniedException(
            message, status, detail, fields, body, retryAfter, headers, requestId, attempts, retryable);
      case 404:
        return new NotFoundException(
            message, status, detail, fields, body, retryAfter, headers, requestId, attempts, retryable);
      case 409:
        return new ConflictException(
            message, status, detail, fields, body, retryAfter, headers, requestId, attempts, retryable);
      case 429:
        return new ServiceRateLimitedException(
            message, status, detail, fields, body, retryAfter, headers, requestId, attempts, retryable);
      case 502:
      case 503:
      case 504:
        return new ServiceUnavailableException(
            message, status, detail, fields, body, retryAfter, headers, requestId, attempts, retryable);
      default:
        if (status >= 500) {
          return new ServerErrorException(
              message, status, detail, fields, body, retryAfter, headers, requestId, attempts, retryable);
        }
        return new ApiException(message, status, detail, fields, body, retryAfter, headers, requestId, attempts, retryable);
    }
  }

  /**
   * The headers of an error response, without any header whose value repeats a credential the
   * request carried (a proxy or debug endpoint may echo them). {@link ApiException} bounds the copy
   * and drops the credential headers by name.
   */
  public static Map<String, List<String>> headersOf(Response response) {
    List<String> secrets = credentialsOf(response.request());
    Headers headers = response.headers();
    Map<String, List<String>> kept = new LinkedHashMap<>();
    for (int i = 0, n = headers.size(); i < n && i < ApiException.MAX_HEADERS; i++) {
      String value = headers.value(i);
      if (!repeatsAny(value, secrets)) {
        kept.computeIfAbsent(headers.name(i), name -> new ArrayList<>()).add(value);
      }
    }
    return kept;
  }

  private static List<String> credentialsOf(Request request) {
    List<String> secrets = new ArrayList<>();
    for (String name : CREDENTIAL_HEADERS) {
      for (String value : request.headers(name)) {
        secrets.add(value);
        int space = value.indexOf(' ');
        if (space > 0) {
          secrets.add(value.substring(space + 1).strip()); // the credential after a scheme such as Bearer
        }
      }
    }
    HttpUrl url = request.url();
    secrets.addAll(url.queryParameterValues(TOKEN_PARAMETER).stream().filter(v -> v != null).toList());
    secrets.removeIf(String::isEmpty);
    return secrets;
  }

  private static boolean repeatsAny(String value, List<String> secrets) {
    for (String secret : secrets) {
      if (value.contains(secret)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The exception for an I/O failure of an attempt that was not cancelled: a {@link
   * CallTimeoutException} when a time limit fired, else a {@link TransportException}.
   *
   * @param cutByDeadline whether the attempt's timeout had been shortened to the retry deadline
   */
  public static LlmGatewayException fromIo(
      String operation, IOException e, boolean cutByDeadline, String requestId, int attempts, RetryPolicy policy) {
    String suffix = " (request id " + requestId + ", " + attempts + (attempts == 1 ? " attempt)" : " attempts)");
    if (e instanceof InterruptedIOException) {
      String text = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      if (text.contains("connect")) {
        return new CallTimeoutException(
            CallTimeoutException.Limit.CONNECT, operation + " timed out connecting to the LLM service" + suffix,
            requestId, attempts, e, policy.retryOnTimeout());
      }
      CallTimeoutException.Limit limit =
          cutByDeadline ? CallTimeoutException.Limit.DEADLINE : CallTimeoutException.Limit.CALL;
      return new CallTimeoutException(
          limit,
          operation + (cutByDeadline ? " ran past the retry deadline" : " timed out waiting for the LLM service") + suffix,
          requestId, attempts, e, policy.retryOnTimeout());
    }
    if (surelyNotSent(e)) {
      return new TransportException(
          operation + " could not connect to the LLM service (" + e.getClass().getSimpleName() + ")" + suffix,
          requestId, attempts, e, policy.retryOnNetworkFailure());
    }
    return new TransportException(
        operation + " failed on the network (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")" + suffix,
        requestId, attempts, e, policy.retryOnNetworkFailure());
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
