package dev.llmgateway.sse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.llmgateway.testkit.Generators;
import dev.llmgateway.testkit.PropertyChecks;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;
import okio.Buffer;
import okio.Okio;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Properties of the writer and reader together: what {@link SseWriter} writes reads back as the
 * events written, however the bytes are split; values the format cannot carry are refused.
 *
 * <p>"Reads back as written" means: line breaks in data (CR, LF, CRLF) come back as LF, an empty
 * type as {@value ServerSentEvent#DEFAULT_TYPE}, and an unpaired surrogate, which UTF-8 cannot
 * encode, as {@code ?} (both documented on {@link SseWriter}).
 *
 * <p>Each property is checked on seeded, repeatable generated inputs ({@link PropertyChecks}: a
 * failure names the seed and the case, and shows its input). The round trip is also a Jazzer fuzz
 * test over the same generator, with the fuzzer making the choices: {@code verify} runs it on its
 * seeds ({@code SseRoundTripPropertyTestInputs/}), {@code .ci/fuzz} fuzzes it. A seed is a list of
 * choices, not a stream: once the generator changes, it makes a different (still valid) input.
 */
class SseRoundTripPropertyTest {
  static final int RUNS = 500;
  static final int REFUSAL_RUNS = 300;
  /** A written stream up to this size is also read split in two at every byte. */
  static final int EVERY_SPLIT_MAX_BYTES = 256;
  /** A written stream up to this size is also read byte by byte (a long line is read in chunks). */
  static final int BYTEWISE_MAX_BYTES = 16 * 1024;

  /** Pieces of text that matter to the format. */
  static final List<String> SPECIAL =
      List.of(
          "\r", "\n", "\r\n", "\n\r", "\r\r", "\u0000", ":", " ", "  ", "\uFEFF", "\uFFFD", "?",
          "data: ", "id: ", "event: ", "retry: 1", ": ping", "[DONE]", "\u2028", "\u0085");
  static final List<String> LINE_BREAKS = List.of("\r", "\n", "\r\n");
  static final List<String> LINE_BREAKS_AND_NUL = List.of("\r", "\n", "\r\n", "\u0000");

  /** Something the writer writes: an event, a comment or a retry field. */
  sealed interface Item {}

  record EventItem(ServerSentEvent event) implements Item {}

  record CommentItem(String text) implements Item {}

  record RetryItem(long millis) implements Item {}

  /** Events and comments in order, plus the final reader state. */
  record Transcript(List<Object> log, @Nullable Duration retry, @Nullable String lastEventId) {}

  record Comment(String text) {}

  /** Items to write, and the sizes of the chunks to read them in (repeated; none: whole). */
  record RoundTrip(List<Item> items, List<Integer> chunkSizes) {}

  record OneEvent(String type, String data, @Nullable String id) {}

  record BadType(String before, String lineBreak, String after, String data) {}

  record BadId(@Nullable String before, String bad, @Nullable String after, String data) {}

  // ---------------------------------------------------------------- properties

  /** (a) Any split of a written stream into chunks reads back as the same events and comments. */
  @Test
  void anySplitIntoChunksGivesTheSameEvents() {
    PropertyChecks.forAll(
        RUNS, SseRoundTripPropertyTest::roundTrip, input -> readsBackAsWritten(input, true));
  }

  /**
   * (a), fuzzed: the fuzzer makes the generator's choices, so it reaches items and chunkings the
   * seeded runs do not.
   */
  @FuzzTest(maxDuration = "30s")
  void anySplitIntoChunksGivesTheSameEventsWhenFuzzed(FuzzedDataProvider data) {
    PropertyChecks.check(
        roundTrip(new FuzzedRandom(data)), input -> readsBackAsWritten(input, false));
  }

  /** (b) One event of any type, data and id reads back as itself (normalised as documented). */
  @Test
  void writerNeverProducesAStreamThatParsesIntoADifferentEvent() {
    PropertyChecks.forAll(
        RUNS,
        r -> new OneEvent(type(r), text(r), id(r)),
        input -> {
          ServerSentEvent event = new ServerSentEvent(input.type(), input.data(), input.id());
          byte[] wire = write(List.of(new EventItem(event)));
          Transcript whole = read(List.of(wire));

          assertThat(whole.log()).containsExactly(readBack(event));
          assertReadsAsWholeInEveryChunking(wire, List.of(), true, whole);
        });
  }

  /** (b) A type with CR or LF is refused before anything is written. */
  @Test
  void typeWithALineBreakIsRefused() {
    PropertyChecks.forAll(
        REFUSAL_RUNS,
        r -> new BadType(type(r), Generators.pick(r, LINE_BREAKS), type(r), text(r)),
        input -> {
          String type = input.before() + input.lineBreak() + input.after();
          Buffer sink = new Buffer();
          SseWriter writer = SseWriter.create(sink);

          assertThatThrownBy(() -> writer.write(new ServerSentEvent(type, input.data(), null)))
              .isInstanceOf(IllegalArgumentException.class)
              .hasMessageContaining("type");
          assertThat(sink.size()).isZero();
        });
  }

  /** (b) An id with CR, LF or NUL is refused before anything is written, also as a last id. */
  @Test
  void idWithALineBreakOrNulIsRefused() {
    PropertyChecks.forAll(
        REFUSAL_RUNS,
        r -> new BadId(id(r), Generators.pick(r, LINE_BREAKS_AND_NUL), id(r), text(r)),
        input -> {
          String id =
              (input.before() == null ? "" : input.before())
                  + input.bad()
                  + (input.after() == null ? "" : input.after());
          Buffer sink = new Buffer();
          SseWriter writer = SseWriter.create(sink);

          assertThatThrownBy(() -> writer.write(new ServerSentEvent("message", input.data(), id)))
              .isInstanceOf(IllegalArgumentException.class)
              .hasMessageContaining("id");
          assertThatThrownBy(() -> SseWriter.builder().lastEventId(id))
              .isInstanceOf(IllegalArgumentException.class);
          assertThatThrownBy(() -> SseReader.builder().lastEventId(id))
              .isInstanceOf(IllegalArgumentException.class);
          assertThat(sink.size()).isZero();
        });
  }

  private static void readsBackAsWritten(RoundTrip input, boolean everySplit) throws IOException {
    byte[] wire = write(input.items());
    Transcript whole = read(List.of(wire));

    assertThat(whole).as("read whole").isEqualTo(expected(input.items()));
    assertReadsAsWholeInEveryChunking(wire, input.chunkSizes(), everySplit, whole);
  }

  /**
   * Reads {@code wire} in chunks of {@code chunkSizes}, byte by byte unless it is long, and, if asked
   * and it is small, split in two at every byte: each must read as {@code whole}.
   */
  private static void assertReadsAsWholeInEveryChunking(
      byte[] wire, List<Integer> chunkSizes, boolean everySplit, Transcript whole)
      throws IOException {
    assertThat(read(split(wire, chunkSizes)))
        .as("read in chunks of %s", chunkSizes)
        .isEqualTo(whole);
    if (wire.length <= BYTEWISE_MAX_BYTES) {
      assertThat(read(ChunkedSource.bytewise(wire))).as("read byte by byte").isEqualTo(whole);
    }
    if (everySplit && wire.length <= EVERY_SPLIT_MAX_BYTES) {
      for (int at = 1; at < wire.length; at++) {
        assertThat(read(ChunkedSource.split(wire, at)))
            .as("read split at byte %d of %d", at, wire.length)
            .isEqualTo(whole);
      }
    }
  }

  // ---------------------------------------------------------------- generators

  /**
   * Text mixing the characters that matter to the format with arbitrary Unicode: up to 12 pieces,
   * each a special piece, ASCII, any chars (unpaired surrogates too), a supplementary character, an
   * unpaired surrogate, or, rarely, a line longer than an I/O buffer.
   */
  static String text(RandomGenerator r) {
    return Generators.concat(r, 12, SseRoundTripPropertyTest::piece);
  }

  private static String piece(RandomGenerator r) {
    return switch (Generators.weighted(r, 80, 80, 40, 40, 20, 1)) {
      case 0 -> Generators.pick(r, SPECIAL);
      case 1 -> Generators.ascii(r, 8);
      case 2 -> Generators.anyChars(r, 4);
      case 3 -> Generators.supplementary(r);
      case 4 -> Generators.loneSurrogate(r);
      default -> Generators.longLine(r);
    };
  }

  /** Types: any text without CR or LF (an empty one means message). */
  static String type(RandomGenerator r) {
    return r.nextBoolean()
        ? text(r).replace("\r", "").replace("\n", "")
        : Generators.pick(r, List.of("message", "", "token", "chunk", "complete"));
  }

  /** Ids: null (3 in 10), or any text without CR, LF or NUL (an empty one means null). */
  static @Nullable String id(RandomGenerator r) {
    if (Generators.weighted(r, 3, 7) == 0) {
      return null;
    }
    return r.nextBoolean()
        ? text(r).replace("\r", "").replace("\n", "").replace("\u0000", "")
        : Generators.pick(r, List.of("1", "2", "id-1"));
  }

  /** Up to 10 items (6 events to 2 comments to 1 retry), read in up to 8 chunk sizes of 1 to 64. */
  static RoundTrip roundTrip(RandomGenerator r) {
    List<Item> items = Generators.listOf(r, 10, SseRoundTripPropertyTest::item);
    List<Integer> chunkSizes = Generators.listOf(r, 8, c -> c.nextInt(1, 65));
    return new RoundTrip(items, chunkSizes);
  }

  private static Item item(RandomGenerator r) {
    return switch (Generators.weighted(r, 6, 2, 1)) {
      case 0 -> new EventItem(new ServerSentEvent(type(r), text(r), id(r)));
      case 1 -> new CommentItem(text(r));
      default -> new RetryItem(retryMillis(r));
    };
  }

  /** 0 to {@code Long.MAX_VALUE}, the ends and small values more often. */
  private static long retryMillis(RandomGenerator r) {
    return switch (Generators.weighted(r, 1, 1, 1, 3, 4)) {
      case 0 -> 0;
      case 1 -> 1;
      case 2 -> Long.MAX_VALUE;
      case 3 -> r.nextLong(100_000);
      default -> r.nextLong(Long.MAX_VALUE) + r.nextInt(2);
    };
  }

  // ---------------------------------------------------------------- model

  private static byte[] write(List<Item> items) throws IOException {
    Buffer sink = new Buffer();
    SseWriter writer = SseWriter.builder().flushEachWrite(false).build(sink);
    for (Item item : items) {
      if (item instanceof EventItem e) {
        writer.write(e.event());
      } else if (item instanceof CommentItem c) {
        writer.writeComment(c.text());
      } else if (item instanceof RetryItem r) {
        writer.writeRetry(Duration.ofMillis(r.millis()));
      }
    }
    writer.flush();
    return sink.readByteArray();
  }

  /** What a reader must report for {@code items}, from the documented normalisation alone. */
  private static Transcript expected(List<Item> items) {
    List<Object> log = new ArrayList<>();
    Duration retry = null;
    String lastEventId = null;
    for (Item item : items) {
      if (item instanceof EventItem e) {
        ServerSentEvent event = readBack(e.event());
        log.add(event);
        lastEventId = event.id();
      } else if (item instanceof CommentItem c) {
        for (String line : lines(utf8(c.text()))) {
          log.add(new Comment(line));
        }
      } else if (item instanceof RetryItem r) {
        retry = Duration.ofMillis(r.millis());
      }
    }
    return new Transcript(log, retry, lastEventId);
  }

  /** The event a reader gives back for {@code event}. */
  private static ServerSentEvent readBack(ServerSentEvent event) {
    String id = event.id();
    return new ServerSentEvent(
        utf8(event.type()),
        String.join("\n", lines(utf8(event.data()))),
        id == null ? null : utf8(id));
  }

  /** Splits at CR, LF and CRLF, as the format does. */
  private static List<String> lines(String text) {
    return Arrays.asList(text.replace("\r\n", "\n").replace('\r', '\n').split("\n", -1));
  }

  /** The text as UTF-8 carries it: an unpaired surrogate becomes {@code ?}. */
  private static String utf8(String text) {
    StringBuilder sb = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        sb.append(c).append(text.charAt(++i));
      } else {
        sb.append(Character.isSurrogate(c) ? '?' : c);
      }
    }
    return sb.toString();
  }

  private static Transcript read(List<byte[]> chunks) throws IOException {
    List<Object> log = new ArrayList<>();
    try (SseReader reader =
        SseReader.builder()
            .commentListener(text -> log.add(new Comment(text)))
            .build(Okio.buffer(ChunkedSource.of(chunks)))) {
      for (ServerSentEvent event; (event = reader.next()) != null; ) {
        log.add(event);
      }
      return new Transcript(log, reader.retry(), reader.lastEventId());
    }
  }

  /** Splits {@code bytes} into chunks of the given sizes, repeated until the bytes run out. */
  private static List<byte[]> split(byte[] bytes, List<Integer> sizes) {
    if (sizes.isEmpty()) {
      return List.of(bytes);
    }
    List<byte[]> chunks = new ArrayList<>();
    int start = 0;
    for (int i = 0; start < bytes.length; i++) {
      int end = Math.min(bytes.length, start + sizes.get(i % sizes.size()));
      chunks.add(Arrays.copyOfRange(bytes, start, end));
      start = end;
    }
    return chunks;
  }
}
