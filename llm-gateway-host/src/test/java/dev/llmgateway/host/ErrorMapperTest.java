package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.ApiException;
import dev.llmgateway.ApiException.FieldError;
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
import dev.llmgateway.ValidationException.Violation;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ErrorMapperTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RID = "4f1c2b7e-0000-4000-8000-000000000001";
  private static final String URL = "https://llm.internal.example:8443/api/v1/llm-chat/recruiter/chat";
  private static final String BODY = "<html><body>Traceback (most recent call last): File \"/srv/app/main.py\", "
      + "line 42 - SECRET_UPSTREAM_BODY</body></html>";
  private static final String DETAIL = "SECRET_UPSTREAM_DETAIL: session sess_9 owned by user 999";
  private static final String MESSAGE = "POST " + URL + " failed: SECRET_EXCEPTION_MESSAGE";

  /** Response headers an upstream error carries; none of them may reach the envelope. */
  private static final Map<String, List<String>> HEADERS =
      Map.of("server", List.of("SECRET_UPSTREAM_SERVER uvicorn"), "x-upstream-host", List.of(URL));

  private final ErrorMapper mapper = ErrorMapper.ofDefaults();

  private static ApiException api(int status, @Nullable Duration retryAfter) {
    return new ApiException(MESSAGE, status, DETAIL, List.of(), BODY, retryAfter, HEADERS, RID, 1, false);
  }

  private static BadRequestException badRequest(int status) {
    return new BadRequestException(MESSAGE, status, DETAIL,
        List.of(new FieldError(List.of("body", "query"), "SECRET_UPSTREAM_FIELD_MESSAGE", "string_too_long"),
            new FieldError(List.of("body", "<script>"), "bad", "x")),
        BODY, null, HEADERS, RID, 1, false);
  }

  private static ServiceUnavailableException unavailable(int status, @Nullable Duration retryAfter) {
    return new ServiceUnavailableException(MESSAGE, status, DETAIL, List.of(), BODY, retryAfter, HEADERS, RID, 3, true);
  }

  /** Every exception the host can meet, with the status and error code it must map to. */
  static Stream<Arguments> table() {
    IOException io = new ConnectException("Connection refused: " + URL);
    return Stream.of(
        Arguments.of("validation", new ValidationException(
            List.of(new Violation("query", "must not be blank"), new Violation("profile_id", "must be id_...")), RID),
            422, "validation_failed", null),
        Arguments.of("host rate limit", new RateLimitExceededException(RateLimits.STREAM_STARTS,
            Duration.ofMillis(5_200), RID), 429, "rate_limited", "6"),
        Arguments.of("upstream 429 with Retry-After", new ServiceRateLimitedException(MESSAGE, 429, DETAIL, List.of(), BODY,
            Duration.ofSeconds(30), HEADERS, RID, 3, true), 429, "rate_limited", "30"),
        Arguments.of("upstream 429 without Retry-After", new ServiceRateLimitedException(MESSAGE, 429, DETAIL, List.of(),
            BODY, null, HEADERS, RID, 3, true), 429, "rate_limited", null),
        Arguments.of("insufficient credits", new InsufficientCreditsException("123", 3, 10, RID),
            402, "insufficient_credits", null),
        Arguments.of("circuit open", new CircuitOpenException(Duration.ofMillis(12_001), RID, 0, io),
            503, "service_unavailable", "13"),
        Arguments.of("client's calls in flight at their limit", new ConcurrencyLimitExceededException(256,
            Duration.ofSeconds(5), RID), 503, "service_unavailable", "1"),
        Arguments.of("host's state store failed", new StateStoreException(MESSAGE, RID, io),
            503, "service_unavailable", "1"),
        Arguments.of("connection refused", new TransportException(MESSAGE, RID, 3, io, true),
            503, "service_unavailable", null),
        Arguments.of("stream ended before its first event", new TransportException(MESSAGE, RID, 3, null, true),
            503, "service_unavailable", null),
        Arguments.of("upstream 503 with Retry-After", unavailable(503, Duration.ofSeconds(2)),
            503, "service_unavailable", "2"),
        Arguments.of("upstream 502", unavailable(502, null), 503, "service_unavailable", null),
        Arguments.of("upstream proxy 504", unavailable(504, null), 504, "timeout", null),
        Arguments.of("timeout", new CallTimeoutException(CallTimeoutException.Limit.CALL, MESSAGE, RID, 1, io, true),
            504, "timeout", null),
        Arguments.of("upstream 422", badRequest(422), 422, "request_rejected", null),
        Arguments.of("upstream 400", badRequest(400), 400, "bad_request", null),
        Arguments.of("upstream 401", new AuthenticationException(MESSAGE, 401, DETAIL, List.of(), BODY, null, HEADERS, RID, 1, false),
            502, "upstream_error", null),
        Arguments.of("upstream 403", new PermissionDeniedException(MESSAGE, 403, DETAIL, List.of(), BODY, null, HEADERS, RID, 1, false),
            502, "upstream_error", null),
        Arguments.of("upstream 404", new NotFoundException(MESSAGE, 404, DETAIL, List.of(), BODY, null, HEADERS, RID, 1, false),
            404, "not_found", null),
        Arguments.of("upstream 409", new ConflictException(MESSAGE, 409, DETAIL, List.of(), BODY,
            Duration.ofMillis(1), HEADERS, RID, 3, true), 409, "conflict", "1"),
        Arguments.of("upstream 500", new ServerErrorException(MESSAGE, 500, DETAIL, List.of(), BODY, null, HEADERS, RID, 1, false),
            502, "upstream_error", null),
        Arguments.of("upstream 413 (unexpected)", api(413, null), 502, "upstream_error", null),
        Arguments.of("stream error event", new StreamErrorException("model_overloaded", DETAIL, true,
            "partial SECRET_PARTIAL", RID, 1), 502, "stream_failed", null),
        Arguments.of("stream cut off", new StreamInterruptedException(MESSAGE, "partial SECRET_PARTIAL", RID, 1, io, true),
            502, "stream_interrupted", null),
        Arguments.of("invalid response", new InvalidResponseException(MESSAGE, 200, RID, 1,
            new IllegalStateException(BODY)), 502, "upstream_error", null),
        Arguments.of("cancelled", new CallCancelledException(RID, 1, new InterruptedException(MESSAGE)),
            499, "cancelled", null),
        Arguments.of("other SDK exception", new LlmGatewayException(MESSAGE, RID, 0, null),
            500, "internal_error", null),
        Arguments.of("host bug", new NullPointerException(MESSAGE), 500, "internal_error", null),
        Arguments.of("async wrapper", new CompletionException(new ExecutionException(
            new CallTimeoutException(CallTimeoutException.Limit.DEADLINE, MESSAGE, RID, 3, null, true))), 504, "timeout", null));
  }

  @ParameterizedTest(name = "{0} -> {2}")
  @MethodSource("table")
  void mapsEveryExceptionToItsStatus(
      String name, Throwable error, int status, String code, @Nullable String retryAfter) throws Exception {
    ErrorResponse response = mapper.toResponse(error, name.equals("host bug") ? RID : null);

    assertThat(response.status()).isEqualTo(status);
    assertThat(response.kind().status()).isEqualTo(status);
    assertThat(response.kind().code()).isEqualTo(code);
    assertThat(response.envelope().success()).isFalse();
    assertThat(response.envelope().message()).isEqualTo(response.kind().defaultMessage());
    assertThat(response.envelope().meta())
        .containsExactly(Map.entry("request_id", RID), Map.entry("error_code", code));
    if (retryAfter == null) {
      assertThat(response.headers()).isEmpty();
    } else {
      assertThat(response.headers()).containsExactly(Map.entry("Retry-After", retryAfter));
      assertThat(JSON.readTree(response.toJson()).at("/data/retry_after_seconds").asText()).isEqualTo(retryAfter);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void noEnvelopeLeaksInternals(String name, Throwable error) {
    String json = mapper.toResponse(error).toJson();

    assertThat(json)
        .doesNotContain("http", "://", "llm.internal", "/api/", "SECRET", "Traceback", "<html", "main.py",
            "Exception", "dev.llmgateway", "java.", ".java", "\tat ", "Connection refused", "partial");
  }

  @Test
  void validationListsEveryViolation() throws Exception {
    ValidationException e = new ValidationException(
        List.of(new Violation("query", "must not be blank"), new Violation("limit", "must be between 1 and 100, was 0")),
        RID);

    JsonNode data = JSON.readTree(mapper.toResponse(e).toJson()).get("data");

    assertThat(data.isArray()).isTrue();
    assertThat(data).hasSize(2);
    assertThat(data.get(0).get("field").asText()).isEqualTo("query");
    assertThat(data.get(0).get("reason").asText()).isEqualTo("must not be blank");
    assertThat(data.get(1).get("field").asText()).isEqualTo("limit");
  }

  @Test
  void upstream422NamesOnlyPlainFieldsWithAFixedReason() throws Exception {
    JsonNode data = JSON.readTree(mapper.toResponse(badRequest(422)).toJson()).get("data");

    assertThat(data).hasSize(1);
    assertThat(data.get(0).get("field").asText()).isEqualTo("query");
    assertThat(data.get(0).get("reason").asText()).isEqualTo("is invalid");
  }

  @Test
  void streamErrorCarriesTheServiceCodeOnlyWhenItIsAPlainCode() throws Exception {
    StreamErrorException plain = new StreamErrorException("model_overloaded", "msg", true, "", RID, 1);
    StreamErrorException odd = new StreamErrorException("see " + URL, "msg", false, "", RID, 1);

    JsonNode plainData = JSON.readTree(mapper.toResponse(plain).toJson()).get("data");
    JsonNode oddData = JSON.readTree(mapper.toResponse(odd).toJson()).get("data");

    assertThat(plainData.get("code").asText()).isEqualTo("model_overloaded");
    assertThat(plainData.get("retryable").asBoolean()).isTrue();
    assertThat(oddData.get("code").asText()).isEqualTo("unknown");
    assertThat(oddData.get("retryable").asBoolean()).isFalse();
  }

  @Test
  void theHostsRefusalsSayWhetherTheSameCallCanPassLater() {
    assertThat(new RateLimitExceededException(RateLimits.CALLS, Duration.ofSeconds(1), RID).isRetryable()).isTrue();
    assertThat(new InsufficientCreditsException("123", 3, 10, RID).isRetryable()).isFalse();
  }

  @Test
  void insufficientCreditsTellsTheUserWhatIsNeeded() throws Exception {
    JsonNode json = JSON.readTree(mapper.toResponse(new InsufficientCreditsException("123", 3, 10, RID)).toJson());

    assertThat(json.get("data").get("needed").asLong()).isEqualTo(10);
    assertThat(json.get("data").get("available").asLong()).isEqualTo(3);
    assertThat(json.get("message").asText()).isEqualTo("You do not have enough credits for this request.");
  }

  @Test
  void requestIdComesFromTheExceptionElseTheFallbackElseIsLeftOut() {
    LlmGatewayException withId = new CallCancelledException("from-exception", 0, null);
    LlmGatewayException withoutId = new CallCancelledException(null, 0, null);

    assertThat(mapper.toResponse(withId, "fallback").envelope().meta()).containsEntry("request_id", "from-exception");
    assertThat(mapper.toResponse(withoutId, "fallback").envelope().meta()).containsEntry("request_id", "fallback");
    assertThat(mapper.toResponse(withoutId).envelope().meta()).containsOnlyKeys("error_code");
  }

  @Test
  void retryAfterIsRoundedUpToWholeSecondsAndNeverZero() {
    assertThat(mapper.toResponse(new RateLimitExceededException("calls", Duration.ofNanos(1), null)).headers())
        .containsEntry("Retry-After", "1");
    assertThat(mapper.toResponse(new RateLimitExceededException("calls", Duration.ZERO, null)).headers())
        .containsEntry("Retry-After", "1");
    assertThat(mapper.toResponse(new RateLimitExceededException("calls", Duration.ofSeconds(6), null)).headers())
        .containsEntry("Retry-After", "6");
    assertThat(mapper.toResponse(new RateLimitExceededException("calls", Duration.ofMillis(6_001), null)).headers())
        .containsEntry("Retry-After", "7");
  }

  @Test
  void messagesCanBeReplaced() {
    ErrorMapper german = ErrorMapper.builder()
        .message(ErrorKind.RATE_LIMITED, "Zu viele Anfragen. Bitte warten.")
        .build();

    ErrorResponse response = german.toResponse(new RateLimitExceededException("calls", Duration.ofSeconds(1), RID));

    assertThat(response.envelope().message()).isEqualTo("Zu viele Anfragen. Bitte warten.");
    assertThat(german.message(ErrorKind.TIMEOUT)).isEqualTo(ErrorKind.TIMEOUT.defaultMessage());
  }
}
