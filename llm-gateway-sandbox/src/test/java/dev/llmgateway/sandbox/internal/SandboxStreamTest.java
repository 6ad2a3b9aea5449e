package dev.llmgateway.sandbox.internal;

import static dev.llmgateway.sandbox.internal.SandboxFixture.SESSIONS;
import static dev.llmgateway.sandbox.internal.SandboxFixture.STREAM;
import static dev.llmgateway.sandbox.internal.SandboxFixture.as;
import static dev.llmgateway.sandbox.internal.SandboxFixture.body;
import static dev.llmgateway.sandbox.internal.SandboxFixture.chatBody;
import static dev.llmgateway.sandbox.internal.SandboxFixture.fieldNames;
import static dev.llmgateway.sandbox.internal.SandboxFixture.sseBlocks;
import static dev.llmgateway.sandbox.internal.SandboxFixture.sseEvents;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.sandbox.internal.SandboxFixture.Result;
import java.util.ArrayList;
import java.util.List;
import okhttp3.Request;
import org.junit.jupiter.api.Test;

class SandboxStreamTest {
  private final SandboxFixture sandbox = new SandboxFixture();

  @Test
  void streamIsFramedAsServerSentEventsEndingWithDone() {
    Result result =
        sandbox.call(as("u1").url(STREAM).header("X-Request-Id", "r-1").post(body(chatBody("Find Rails engineers"))).build());

    assertThat(result.code()).isEqualTo(200);
    assertThat(result.header("Content-Type")).isEqualTo("text/event-stream; charset=utf-8");
    assertThat(result.header("Content-Length")).isNull();
    assertThat(result.contentLength()).isEqualTo(-1);
    assertThat(result.header("X-Request-Id")).isEqualTo("r-1");
    assertThat(result.body()).doesNotContain("\r").endsWith("\n\ndata: [DONE]\n\n");
    List<String> blocks = sseBlocks(result.body());
    assertThat(blocks.get(blocks.size() - 1)).isEqualTo("data: [DONE]");
    assertThat(blocks).allSatisfy(block -> assertThat(block).startsWith("data: ").doesNotContain("\n"));
  }

  @Test
  void eventsComeInContractOrder() {
    List<JsonNode> events = sseEvents(sandbox.stream("u1", chatBody("Find Rails engineers")).body());

    List<String> types = new ArrayList<>();
    events.forEach(e -> types.add(e.get("type").asText()));
    assertThat(types.get(0)).isEqualTo("session");
    assertThat(types.get(1)).isEqualTo("intent");
    assertThat(types.subList(2, types.size() - 2)).hasSizeGreaterThan(3).containsOnly("token");
    assertThat(types.subList(types.size() - 2, types.size())).containsExactly("candidates", "done");

    assertThat(fieldNames(events.get(0))).containsExactly("type", "session_id", "message_id");
    assertThat(events.get(1).get("intent").asText()).isEqualTo("search");
    assertThat(events.get(events.size() - 2).get("candidates")).hasSize(3);
    JsonNode done = events.get(events.size() - 1);
    assertThat(done.get("finish_reason").asText()).isEqualTo("stop");
    assertThat(fieldNames(done.get("usage"))).containsExactly("prompt_tokens", "completion_tokens", "total_tokens");
  }

  @Test
  void streamCarriesAHeartbeatComment() {
    assertThat(sandbox.stream("u1", chatBody("hello")).body()).contains("\n\n: ping\n\n");
  }

  @Test
  void tokensConcatenateToTheAnswerOfTheSameSyncCall() {
    String request = chatBody("Find senior Rails engineers in Berlin");
    JsonNode sync = new SandboxFixture().chat("u1", request).json();

    List<JsonNode> events = sseEvents(sandbox.stream("u1", request).body());

    StringBuilder answer = new StringBuilder();
    events.stream().filter(e -> e.get("type").asText().equals("token")).forEach(e -> answer.append(e.get("content").asText()));
    assertThat(answer.toString()).isEqualTo(sync.get("answer").asText());
    assertThat(events.get(0).get("session_id")).isEqualTo(sync.get("session_id"));
    assertThat(events.get(0).get("message_id")).isEqualTo(sync.get("message_id"));
    assertThat(events.get(events.size() - 2).get("candidates")).isEqualTo(sync.get("candidates"));
    assertThat(events.get(events.size() - 1).get("usage")).isEqualTo(sync.get("usage"));
  }

  @Test
  void userActionStreamsOneActionEventAndNoCandidates() {
    List<JsonNode> events = sseEvents(sandbox.stream("u1", chatBody("Invite id_1a2b3c4d", "profile_id", "id_1a2b3c4d")).body());

    List<String> types = new ArrayList<>();
    events.forEach(e -> types.add(e.get("type").asText()));
    assertThat(types).doesNotContain("candidates").containsOnlyOnce("action");
    assertThat(types.get(types.size() - 2)).isEqualTo("action");
    assertThat(events.get(types.indexOf("action")).get("action").toString())
        .isEqualTo("{\"type\":\"invite\",\"profile_id\":\"id_1a2b3c4d\"}");
  }

  @Test
  void streamedTurnIsStoredInTheSession() {
    List<JsonNode> events = sseEvents(sandbox.stream("u1", chatBody("hello there")).body());
    String sessionId = events.get(0).get("session_id").asText();

    JsonNode session = sandbox.get("u1", SESSIONS + "/" + sessionId).json();

    assertThat(session.get("message_count").asInt()).isEqualTo(2);
    assertThat(session.get("messages").get(1).get("message_id")).isEqualTo(events.get(0).get("message_id"));
  }

  @Test
  void streamIdempotencyKeyReplaysTheSameBytes() {
    Request request = as("u1").url(STREAM).header("Idempotency-Key", "s-1").post(body(chatBody("Find Kotlin developers"))).build();

    Result first = sandbox.call(request);
    Result second = sandbox.call(request);

    assertThat(second.body()).isEqualTo(first.body());
    assertThat(sandbox.get("u1", SESSIONS).json().get("sessions")).hasSize(1);
  }

  @Test
  void streamErrorDirectiveEndsWithAnErrorEventInsteadOfDone() {
    Result result = sandbox.stream("u1", chatBody("Find engineers #sandbox:stream=error"));

    List<JsonNode> events = sseEvents(result.body());
    JsonNode last = events.get(events.size() - 1);
    assertThat(result.code()).isEqualTo(200);
    assertThat(result.body()).endsWith("data: [DONE]\n\n");
    assertThat(last.get("type").asText()).isEqualTo("error");
    assertThat(fieldNames(last)).containsExactly("type", "code", "message", "retryable");
    assertThat(last.get("retryable").asBoolean()).isTrue();
    assertThat(events).noneMatch(e -> e.get("type").asText().equals("done"));
    assertThat(events).anyMatch(e -> e.get("type").asText().equals("token"));
    String sessionId = events.get(0).get("session_id").asText();
    assertThat(sandbox.get("u1", SESSIONS + "/" + sessionId).json().get("message_count").asInt()).isEqualTo(1);
  }

  @Test
  void streamCutDirectiveEndsWithoutDoneOrDoneMarker() {
    String body = sandbox.stream("u1", chatBody("Find engineers #sandbox:stream=cut")).body();

    assertThat(body).doesNotContain("[DONE]").doesNotContain("\"type\":\"done\"").contains("\"type\":\"token\"");
  }

  @Test
  void failedStreamIsNotReplayedForItsIdempotencyKey() {
    Request request =
        as("u1").url(STREAM).header("Idempotency-Key", "k").post(body(chatBody("hi #sandbox:stream=error,times=1"))).build();

    String first = sandbox.call(request).body();
    String second = sandbox.call(request).body();

    assertThat(first).contains("\"type\":\"error\"");
    assertThat(second).contains("\"type\":\"done\"").doesNotContain("\"type\":\"error\"");
  }

  @Test
  void syncChatIgnoresStreamDirectives() {
    Result result = sandbox.chat("u1", chatBody("hi #sandbox:stream=cut"));

    assertThat(result.code()).isEqualTo(200);
    assertThat(result.json().get("answer").asText()).doesNotContain("#sandbox");
  }
}
