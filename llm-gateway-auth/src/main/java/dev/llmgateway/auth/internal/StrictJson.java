package dev.llmgateway.auth.internal;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Reads signed or to-be-verified JSON (token headers and payloads, webhook bodies) strictly:
 * exactly one JSON object in UTF-8, nothing but whitespace after it, no name twice in any object,
 * nesting within Jackson's default limit. Two readers that resolve a duplicate name differently
 * (first wins, last wins) would act on different claims of the same signed bytes, so such input is
 * refused, not resolved. Thread-safe.
 */
public final class StrictJson {
  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private StrictJson() {}

  /**
   * Parses {@code utf8} as exactly one JSON object.
   *
   * @param utf8 the bytes
   * @return the object, or null when the bytes are not valid UTF-8, not JSON, not an object, have
   *     data after the object, repeat a name within an object or nest too deeply; the reason is
   *     left out, since a parser's message may quote the input
   */
  public static @Nullable ObjectNode parseObject(byte[] utf8) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(utf8))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    try {
      JsonNode node = MAPPER.readTree(text);
      return node instanceof ObjectNode ? (ObjectNode) node : null;
    } catch (IOException e) {
      return null;
    }
  }
}
