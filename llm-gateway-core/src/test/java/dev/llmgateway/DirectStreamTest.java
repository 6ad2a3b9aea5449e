package dev.llmgateway;

import static dev.llmgateway.ChatStreamTest.FULL;
import static dev.llmgateway.ChatStreamTest.sse;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;

class DirectStreamTest extends MockServerTest {
  private String url(String token) {
    return server.url("/api/v1/llm-chat/recruiter/chat/stream").newBuilder().addQueryParameter("token", token).build().toString();
  }

  @Test
  void readsADirectStreamUrlWithTheTokenAsTheOnlyCredential() throws Exception {
    server.enqueue(sse(FULL));
    try (ChatStream stream = client.chatStreamFromUrl(url("eyJ.token.sig"), USER, StreamOptions.DEFAULTS)) {
      assertThat(stream.text()).isEqualTo("Hello world");
    }
    RecordedRequest recorded = server.takeRequest();
    assertThat(recorded.getMethod()).isEqualTo("GET");
    assertThat(recorded.getUrl().queryParameter("token")).isEqualTo("eyJ.token.sig");
    assertThat(recorded.getHeaders().get("Accept")).isEqualTo("text/event-stream");
    assertThat(recorded.getHeaders().get("X-Service-Token")).isNull();
    assertThat(recorded.getHeaders().get("X-User-Id")).isNull();
    assertThat(recorded.getHeaders().get("X-Request-Id")).isNotBlank();
  }

  @Test
  void aRefusedTokenIsNotRetried() {
    server.enqueue(json(401, "{\"detail\":\"Stream token already used\"}"));
    server.enqueue(sse(FULL));
    assertThat(catchThrowable(() -> client.chatStreamFromUrl(url("used"), USER, StreamOptions.DEFAULTS)))
        .isInstanceOf(AuthenticationException.class);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void evenRetryableFailuresAreNotRetriedBecauseTheTokenIsSingleUse() {
    server.enqueue(json(503, "{}"));
    server.enqueue(sse(FULL));
    assertThat(catchThrowable(() -> client.chatStreamFromUrl(url("t"), USER, StreamOptions.DEFAULTS)))
        .isInstanceOf(ServiceUnavailableException.class);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aUrlThatIsNotHttpIsRefusedBeforeSending() {
    assertThat(catchThrowable(() -> client.chatStreamFromUrl("file:///etc/passwd", USER, StreamOptions.DEFAULTS)))
        .isInstanceOf(ValidationException.class);
    assertThat(server.getRequestCount()).isZero();
  }
}
