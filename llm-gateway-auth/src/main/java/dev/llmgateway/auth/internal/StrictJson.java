package dev.llmgateway.auth.internal;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
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
    // Jackson reads the bytes itself (no String in between), but it guesses the encoding from the
    // first bytes (UTF-16/32 from zero bytes, a UTF-8 byte order mark skipped) and its UTF-8
    // decoding is not documented as complete; so the bytes are first checked to be well-formed
    // UTF-8 exactly as a reporting CharsetDecoder would, with no NUL (never valid in JSON text, and
    // what the encoding guess looks for) and no byte order mark (refused before this change too).
    if (!isWellFormedUtf8(utf8) || hasByteOrderMark(utf8)) {
      return null;
    }
    try {
      JsonNode node = MAPPER.readTree(utf8);
      return node instanceof ObjectNode ? (ObjectNode) node : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static boolean hasByteOrderMark(byte[] utf8) {
    return utf8.length >= 3 && utf8[0] == (byte) 0xEF && utf8[1] == (byte) 0xBB && utf8[2] == (byte) 0xBF;
  }

  /**
   * Returns whether {@code bytes} are well-formed UTF-8 (Unicode Table 3-7: no overlong forms, no
   * surrogates, nothing above U+10FFFF, no truncated sequence) holding no NUL. Allocates nothing.
   *
   * @param bytes the bytes
   * @return true if well-formed and NUL-free
   */
  static boolean isWellFormedUtf8(byte[] bytes) {
    int i = 0;
    int n = bytes.length;
    while (i < n) {
      int b = bytes[i];
      if (b > 0) {
        i++;
        continue;
      }
      if (b == 0) {
        return false;
      }
      b &= 0xFF;
      if (b >= 0xC2 && b <= 0xDF) {
        if (i + 1 >= n || !isContinuation(bytes[i + 1], 0x80, 0xBF)) {
          return false;
        }
        i += 2;
      } else if (b >= 0xE0 && b <= 0xEF) {
        int low = b == 0xE0 ? 0xA0 : 0x80;
        int high = b == 0xED ? 0x9F : 0xBF;
        if (i + 2 >= n || !isContinuation(bytes[i + 1], low, high) || !isContinuation(bytes[i + 2], 0x80, 0xBF)) {
          return false;
        }
        i += 3;
      } else if (b >= 0xF0 && b <= 0xF4) {
        int low = b == 0xF0 ? 0x90 : 0x80;
        int high = b == 0xF4 ? 0x8F : 0xBF;
        if (i + 3 >= n || !isContinuation(bytes[i + 1], low, high) || !isContinuation(bytes[i + 2], 0x80, 0xBF)
            || !isContinuation(bytes[i + 3], 0x80, 0xBF)) {
          return false;
        }
        i += 4;
      } else {
        return false;
      }
    }
    return true;
  }

  private static boolean isContinuation(byte b, int low, int high) {
    int u = b & 0xFF;
    return u >= low && u <= high;
  }
}
