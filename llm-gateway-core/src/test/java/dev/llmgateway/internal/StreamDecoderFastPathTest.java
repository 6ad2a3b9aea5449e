package dev.llmgateway.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.Intent;
import dev.llmgateway.StreamEvent;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link StreamDecoder#decode(String)} reads flat events with a streaming parser: these pin what such
 * a fast path could get wrong, each against the value the tree decodes ({@link
 * StreamDecoder#parseObject} then {@link StreamDecoder#decode(JsonNode, String)}), and where it
 * matters against the expected value itself.
 */
class StreamDecoderFastPathTest {

  @Test
  void escapedCharactersInContentAreUnescaped() throws Exception {
    String data = "{\"type\":\"token\",\"content\":\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f e\"}";

    assertThat(token(data)).isEqualTo("a\"b\\c/d\n\t\r\b\f e");
  }

  @Test
  void unicodeEscapesAndSurrogatePairsInContentBecomeTheirCharacters() throws Exception {
    String escaped = "{\"type\":\"token\",\"content\":\"\\u00e9\\uD83D\\uDE00\\u0000\"}";
    String raw = "{\"type\":\"token\",\"content\":\"é😀日本\"}";

    assertThat(token(escaped)).isEqualTo("é😀\u0000");
    assertThat(token(raw)).isEqualTo("é😀日本");
  }

  @Test
  void fieldsMayComeInAnyOrder() throws Exception {
    assertThat(token("{\"content\":\"x\",\"type\":\"token\"}")).isEqualTo("x");
    assertThat(StreamDecoder.decode("{\"message_id\":\"m\",\"x\":1,\"session_id\":\"s\",\"type\":\"session\"}"))
        .isEqualTo(new StreamEvent.SessionStarted("s", "m", "{\"message_id\":\"m\",\"x\":1,\"session_id\":\"s\",\"type\":\"session\"}"));
  }

  @Test
  void aNameGivenTwiceIsLastWinsAsInTheTree() throws Exception {
    assertThat(token("{\"type\":\"token\",\"content\":\"first\",\"content\":\"last\"}")).isEqualTo("last");
    assertThat(token("{\"type\":\"session\",\"content\":\"x\",\"type\":\"token\"}")).isEqualTo("x");
    assertThat(token("{\"type\":\"token\",\"content\":7,\"content\":\"text\"}")).isEqualTo("text");
    assertThat(StreamDecoder.decode("{\"type\":\"token\",\"content\":\"x\",\"type\":\"error\",\"code\":\"c\"}"))
        .isEqualTo(new StreamDecoder.ServiceError("c", "", false));
    assertThatThrownBy(() -> StreamDecoder.decode("{\"type\":\"token\",\"content\":\"x\",\"content\":null}"))
        .isInstanceOf(Json.MalformedJsonException.class)
        .hasMessage("required field content is missing");
  }

  @Test
  void numbersInStringsStayTextAndANumberIsNotAString() throws Exception {
    assertThat(token("{\"type\":\"token\",\"content\":\"42\"}")).isEqualTo("42");
    assertThatThrownBy(() -> StreamDecoder.decode("{\"type\":\"token\",\"content\":42}"))
        .isInstanceOf(Json.MalformedJsonException.class)
        .hasMessage("field content is not a string");
    assertThatThrownBy(() -> StreamDecoder.decode("{\"type\":\"intent\",\"intent\":true}"))
        .isInstanceOf(Json.MalformedJsonException.class)
        .hasMessage("field intent is not a string");
  }

  @Test
  void nestedUnknownFieldsAreSkippedAndKeptInJson() throws Exception {
    String data = "{\"type\":\"token\",\"meta\":{\"a\":[1,{\"b\":null,\"content\":\"no\"}],\"c\":\"}\"},\"content\":\"x\",\"n\":[]}";

    assertThat(StreamDecoder.decode(data)).isEqualTo(new StreamEvent.Token("x", data));
  }

  @Test
  void intentAndSessionAreTyped() throws Exception {
    String intent = "{\"type\":\"intent\",\"intent\":\"search\"}";
    String other = "{\"type\":\"intent\",\"intent\":\"mystery\"}";

    assertThat(StreamDecoder.decode(intent)).isEqualTo(new StreamEvent.IntentDecided(Intent.fromWire("search"), "search", intent));
    assertThat(StreamDecoder.decode(other)).isEqualTo(new StreamEvent.IntentDecided(Intent.UNKNOWN, "mystery", other));
  }

  @Test
  void malformedOrTrailingDataIsNotAnObject() throws Exception {
    for (String data : List.of(
        "{\"type\":\"token\",\"content\":\"x\"",
        "{\"type\":\"token\",\"content\":\"x\"}}",
        "{\"type\":\"token\",\"content\":\"x\"}{}",
        "{\"type\":\"token\",\"content\":\"x\"} x",
        "{\"type\":\"token\",\"meta\":{\"a\":},\"content\":\"x\"}",
        "{\"type\":\"token\",\"meta\":[1,],\"content\":\"x\"}",
        "{\"type\":\"token\",\"n\":01,\"content\":\"x\"}",
        "{\"type\":\"token\",\"content\":\"x\\q\"}",
        "{\"type\":\"token\",\"content\":\"x\",}",
        "{'type':'token','content':'x'}",
        "[{\"type\":\"token\",\"content\":\"x\"}]",
        "\"token\"",
        "",
        "  ")) {
      assertThat(StreamDecoder.decode(data)).as(data).isNull();
    }
  }

  @ParameterizedTest
  @MethodSource("edgeCases")
  void decodesExactlyAsTheTree(String data) {
    assertThat(outcome(() -> StreamDecoder.decode(data))).as(data).isEqualTo(outcome(() -> tree(data)));
  }

  static List<String> edgeCases() {
    String deep = "[".repeat(1_001) + "]".repeat(1_001);
    String shallow = "[".repeat(900) + "]".repeat(900);
    return List.of(
        "{\"type\":\"token\",\"content\":\"\"}",
        "{\"type\":\"token\"}",
        "{\"content\":\"x\"}",
        "{\"type\":null,\"content\":\"x\"}",
        "{\"type\":\"TOKEN\",\"content\":\"x\"}",
        "{\"type\":\"tokens\",\"content\":\"x\"}",
        "{\"type\":\"toke\",\"content\":\"x\"}",
        "{\"type\":\"\\u0074oken\",\"content\":\"x\"}",
        "{\"type\":\"session\",\"session_id\":\"s\",\"message_id\":\"m\",\"intent\":5}",
        "{\"type\":\"token\",\"content\":{\"text\":\"x\"}}",
        "{\"type\":\"token\",\"content\":[\"x\"]}",
        "{\"type\":\"token\",\"content\":\"x\",\"session_id\":5}",
        "{\"type\":\"session\",\"session_id\":\"s\"}",
        "{\"type\":\"session\",\"session_id\":\"s\",\"message_id\":null}",
        "{\"type\":\"intent\"}",
        "{\"type\":\"done\"}",
        "{\"type\":\"done\",\"content\":\"x\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}",
        "{\"type\":\"error\",\"content\":\"x\",\"message\":{\"a\":1}}",
        "{\"type\":\"brand-new\",\"content\":\"x\",\"more\":{\"a\":[1,2]}}",
        "{\"type\":\"token\",\"content\":\"x\",\"deep\":" + deep + "}",
        "{\"type\":\"token\",\"content\":\"x\",\"deep\":" + shallow + "}",
        "{\"type\":\"token\",\"content\":\"x\",\"big\":" + "9".repeat(2_000) + "}",
        "{\"type\":\"token\",\"content\":\"x\",\"big\":1e999999999}",
        "{\"type\":\"token\",\"content\":\"x\",\"nan\":NaN}",
        "{\"type\":\"token\",\"content\":\"x\"/*c*/}",
        "{\"type\":\"token\",\"content\":\"\\uD83D\"}",
        "{\"type\":\"token\",\"content\":\"tab\there\"}",
        " \n{\"type\":\"token\",\"content\":\"x\"}\n ");
  }

  private static String token(String data) throws Json.MalformedJsonException {
    Object decoded = StreamDecoder.decode(data);
    assertThat(decoded).as(data).isEqualTo(outcome(() -> tree(data)));
    return ((StreamEvent.Token) decoded).content();
  }

  private static @Nullable Object tree(String data) throws Json.MalformedJsonException {
    JsonNode node = StreamDecoder.parseObject(data);
    return node == null ? null : StreamDecoder.decode(node, data);
  }

  private interface Decoding {
    @Nullable Object run() throws Json.MalformedJsonException;
  }

  /** The decoded value, "null", or the error's class and message. */
  private static Object outcome(Decoding decoding) {
    try {
      Object decoded = decoding.run();
      return decoded == null ? "null" : decoded;
    } catch (Json.MalformedJsonException e) {
      return "MalformedJsonException: " + e.getMessage();
    }
  }
}
