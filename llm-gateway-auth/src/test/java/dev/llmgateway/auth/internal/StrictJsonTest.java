package dev.llmgateway.auth.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StrictJsonTest {
  private static final CharsetDecoder STRICT = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT)
      .onUnmappableCharacter(CodingErrorAction.REPORT);

  /** What parseObject accepted before it parsed bytes directly: the JDK's reporting decoder, no NUL. */
  private static boolean jdkAccepts(byte[] bytes) {
    try {
      return STRICT.decode(ByteBuffer.wrap(bytes)).toString().indexOf('\0') < 0;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private static void assertAgreesWithTheJdk(byte[] bytes) {
    boolean jdk = jdkAccepts(bytes);
    if (StrictJson.isWellFormedUtf8(bytes) != jdk) {
      // Only on a disagreement: formatting the bytes for each of a million cases would dominate the test.
      assertThat(StrictJson.isWellFormedUtf8(bytes)).as("bytes %s", hex(bytes)).isEqualTo(jdk);
    }
  }

  private static String hex(byte[] bytes) {
    StringBuilder out = new StringBuilder();
    for (byte b : bytes) {
      out.append(String.format("%02x ", b & 0xFF));
    }
    return out.toString();
  }

  @Test
  void judgesEveryOneAndTwoByteSequenceAsTheJdkDecoderDoes() {
    for (int a = 0; a < 256; a++) {
      assertAgreesWithTheJdk(new byte[] {(byte) a});
      for (int b = 0; b < 256; b++) {
        assertAgreesWithTheJdk(new byte[] {(byte) a, (byte) b});
      }
    }
  }

  @Test
  void judgesEveryThreeByteSequenceFromALeadByteAsTheJdkDecoderDoes() {
    for (int a = 0xC0; a < 256; a++) {
      for (int b = 0; b < 256; b++) {
        for (int c = 0; c < 256; c += (c < 0x70 || c > 0xC4) ? 7 : 1) {
          assertAgreesWithTheJdk(new byte[] {(byte) a, (byte) b, (byte) c});
        }
      }
    }
  }

  @Test
  void judgesFourByteSequencesAtEveryBoundaryAsTheJdkDecoderDoes() {
    int[] interesting = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED,
        0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
    for (int a = 0xF0; a < 256; a++) {
      for (int b : interesting) {
        for (int c : interesting) {
          for (int d : interesting) {
            assertAgreesWithTheJdk(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
          }
        }
      }
    }
  }

  @Test
  void judgesRandomByteStringsAsTheJdkDecoderDoes() {
    SplittableRandom random = new SplittableRandom(16);
    for (int i = 0; i < 50_000; i++) {
      byte[] bytes = new byte[1 + random.nextInt(12)];
      for (int j = 0; j < bytes.length; j++) {
        // Mostly high bytes, so that multi-byte sequences and their boundaries come up often.
        bytes[j] = (byte) (random.nextInt(4) == 0 ? random.nextInt(0x80) : 0x80 + random.nextInt(0x80));
      }
      assertAgreesWithTheJdk(bytes);
    }
  }

  @Test
  void parsesAnObjectWithNonAsciiText() {
    assertThat(StrictJson.parseObject("{\"name\":\"Zoë 🙂\"}".getBytes(StandardCharsets.UTF_8)).get("name").textValue())
        .isEqualTo("Zoë 🙂");
  }

  @Test
  void refusesARepeatedNameWhenParsingBytes() {
    assertThat(StrictJson.parseObject("{\"sub\":\"1\",\"sub\":\"2\"}".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(StrictJson.parseObject("{\"a\":{\"x\":1,\"x\":1}}".getBytes(StandardCharsets.UTF_8))).isNull();
  }

  @Test
  void refusesAByteOrderMarkThatJacksonWouldSkip() {
    assertThat(StrictJson.parseObject(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '}'})).isNull();
  }

  @Test
  void refusesUtf16AndUtf32ThatJacksonWouldDetect() {
    assertThat(StrictJson.parseObject("{\"a\":1}".getBytes(StandardCharsets.UTF_16BE))).isNull();
    assertThat(StrictJson.parseObject("{\"a\":1}".getBytes(StandardCharsets.UTF_16LE))).isNull();
    assertThat(StrictJson.parseObject("{\"a\":1}".getBytes(StandardCharsets.UTF_16))).isNull();
    assertThat(StrictJson.parseObject(new byte[] {0, 0, 0, '{', 0, 0, 0, '}'})).isNull();
  }

  @Test
  void refusesMalformedUtf8InsideAString() {
    assertThat(StrictJson.parseObject(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0x80, '"', '}'}))
        .isNull();
    assertThat(StrictJson.parseObject(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80,
        '"', '}'})).isNull();
  }

  @Test
  void refusesTrailingDataAndNonObjects() {
    assertThat(StrictJson.parseObject("{} {}".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(StrictJson.parseObject("[1]".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(StrictJson.parseObject(new byte[0])).isNull();
  }
}
