package dev.llmgateway.sse.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.util.Random;
import okio.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Utf8Test {
  /** Expected values follow the WHATWG Encoding standard's UTF-8 decoder (maximal subparts). */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "41, 0041",
    "c3a9, 00E9",
    "e282ac, 20AC",
    "f09f9880, D83D DE00",
    "ff, FFFD",
    "80, FFFD",
    "c0 80, FFFD FFFD",
    "c1bf, FFFD FFFD",
    "e282, FFFD",
    "e28241, FFFD 0041",
    "f09f98, FFFD",
    "f09f9841, FFFD 0041",
    "e08080, FFFD FFFD FFFD",
    "e09f80, FFFD FFFD FFFD",
    "e0a080, 0800",
    "eda080, FFFD FFFD FFFD",
    "edbfbf, FFFD FFFD FFFD",
    "eda041, FFFD FFFD 0041",
    "ed9fbf, D7FF",
    "ed, FFFD",
    "f0808080, FFFD FFFD FFFD FFFD",
    "f48f bfbf, DBFF DFFF",
    "f4908080, FFFD FFFD FFFD FFFD",
    "f5, FFFD",
    "f888808080, FFFD FFFD FFFD FFFD FFFD",
    "e2e282ac, FFFD 20AC",
    "efbbbf41, FEFF 0041",
  })
  void decodesLikeWhatwg(String hex, String expectedUtf16) throws EOFException {
    byte[] bytes = hex(hex);
    String expected = utf16(expectedUtf16);
    assertThat(codeUnits(Utf8.decode(bytes))).isEqualTo(codeUnits(expected));
    Buffer buffer = new Buffer().write(bytes).writeUtf8("rest");
    assertThat(codeUnits(Utf8.readUtf8(buffer, bytes.length))).isEqualTo(codeUnits(expected));
    assertThat(buffer.readUtf8()).isEqualTo("rest");
  }

  /** The fast path is only taken for bytes without 0xED, where the JDK agrees with WHATWG. */
  @Test
  void agreesWithTheJdkOnRandomBytesWithoutEd() {
    Random random = new Random(42);
    int[] interesting = {
      0x00, 0x41, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xef, 0xf0,
      0xf4, 0xf5, 0xff
    };
    for (int i = 0; i < 100_000; i++) {
      byte[] bytes = new byte[1 + random.nextInt(8)];
      for (int j = 0; j < bytes.length; j++) {
        bytes[j] =
            (byte)
                (random.nextBoolean()
                    ? interesting[random.nextInt(interesting.length)]
                    : random.nextInt(256));
        if (bytes[j] == (byte) 0xED) {
          bytes[j] = 0x41;
        }
      }
      String jdk = new String(bytes, UTF_8);
      String whatwg = Utf8.decode(bytes);
      if (!whatwg.equals(jdk)) {
        assertThat(codeUnits(whatwg))
            .as("bytes %s", new Buffer().write(bytes).readByteString().hex())
            .isEqualTo(codeUnits(jdk));
      }
    }
  }

  @Test
  void decodesValidTextExactly() {
    String text = "a\u00e9\u20ac\uD83D\uDE00\uD7FF\uE000\uFFFF\uDBFF\uDFFF";
    assertThat(Utf8.decode(text.getBytes(UTF_8))).isEqualTo(text);
  }

  private static byte[] hex(String hex) {
    String h = hex.replace(" ", "");
    byte[] bytes = new byte[h.length() / 2];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
    }
    return bytes;
  }

  private static String utf16(String codeUnits) {
    StringBuilder sb = new StringBuilder();
    for (String unit : codeUnits.trim().split(" +")) {
      sb.append((char) Integer.parseInt(unit, 16));
    }
    return sb.toString();
  }

  private static String codeUnits(String s) {
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) {
      sb.append(String.format("%04X ", (int) c));
    }
    return sb.toString().trim();
  }
}
