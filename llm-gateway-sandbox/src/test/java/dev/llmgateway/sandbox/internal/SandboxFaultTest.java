package dev.llmgateway.sandbox.internal;

import static dev.llmgateway.sandbox.internal.SandboxFixture.CHAT;
import static dev.llmgateway.sandbox.internal.SandboxFixture.SESSIONS;
import static dev.llmgateway.sandbox.internal.SandboxFixture.as;
import static dev.llmgateway.sandbox.internal.SandboxFixture.body;
import static dev.llmgateway.sandbox.internal.SandboxFixture.chatBody;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.sandbox.internal.SandboxFixture.Result;
import java.util.ArrayList;
import java.util.List;
import okhttp3.Request;
import org.junit.jupiter.api.Test;

class SandboxFaultTest {
  private final SandboxFixture sandbox = new SandboxFixture();

  @Test
  void statusDirectiveAnswersFastApiDetail() {
    Result result = sandbox.chat("u1", chatBody("Find engineers #sandbox:status=503"));

    assertThat(result.code()).isEqualTo(503);
    assertThat(result.message()).isEqualTo("Service Unavailable");
    assertThat(result.body()).isEqualTo("{\"detail\":\"Service temporarily unavailable\"}");
    assertThat(result.header("Retry-After")).isNull();
  }

  @Test
  void rateLimitCarriesRetryAfterOneSecond() {
    Result result = sandbox.chat("u1", chatBody("#sandbox:status=429 hello"));

    assertThat(result.code()).isEqualTo(429);
    assertThat(result.header("Retry-After")).isEqualTo("1");
    assertThat(result.json().get("detail").isTextual()).isTrue();
  }

  @Test
  void retryAfterCanBeChosen() {
    Result result = sandbox.chat("u1", chatBody("hello #sandbox:status=503,retry_after=7"));

    assertThat(result.header("Retry-After")).isEqualTo("7");
  }

  @Test
  void otherStatusesAnswerJsonDetail() {
    for (int status : List.of(400, 401, 403, 404, 409, 500)) {
      Result result = sandbox.chat("u1", chatBody("hi #sandbox:status=" + status));
      assertThat(result.code()).isEqualTo(status);
      assertThat(result.header("Content-Type")).isEqualTo("application/json");
      assertThat(result.json().get("detail").isTextual()).as("status %s", status).isTrue();
    }
  }

  @Test
  void validationFaultUsesTheListShape() {
    Result result = sandbox.chat("u1", chatBody("hi #sandbox:status=422"));

    assertThat(result.code()).isEqualTo(422);
    assertThat(result.json().get("detail").get(0).get("loc").toString()).isEqualTo("[\"body\",\"query\"]");
  }

  @Test
  void badGatewayIsAnHtmlPageFromTheProxy() {
    Result result =
        sandbox.call(as("u1").url(CHAT).header("X-Request-Id", "r").post(body(chatBody("hi #sandbox:status=502"))).build());

    assertThat(result.code()).isEqualTo(502);
    assertThat(result.header("Content-Type")).isEqualTo("text/html; charset=utf-8");
    assertThat(result.body()).isEqualTo("<html><body><h1>502 Bad Gateway</h1></body></html>");
    assertThat(result.header("Content-Length")).isEqualTo(Integer.toString(result.body().length()));
    assertThat(result.header("X-Request-Id")).isNull();
  }

  @Test
  void gatewayTimeoutIsAnHtmlPageToo() {
    Result result = sandbox.stream("u1", chatBody("hi #sandbox:status=504"));

    assertThat(result.code()).isEqualTo(504);
    assertThat(result.body()).isEqualTo("<html><body><h1>504 Gateway Timeout</h1></body></html>");
  }

  @Test
  void timesFailsOnlyTheFirstAttempts() {
    List<Integer> codes = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      codes.add(sandbox.chat("u1", chatBody("Find engineers #sandbox:status=503,times=2")).code());
    }

    assertThat(codes).containsExactly(503, 503, 200, 200);
  }

  @Test
  void attemptsAreCountedPerUser() {
    assertThat(sandbox.chat("u1", chatBody("x #sandbox:status=500,times=1")).code()).isEqualTo(500);
    assertThat(sandbox.chat("u2", chatBody("x #sandbox:status=500,times=1")).code()).isEqualTo(500);
    assertThat(sandbox.chat("u1", chatBody("x #sandbox:status=500,times=1")).code()).isEqualTo(200);
  }

  @Test
  void retryWithTheSameIdempotencyKeySucceedsAfterTheFault() {
    Request request =
        as("u1").url(CHAT).header("Idempotency-Key", "k").post(body(chatBody("Find engineers #sandbox:status=503,times=1"))).build();

    Result failed = sandbox.call(request);
    Result retried = sandbox.call(request);
    Result replayed = sandbox.call(request);

    assertThat(failed.code()).isEqualTo(503);
    assertThat(retried.code()).isEqualTo(200);
    assertThat(replayed.body()).isEqualTo(retried.body());
    assertThat(sandbox.get("u1", SESSIONS).json().get("sessions")).hasSize(1);
  }

  @Test
  void faultStoresNothing() {
    sandbox.chat("u1", chatBody("hi #sandbox:status=500"));

    assertThat(sandbox.get("u1", SESSIONS).json().get("sessions")).isEmpty();
  }

  @Test
  void directiveIsLeftOutOfAnswerAndTitleButKeptInTheStoredMessage() {
    Result result = sandbox.chat("u1", chatBody("Find Java engineers #sandbox:status=503,times=1"));
    assertThat(result.code()).isEqualTo(503);

    var json = sandbox.chat("u1", chatBody("Find Java engineers #sandbox:status=503,times=1")).json();
    var session = sandbox.get("u1", SESSIONS + "/" + json.get("session_id").asText()).json();

    assertThat(json.get("answer").asText()).contains("\"Find Java engineers\"").doesNotContain("#sandbox");
    assertThat(session.get("title").asText()).isEqualTo("Find Java engineers");
    assertThat(session.get("messages").get(0).get("content").asText())
        .isEqualTo("Find Java engineers #sandbox:status=503,times=1");
  }

  @Test
  void malformedDirectiveIsABadRequestThatSaysWhy() {
    assertThat(badDirective("#sandbox:status=200")).contains("status must be between 400 and 599");
    assertThat(badDirective("#sandbox:statu=503")).contains("unknown key 'statu'");
    assertThat(badDirective("#sandbox:")).contains("key=value");
    assertThat(badDirective("#sandbox:times=2")).contains("status=");
    assertThat(badDirective("#sandbox:stream=slow")).contains("stream must be");
  }

  private String badDirective(String directive) {
    Result result = sandbox.chat("u1", chatBody("hi " + directive));
    assertThat(result.code()).as(directive).isEqualTo(400);
    return result.json().get("detail").asText();
  }
}
