package dev.llmgateway.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class GeneratorsTest {
  private final RandomGenerator random = new SplittableRandom(42);

  /** Answers the lowest value every time, as a fuzzer's input does once it has run out. */
  private static final RandomGenerator LOWEST =
      new RandomGenerator() {
        @Override
        public long nextLong() {
          return 0;
        }

        @Override
        public int nextInt(int bound) {
          return 0;
        }

        @Override
        public int nextInt(int origin, int bound) {
          return origin;
        }
      };

  @Test
  void stringsHoldOnlyTheirKindOfChars() {
    for (int i = 0; i < 2000; i++) {
      assertThat(Generators.ascii(random, 8)).hasSizeLessThanOrEqualTo(8).matches("\\p{ASCII}*");
      assertThat(Generators.validBmp(random, 4).chars().noneMatch(c -> Character.isSurrogate((char) c))).isTrue();
      assertThat(Generators.supplementary(random).codePoints()).singleElement()
          .matches(Character::isSupplementaryCodePoint);
      assertThat(Generators.loneSurrogate(random)).hasSize(1)
          .matches(s -> Character.isSurrogate(s.charAt(0)));
    }
  }

  @Test
  void anyCharsReachesSurrogatesAndTheEndsOfTheRange() {
    Set<Character> kinds = new HashSet<>();
    boolean surrogate = false;
    for (int i = 0; i < 20_000; i++) {
      for (char c : Generators.anyChars(random, 4).toCharArray()) {
        surrogate |= Character.isSurrogate(c);
        kinds.add(c);
      }
    }
    assertThat(surrogate).isTrue();
    assertThat(kinds).hasSizeGreaterThan(20_000);
  }

  @Test
  void longLinesOutgrowAnIoBufferAndHoldNoLineBreak() {
    for (int i = 0; i < 20; i++) {
      String line = Generators.longLine(random);
      assertThat(line.length()).isBetween(Generators.LONG_LINE_MIN_CHARS, Generators.LONG_LINE_MAX_CHARS);
      assertThat(line).doesNotContain("\r", "\n");
      assertThat(line.codePoints()).as("unpaired surrogates").noneMatch(cp -> cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE);
    }
  }

  @Test
  void weightedChoicesFollowTheirWeights() {
    int[] counts = new int[3];
    for (int i = 0; i < 40_000; i++) {
      counts[Generators.weighted(random, 1, 2, 1)]++;
    }
    assertThat(counts[1]).isBetween(19_000, 21_000);
    assertThat(counts[0]).isBetween(9_000, 11_000);
    assertThat(counts[2]).isBetween(9_000, 11_000);
  }

  @Test
  void aSourceOfLowestValuesGivesSmallThingsAndEndsLists() {
    assertThat(Generators.listOf(LOWEST, 10, r -> "x")).isEmpty();
    assertThat(Generators.concat(LOWEST, 10, r -> "x")).isEmpty();
    assertThat(Generators.weighted(LOWEST, 5, 1)).isZero();
    assertThat(Generators.pick(LOWEST, List.of("a", "b"))).isEqualTo("a");
    assertThat(Generators.ascii(LOWEST, 8)).isEmpty();
  }

  @Test
  void showMakesControlCharsAndNonAsciiVisible() {
    assertThat(Generators.show("a\r\n\t\u0000\\b\u001f\u00e9\ud83d\ude00\udc00"))
        .isEqualTo("a\\r\\n\\t\\0\\\\b\\u001F\\u00E9\\uD83D\\uDE00\\uDC00");
    assertThat(Generators.show(List.of("x", "y"))).isEqualTo("[x, y]");
  }

  @Test
  void showGivesALongRunOfAUnitOnceWithItsCount() {
    assertThat(Generators.show("[" + "x\ud83d\ude00".repeat(100) + "x]"))
        .isEqualTo("[\u00ABx\\uD83D\\uDE00\u00BB\u00D7100x]");
    assertThat(Generators.show("y".repeat(Generators.MIN_RUN_CHARS)))
        .isEqualTo("\u00ABy\u00BB\u00D7" + Generators.MIN_RUN_CHARS);
    String shortRun = "ab".repeat(Generators.MIN_RUN_CHARS / 2 - 1);
    assertThat(Generators.show(shortRun)).isEqualTo(shortRun);
  }

  @Test
  void showCutsLongText() {
    StringBuilder text = new StringBuilder();
    for (int i = 0; text.length() < Generators.MAX_SHOWN_CHARS + 5; i++) {
      text.append(i % 10);
    }
    String shown = Generators.show(text);

    assertThat(shown).startsWith("0123").endsWith("...(5 more chars)");
    assertThat(shown).hasSize(Generators.MAX_SHOWN_CHARS + "...(5 more chars)".length());
  }
}
