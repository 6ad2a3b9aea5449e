package dev.llmgateway.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.Candidate;
import dev.llmgateway.Intent;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the decoding of a stream event's {@code data}: {@link StreamDecoder#parseObject} then
 * {@link StreamDecoder#decode}. For any text the result is null (not a JSON object), a {@link
 * StreamEvent} that agrees with the JSON, a {@link StreamDecoder.ServiceError} for {@code type:
 * error}, or a {@link Json.MalformedJsonException}; never another exception.
 *
 * <p>The input bytes are decoded as UTF-8 (invalid sequences become U+FFFD, as the SSE reader does).
 * Without {@code JAZZER_FUZZ} the seeds in {@code StreamDecoderFuzzTestInputs/} run as regression
 * tests; {@code .ci/fuzz} runs it in fuzzing mode.
 */
class StreamDecoderFuzzTest {
  private static final Set<String> KNOWN_TYPES =
      Set.of("session", "intent", "token", "candidates", "action", "done", "error");

  @FuzzTest(maxDuration = "30s")
  void decodesArbitraryData(byte[] raw) {
    checkDecoding(new String(raw, UTF_8));
  }

  /** The SDK sums the usage the service left without a total; a sum beyond a long is malformed. */
  @Test
  void usageWhoseMissingTotalWouldOverflowIsMalformed() throws Json.MalformedJsonException {
    String max = "{\"type\":\"done\",\"usage\":{\"prompt_tokens\":9223372036854775807,\"completion_tokens\":%d}}";
    String fits = String.format(max, 0);
    String overflows = String.format(max, 1);

    Object decoded = StreamDecoder.decode(StreamDecoder.parseObject(fits), fits);
    assertThat(((StreamEvent.Done) decoded).usage()).isEqualTo(new Usage(Long.MAX_VALUE, 0, Long.MAX_VALUE));
    assertThatThrownBy(() -> StreamDecoder.decode(StreamDecoder.parseObject(overflows), overflows))
        .isInstanceOf(Json.MalformedJsonException.class)
        .hasMessageContaining("total_tokens");
  }

  /** Decodes {@code data} and checks the result against the JSON it came from. */
  static void checkDecoding(String data) {
    JsonNode node = StreamDecoder.parseObject(data);
    if (node == null) {
      return;
    }
    assertThat(node.isObject()).as("parseObject returns objects only").isTrue();
    Object decoded;
    try {
      decoded = StreamDecoder.decode(node, data);
    } catch (Json.MalformedJsonException e) {
      assertThat(e.getMessage()).isNotBlank();
      JsonNode type = node.get("type");
      assertThat(type != null && "error".equals(type.textValue()))
          .as("an error event must end the stream, not be skipped as malformed (%s)", e.getMessage())
          .isFalse();
      return;
    }
    JsonNode typeNode = node.get("type");
    assertThat(typeNode).isNotNull();
    assertThat(typeNode.isTextual()).as("a decoded event has a text type").isTrue();
    String type = typeNode.textValue();

    if (decoded instanceof StreamDecoder.ServiceError error) {
      assertThat(type).isEqualTo("error");
      assertThat(error.code()).isNotNull();
      assertThat(error.message()).isNotNull();
      return;
    }
    assertThat(decoded).isInstanceOf(StreamEvent.class);
    StreamEvent event = (StreamEvent) decoded;
    assertThat(event.json()).isSameAs(data);
    assertThat(event.type()).isEqualTo(type);

    if (event instanceof StreamEvent.SessionStarted session) {
      assertThat(session.sessionId()).isEqualTo(node.get("session_id").textValue());
      assertThat(session.messageId()).isEqualTo(node.get("message_id").textValue());
    } else if (event instanceof StreamEvent.IntentDecided intent) {
      assertThat(intent.rawIntent()).isEqualTo(node.get("intent").textValue());
      assertThat(intent.intent()).isEqualTo(Intent.fromWire(intent.rawIntent()));
    } else if (event instanceof StreamEvent.Token token) {
      assertThat(token.content()).isEqualTo(node.get("content").textValue());
    } else if (event instanceof StreamEvent.CandidatesFound found) {
      JsonNode array = node.get("candidates");
      int expected = array == null || array.isNull() ? 0 : array.size();
      assertThat(found.candidates()).hasSize(expected);
      List<String> ids = new ArrayList<>();
      for (Candidate candidate : found.candidates()) {
        assertThat(candidate.profileId()).isNotNull();
        assertThat(candidate.extra()).doesNotContainKeys("profile_id", "name", "headline", "score");
        ids.add(candidate.profileId());
      }
      for (int i = 0; i < expected; i++) {
        assertThat(ids.get(i)).isEqualTo(array.get(i).get("profile_id").textValue());
      }
    } else if (event instanceof StreamEvent.ActionProposed proposed) {
      assertThat(proposed.action()).isNotNull();
      assertThat(proposed.action().fields().keySet())
          .containsExactlyInAnyOrderElementsOf(fieldNames(node.get("action")));
    } else if (event instanceof StreamEvent.Done done) {
      assertThat(done.finishReason()).isNotNull();
      Usage usage = done.usage();
      if (usage != null) {
        assertThat(usage.promptTokens()).as("prompt_tokens").isNotNegative();
        assertThat(usage.completionTokens()).as("completion_tokens").isNotNegative();
        assertThat(usage.totalTokens()).as("total_tokens").isNotNegative();
      }
    } else if (event instanceof StreamEvent.Unknown unknown) {
      assertThat(KNOWN_TYPES).doesNotContain(type);
      assertThat(unknown.fields().keySet()).containsExactlyInAnyOrderElementsOf(fieldNames(node));
    }
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
