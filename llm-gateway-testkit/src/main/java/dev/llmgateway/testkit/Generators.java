package dev.llmgateway.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * Building blocks of generated inputs for {@link PropertyChecks}: weighted choices, lists, and
 * strings of the kinds that break text formats (ASCII, any UTF-16 unit including unpaired
 * surrogates, valid BMP text, supplementary characters, lines longer than an I/O buffer). Each draws
 * only from the {@link RandomGenerator} it is given, so a seed replays it; given a source that
 * always answers the lowest value (as a fuzzer's input does once it runs out), each returns
 * something small and lists end.
 *
 * <p>Thread-safe: holds no state.
 */
public final class Generators {
  /** The shortest {@linkplain #longLine(RandomGenerator) long line}: longer than an 8 KiB buffer. */
  public static final int LONG_LINE_MIN_CHARS = 8 * 1024 + 1;
  /** The longest {@linkplain #longLine(RandomGenerator) long line}. */
  public static final int LONG_LINE_MAX_CHARS = 40 * 1024;
  /** How many characters {@link #show(Object)} shows before it cuts the rest. */
  public static final int MAX_SHOWN_CHARS = 2000;
  /** The longest unit {@link #show(Object)} shows once for a run of it. */
  public static final int MAX_RUN_UNIT = 8;
  /** The shortest run {@link #show(Object)} shows as its unit and a count. */
  public static final int MIN_RUN_CHARS = 64;

  private Generators() {}

  /**
   * One of {@code choices}, each as likely.
   *
   * @param <T> the choices' type
   * @param random the choices to draw from
   * @param choices at least one
   * @return the chosen one
   */
  public static <T> T pick(RandomGenerator random, List<T> choices) {
    return choices.get(random.nextInt(choices.size()));
  }

  /**
   * An index into {@code weights}, each as likely as its weight says: {@code weighted(r, 3, 1)} is 0
   * three times out of four. Index 0 comes out of a source that answers its lowest value, so list the
   * smallest choice first.
   *
   * @param random the choices to draw from
   * @param weights positive weights
   * @return the chosen index
   */
  public static int weighted(RandomGenerator random, int... weights) {
    int total = 0;
    for (int weight : weights) {
      total += weight;
    }
    int r = random.nextInt(total);
    for (int i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) {
        return i;
      }
    }
    throw new AssertionError("unreachable: weights " + total);
  }

  /**
   * A list of 0 to {@code maxSize} elements, every size as likely.
   *
   * @param <T> the elements' type
   * @param random the choices to draw from
   * @param maxSize the most elements
   * @param element makes up each element
   * @return a new list
   */
  public static <T> List<T> listOf(
      RandomGenerator random, int maxSize, Function<RandomGenerator, T> element) {
    int size = random.nextInt(maxSize + 1);
    List<T> list = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      list.add(element.apply(random));
    }
    return list;
  }

  /**
   * The concatenation of 0 to {@code maxPieces} pieces: empty once in {@code maxPieces + 1}.
   *
   * @param random the choices to draw from
   * @param maxPieces the most pieces
   * @param piece makes up each piece
   * @return the text
   */
  public static String concat(
      RandomGenerator random, int maxPieces, Function<RandomGenerator, String> piece) {
    return String.join("", listOf(random, maxPieces, piece));
  }

  /**
   * ASCII text (U+0000 to U+007F, control characters included) of 0 to {@code maxLength} chars.
   *
   * @param random the choices to draw from
   * @param maxLength the most chars
   * @return the text
   */
  public static String ascii(RandomGenerator random, int maxLength) {
    return chars(random, maxLength, r -> (char) r.nextInt(0x80));
  }

  /**
   * Text of 0 to {@code maxLength} arbitrary UTF-16 units: any {@code char}, so unpaired surrogates,
   * noncharacters and the byte order mark too.
   *
   * @param random the choices to draw from
   * @param maxLength the most chars
   * @return the text
   */
  public static String anyChars(RandomGenerator random, int maxLength) {
    return chars(random, maxLength, r -> (char) r.nextInt(Character.MAX_VALUE + 1));
  }

  /**
   * Valid text of 0 to {@code maxLength} chars of the Basic Multilingual Plane: any {@code char}
   * but a surrogate.
   *
   * @param random the choices to draw from
   * @param maxLength the most chars
   * @return the text
   */
  public static String validBmp(RandomGenerator random, int maxLength) {
    return chars(random, maxLength, Generators::bmpChar);
  }

  /**
   * One supplementary character (U+10000 to U+10FFFF): a surrogate pair, four bytes in UTF-8.
   *
   * @param random the choices to draw from
   * @return the character as a string of two chars
   */
  public static String supplementary(RandomGenerator random) {
    return Character.toString(random.nextInt(0x10000, Character.MAX_CODE_POINT + 1));
  }

  /**
   * One unpaired surrogate (U+D800 to U+DFFF), which UTF-8 cannot encode.
   *
   * @param random the choices to draw from
   * @return the surrogate as a string of one char
   */
  public static String loneSurrogate(RandomGenerator random) {
    return String.valueOf(
        (char) random.nextInt(Character.MIN_SURROGATE, Character.MAX_SURROGATE + 1));
  }

  /**
   * A line of {@value #LONG_LINE_MIN_CHARS} to {@value #LONG_LINE_MAX_CHARS} chars of valid text
   * without CR or LF: a short unit (ASCII, a BMP character or a supplementary one) repeated, so that
   * multi-byte characters straddle buffer boundaries.
   *
   * @param random the choices to draw from
   * @return the line
   */
  public static String longLine(RandomGenerator random) {
    int length = random.nextInt(LONG_LINE_MIN_CHARS, LONG_LINE_MAX_CHARS + 1);
    String unit =
        switch (weighted(random, 2, 1, 1)) {
          case 0 -> "x" + ascii(random, 7);
          case 1 -> "x" + bmpChar(random);
          default -> "x" + supplementary(random);
        };
    unit = unit.replace('\r', ' ').replace('\n', ' ');
    StringBuilder sb = new StringBuilder(length + unit.length());
    while (sb.length() < length) {
      sb.append(unit);
    }
    sb.setLength(length);
    if (Character.isHighSurrogate(sb.charAt(length - 1))) {
      sb.setCharAt(length - 1, 'x'); // cut in the middle of a pair
    }
    return sb.toString();
  }

  /**
   * {@code String.valueOf(value)} made readable in a failure message: CR, LF, tab, NUL and backslash
   * as {@code \r \n \t \0 \\}, other control characters and every non-ASCII char as a Java
   * unicode escape of its four hex digits (so a surrogate pair shows as its two units, an unpaired surrogate as one); a unit of up to
   * {@value #MAX_RUN_UNIT} chars repeated into a run of at least {@value #MIN_RUN_CHARS} chars (as in
   * a {@linkplain #longLine(RandomGenerator) long line}) as {@code «unit»×count}, the marks being
   * non-ASCII so never the text's own; cut after {@value #MAX_SHOWN_CHARS} chars, with the number of
   * chars left out.
   *
   * @param value any value, such as a record of generated strings
   * @return the readable text
   */
  public static String show(Object value) {
    String text = String.valueOf(value);
    StringBuilder sb = new StringBuilder(Math.min(text.length(), MAX_SHOWN_CHARS) + 16);
    int i = 0;
    while (i < text.length() && sb.length() < MAX_SHOWN_CHARS) {
      int unit = runUnit(text, i);
      if (unit > 0) {
        int count = 1;
        while (text.startsWith(text.substring(i, i + unit), i + count * unit)) {
          count++;
        }
        sb.append('«');
        escape(text, i, i + unit, sb);
        sb.append("»×").append(count);
        i += unit * count;
      } else {
        escape(text, i, i + 1, sb);
        i++;
      }
    }
    if (i < text.length()) {
      sb.append("...(").append(text.length() - i).append(" more chars)");
    }
    return sb.toString();
  }

  /** The length of the shortest unit that repeats into a long run at {@code start}, or 0. */
  private static int runUnit(String text, int start) {
    for (int unit = 1; unit <= MAX_RUN_UNIT; unit++) {
      int end = start + MIN_RUN_CHARS;
      if (end > text.length()) {
        return 0;
      }
      boolean run = true;
      for (int j = start + unit; j < end && run; j++) {
        run = text.charAt(j) == text.charAt(j - unit);
      }
      if (run) {
        return unit;
      }
    }
    return 0;
  }

  private static void escape(String text, int start, int end, StringBuilder sb) {
    for (int i = start; i < end; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\r' -> sb.append("\\r");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\0' -> sb.append("\\0");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (c < 0x20 || c > 0x7E) {
            sb.append(String.format("\\u%04X", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
  }

  private static char bmpChar(RandomGenerator random) {
    int c = random.nextInt(0x10000 - (Character.MAX_SURROGATE - Character.MIN_SURROGATE + 1));
    return (char) (c < Character.MIN_SURROGATE ? c : c + 0x800);
  }

  private static String chars(
      RandomGenerator random, int maxLength, Function<RandomGenerator, Character> character) {
    int length = random.nextInt(maxLength + 1);
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(character.apply(random).charValue());
    }
    return sb.toString();
  }
}
