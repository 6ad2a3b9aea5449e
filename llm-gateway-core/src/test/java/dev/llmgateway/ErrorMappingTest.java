package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ErrorMappingTest extends MockServerTest {

  @Override
  LlmGatewayClient.Builder configure(LlmGatewayClient.Builder builder) {
    return builder.retryPolicy(RetryPolicy.none());
  }

  static Stream<Arguments> statuses() {
    return Stream.of(
        Arguments.of(400, BadRequestException.class),
        Arguments.of(401, AuthenticationException.class),
        Arguments.of(403, PermissionDeniedException.class),
        Arguments.of(404, NotFoundException.class),
        Arguments.of(405, ApiException.class),
        Arguments.of(409, ConflictException.class),
        Arguments.of(422, BadRequestException.class),
        Arguments.of(429, ServiceRateLimitedException.class),
        Arguments.of(500, ServerErrorException.class),
        Arguments.of(501, ServerErrorException.class),
        Arguments.of(502, ServiceUnavailableException.class),
        Arguments.of(503, ServiceUnavailableException.class),
        Arguments.of(504, ServiceUnavailableException.class));
  }

  @ParameterizedTest
  @MethodSource("statuses")
  void jsonErrorMapsToItsException(int status, Class<? extends ApiException> type) {
    server.enqueue(json(status, "{\"detail\":\"Something about " + status + "\"}"));
    Throwable thrown = catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(thrown).isExactlyInstanceOf(type);
    LlmGatewayException e = (LlmGatewayException) thrown;
    assertThat(e.attempts()).isEqualTo(1);
    assertThat(e.requestId()).isNotBlank();
    assertThat(e.getMessage()).contains(e.requestId()).contains(Integer.toString(status));
    ApiException api = (ApiException) e; // every status answer, 502-504 included, is an ApiException
    assertThat(api.status()).isEqualTo(status);
    assertThat(api.detail()).isEqualTo("Something about " + status);
  }

  @ParameterizedTest
  @MethodSource("statuses")
  void htmlErrorBodyFromAProxyIsHandled(int status, Class<? extends ApiException> type) {
    server.enqueue(new MockResponse.Builder().code(status).setHeader("Content-Type", "text/html")
        .body("<html><body><h1>" + status + " Bad Gateway</h1></body></html>").build());
    Throwable thrown = catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(thrown).isExactlyInstanceOf(type);
    ApiException api = (ApiException) thrown;
    assertThat(api.detail()).isNull();
    assertThat(api.body()).contains("<h1>");
  }

  @ParameterizedTest
  @MethodSource("statuses")
  void emptyErrorBodyIsHandled(int status, Class<? extends ApiException> type) {
    server.enqueue(new MockResponse.Builder().code(status).build());
    Throwable thrown = catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(thrown).isExactlyInstanceOf(type);
    ApiException api = (ApiException) thrown;
    assertThat(api.detail()).isNull();
    assertThat(api.body()).isEmpty();
  }

  @Test
  void fastApiValidationListBecomesFieldErrors() {
    server.enqueue(json(422, "{\"detail\":[{\"loc\":[\"body\",\"query\"],\"msg\":\"field required\",\"type\":\"value_error.missing\"},"
        + "{\"loc\":[\"body\",\"profile_id\"],\"msg\":\"bad id\",\"type\":\"value_error\"}]}"));
    BadRequestException e = catchThrowableOfType(BadRequestException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.fieldErrors()).containsExactly(
        new ApiException.FieldError(List.of("body", "query"), "field required", "value_error.missing"),
        new ApiException.FieldError(List.of("body", "profile_id"), "bad id", "value_error"));
    assertThat(e.detail()).isEqualTo("body.query: field required; body.profile_id: bad id");
  }

  @Test
  void rateLimitCarriesRetryAfter() {
    server.enqueue(new MockResponse.Builder().code(429).setHeader("Retry-After", "7").body("{\"detail\":\"slow down\"}").build());
    ServiceRateLimitedException e = catchThrowableOfType(ServiceRateLimitedException.class, () -> client.chat(ChatRequest.of("hi"), USER));
    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(7));
  }

  @Test
  void anErrorAnswerCarriesItsResponseHeaders() {
    server.enqueue(new MockResponse.Builder().code(429).setHeader("Retry-After", "7")
        .setHeader("X-RateLimit-Remaining", "0").addHeader("Vary", "Accept").addHeader("vary", "Origin")
        .body("{\"detail\":\"slow down\"}").build());

    ServiceRateLimitedException e =
        catchThrowableOfType(ServiceRateLimitedException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.headers()).containsEntry("x-ratelimit-remaining", List.of("0"))
        .containsEntry("vary", List.of("Accept", "Origin"));
    assertThat(e.header("Retry-After")).isEqualTo("7");
    assertThat(e.header("X-Missing")).isNull();
    assertThatThrownBy(() -> e.headers().put("x", List.of("y"))).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> e.headers().get("vary").add("z")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void responseHeadersNeverEchoTheServiceToken() {
    server.enqueue(new MockResponse.Builder().code(503).setHeader("Server", "uvicorn")
        .setHeader("X-Service-Token", TestSupport.TOKEN)
        .setHeader("X-Debug-Echo", "token=" + TestSupport.TOKEN + "; user=123")
        .setHeader("Set-Cookie", "lb=node-7; HttpOnly")
        .build());

    ServiceUnavailableException e =
        catchThrowableOfType(ServiceUnavailableException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.header("Server")).isEqualTo("uvicorn");
    assertThat(e.headers()).doesNotContainKeys("x-service-token", "x-debug-echo", "set-cookie");
    assertThat(e.headers().toString()).doesNotContain(TestSupport.TOKEN);
  }

  @Test
  void responseHeadersNeverEchoTheRequestsAuthorization() {
    String jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl";
    useClient(clientBuilder().auth((request, user, operation) -> request.header("Authorization", "Bearer " + jwt)));
    server.enqueue(new MockResponse.Builder().code(401).setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"")
        .setHeader("Authorization", "Bearer " + jwt)
        .setHeader("X-Seen-Token", jwt)
        .build());

    AuthenticationException e =
        catchThrowableOfType(AuthenticationException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.header("WWW-Authenticate")).isEqualTo("Bearer error=\"invalid_token\"");
    assertThat(e.headers()).doesNotContainKeys("authorization", "x-seen-token");
    assertThat(e.headers().toString()).doesNotContain(jwt);
  }

  @Test
  void responseHeadersAreABoundedCopy() {
    MockResponse.Builder answer = new MockResponse.Builder().code(502);
    for (int i = 0; i < ApiException.MAX_HEADERS + 20; i++) {
      answer.addHeader("X-Filler-" + i, "v".repeat(ApiException.MAX_HEADER_VALUE_CHARS + 10));
    }
    server.enqueue(answer.build());

    ServiceUnavailableException e =
        catchThrowableOfType(ServiceUnavailableException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.headers().values().stream().mapToInt(List::size).sum()).isEqualTo(ApiException.MAX_HEADERS);
    assertThat(e.header("X-Filler-0")).hasSize(ApiException.MAX_HEADER_VALUE_CHARS);
    assertThat(e.headers().values()).allSatisfy(values ->
        assertThat(values).allSatisfy(v -> assertThat(v).hasSizeLessThanOrEqualTo(ApiException.MAX_HEADER_VALUE_CHARS)));
  }

  @Test
  void anApiExceptionBuiltByHandKeepsNoCredentialHeader() {
    ApiException e = new ApiException("m", 418, null, List.of(), "", null,
        Map.of("Authorization", List.of("Bearer x"), "Proxy-Authorization", List.of("Basic y"),
            "Cookie", List.of("c=1"), "Set-Cookie", List.of("c=2"), "X-Service-Token", List.of("t"),
            "Content-Type", List.of("text/plain")),
        "r", 1, false);

    assertThat(e.headers()).containsOnlyKeys("content-type");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 500, 501, 505})
  void serviceUnavailableAlwaysCarriesA502To504Status(int status) {
    assertThatThrownBy(() -> new ServiceUnavailableException("m", status, null, List.of(), "", null, Map.of(), "r", 1, true))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(Integer.toString(status));
  }

  @Test
  void hugeErrorBodyIsBounded() {
    server.enqueue(new MockResponse.Builder().code(500).body("x".repeat(1_000_000)).build());
    ServerErrorException e = catchThrowableOfType(ServerErrorException.class, () -> client.chat(ChatRequest.of("hi"), USER));
    assertThat(e.body()).hasSize(ApiException.MAX_BODY_CHARS);
  }

  @Test
  void successWithHtmlBodyIsAnInvalidResponse() {
    server.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "text/html").body("<html>maintenance</html>").build());
    InvalidResponseException e = catchThrowableOfType(InvalidResponseException.class, () -> client.chat(ChatRequest.of("hi"), USER));
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.getMessage()).contains("not JSON");
  }

  @Test
  void aSuccessFollowedByASecondJsonValueIsAnInvalidResponse() {
    server.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
        .body(TestSupport.CHAT_JSON + " " + TestSupport.CHAT_JSON.replace("sess_8f14e45f", "sess_other")).build());
    InvalidResponseException e = catchThrowableOfType(InvalidResponseException.class, () -> client.chat(ChatRequest.of("hi"), USER));
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.attempts()).isEqualTo(1);
  }

  @Test
  void successWithEmptyBodyIsAnInvalidResponse() {
    server.enqueue(new MockResponse.Builder().code(200).build());
    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER))).isInstanceOf(InvalidResponseException.class);
  }

  @Test
  void missingRequiredFieldIsNamed() {
    server.enqueue(json(200, "{\"message_id\":\"m\",\"answer\":\"a\"}"));
    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER)))
        .isInstanceOf(InvalidResponseException.class).hasMessageContaining("session_id");
  }

  @Test
  void wrongTypeIsNamed() {
    server.enqueue(json(200, "{\"session_id\":1,\"message_id\":\"m\",\"answer\":\"a\"}"));
    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER)))
        .isInstanceOf(InvalidResponseException.class).hasMessageContaining("session_id is not a string");
  }

  @Test
  void responseLargerThanTheLimitIsRefused() {
    useClient(clientBuilder().maxResponseBytes(1024));
    server.enqueue(json(200, "{\"session_id\":\"s\",\"message_id\":\"m\",\"answer\":\"" + "a".repeat(5000) + "\"}"));
    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER)))
        .isInstanceOf(InvalidResponseException.class).hasMessageContaining("larger than 1024 bytes");
  }

  @Test
  void redirectsAreNotFollowedSoCredentialsStayWithTheService() {
    server.enqueue(new MockResponse.Builder().code(307).setHeader("Location", "http://elsewhere.invalid/steal").build());
    ApiException e = catchThrowableOfType(ApiException.class, () -> client.chat(ChatRequest.of("hi"), USER));
    assertThat(e.status()).isEqualTo(307);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void connectionRefusedIsATransportFailureWithIoCauseAndNoStatus() throws Exception {
    useClient(clientBuilder().baseUrl(TestSupport.refusingUrl()).retryPolicy(RetryPolicy.none()));

    Throwable thrown = catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(thrown).isExactlyInstanceOf(TransportException.class).isNotInstanceOf(ApiException.class);
    TransportException e = (TransportException) thrown;
    assertThat(e.getCause()).isInstanceOf(java.io.IOException.class);
    assertThat(e.getMessage()).contains("could not connect");
  }

  @Test
  void connectingThatTakesTooLongIsAConnectTimeout() throws Exception {
    // A listener with a backlog of one holds two unaccepted connections; the kernel drops the SYNs
    // of any further one, so its connect hangs until the client's connect timeout.
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket first = new Socket();
        Socket second = new Socket()) {
      first.connect(full.getLocalSocketAddress());
      second.connect(full.getLocalSocketAddress());
      useClient(clientBuilder().baseUrl("http://127.0.0.1:" + full.getLocalPort() + "/")
          .connectTimeout(Duration.ofMillis(100)).retryPolicy(RetryPolicy.none()));

      CallTimeoutException e = catchThrowableOfType(CallTimeoutException.class, () -> client.chat(ChatRequest.of("hi"), USER));

      assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.CONNECT);
      assertThat(e.getMessage()).contains("timed out connecting");
    }
  }
}
