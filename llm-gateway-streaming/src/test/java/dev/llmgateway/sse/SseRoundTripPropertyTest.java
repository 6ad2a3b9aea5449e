package dev.llmgateway.sse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import okio.Buffer;
import okio.Okio;
import org.jspecify.annotations.Nullable;

/**
 * Properties of the writer and reader together: what {@link SseWriter} writes reads back as the
 * events written, however the bytes are split; values the format cannot carry are refused.
 *
 * <p>"Reads back as written" means: line breaks in data (CR, LF, CRLF) come back as LF, an empty
 * type as {@value ServerSentEvent#DEFAULT_TYPE}, and an unpaired surrogate, which UTF-8 cannot
 * encode, as {@code ?} (both documented on {@link SseWriter}).
 */
class SseRoundTripPropertyTest {

  /** Something the writer writes: an event, a comment or a retry field. */
  sealed interface Item {}

  record EventItem(ServerSentEvent event) implements Item {}

  record CommentItem(String text) implements Item {}

  record RetryItem(long millis) implements Item {}

  /** Events and comments in order, plus the final reader state. */
  record Transcript(List<Object> log, @Nullable Duration retry, @Nullable String lastEventId) {}

  record Comment(String text) {}

  // ---------------------------------------------------------------- properties

  /** (a) Any split of a written stream into chunks reads back as the same events and comments. */
  @Property(tries = 200)
  void anySplitIntoChunksGivesTheSameEvents(
      @ForAll("items") List<Item> items,
      @ForAll @Size(max = 8) List<@IntRange(min = 1, max = 64) Integer> chunkSizes)
      throws IOException {
    byte[] wire = write(items);

    Transcript whole = read(List.of(wire));
    Transcript chunked = read(split(wire, chunkSizes));

    assertThat(whole).isEqualTo(expected(items));
    assertThat(chunked).isEqualTo(whole);
  }

  /** (b) One event of any type, data and id reads back as itself (normalised as documented). */
  @Property(tries = 200)
  void writerNeverProducesAStreamThatParsesIntoADifferentEvent(
      @ForAll("types") String type, @ForAll("texts") String data, @ForAll("ids") @Nullable String id)
      throws IOException {
    ServerSentEvent event = new ServerSentEvent(type, data, id);
    List<Item> items = List.of(new EventItem(event));

    assertThat(read(List.of(write(items))).log()).containsExactly(readBack(event));
  }

  /** (b) A type with CR or LF is refused before anything is written. */
  @Property(tries = 200)
  void typeWithALineBreakIsRefused(
      @ForAll("types") String before,
      @ForAll("lineBreaks") String lineBreak,
      @ForAll("types") String after,
      @ForAll("texts") String data) {
    Buffer sink = new Buffer();
    SseWriter writer = SseWriter.create(sink);

    assertThatThrownBy(() -> writer.write(new ServerSentEvent(before + lineBreak + after, data, null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("type");
    assertThat(sink.size()).isZero();
  }

  /** (b) An id with CR, LF or NUL is refused before anything is written, also as a last id. */
  @Property(tries = 200)
  void idWithALineBreakOrNulIsRefused(
      @ForAll("ids") @Nullable String before,
      @ForAll("lineBreaksAndNul") String bad,
      @ForAll("ids") @Nullable String after,
      @ForAll("texts") String data) {
    String id = (before == null ? "" : before) + bad + (after == null ? "" : after);
    Buffer sink = new Buffer();
    SseWriter writer = SseWriter.create(sink);

    assertThatThrownBy(() -> writer.write(new ServerSentEvent("message", data, id)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("id");
    assertThatThrownBy(() -> SseWriter.builder().lastEventId(id))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SseReader.builder().lastEventId(id))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(sink.size()).isZero();
  }

  // ---------------------------------------------------------------- generators

  /** Text mixing the characters that matter to the format with arbitrary Unicode. */
  @Provide
  Arbitrary<String> texts() {
    Arbitrary<String> special =
        Arbitraries.of(
            "\r", "\n", "\r\n", "\n\r", "\r\r", "\u0000", ":", " ", "  ", "\uFEFF", "\uFFFD", "?",
            "data: ", "id: ", "event: ", "retry: 1", ": ping", "[DONE]", "\u2028", "\u0085");
    Arbitrary<String> ascii = Arbitraries.strings().ascii().ofMaxLength(8);
    Arbitrary<String> anyChars = Arbitraries.strings().all().ofMaxLength(4);
    Arbitrary<String> supplementary =
        Arbitraries.integers().between(0x10000, Character.MAX_CODE_POINT).map(Character::toString);
    Arbitrary<String> loneSurrogate =
        Arbitraries.chars().range(Character.MIN_SURROGATE, Character.MAX_SURROGATE).map(String::valueOf);
    return Arbitraries.frequencyOf(
            Tuple.of(4, special),
            Tuple.of(4, ascii),
            Tuple.of(2, anyChars),
            Tuple.of(2, supplementary),
            Tuple.of(1, loneSurrogate))
        .list()
        .ofMaxSize(12)
        .map(pieces -> String.join("", pieces));
  }

  /** Types: any text without CR or LF (an empty one means message). */
  @Provide
  Arbitrary<String> types() {
    return Arbitraries.oneOf(
        Arbitraries.of("message", "", "token", "chunk", "complete"),
        texts().map(t -> t.replace("\r", "").replace("\n", "")));
  }

  /** Ids: null, or any text without CR, LF or NUL (an empty one means null). */
  @Provide
  Arbitrary<@Nullable String> ids() {
    return Arbitraries.oneOf(
            Arbitraries.of("1", "2", "id-1"),
            texts().map(t -> t.replace("\r", "").replace("\n", "").replace("\u0000", "")))
        .injectNull(0.3);
  }

  @Provide
  Arbitrary<String> lineBreaks() {
    return Arbitraries.of("\r", "\n", "\r\n");
  }

  @Provide
  Arbitrary<String> lineBreaksAndNul() {
    return Arbitraries.of("\r", "\n", "\r\n", "\u0000");
  }

  @Provide
  Arbitrary<List<Item>> items() {
    Arbitrary<Item> event =
        Combinators.combine(types(), texts(), ids())
            .as((type, data, id) -> new EventItem(new ServerSentEvent(type, data, id)));
    Arbitrary<Item> comment = texts().map(CommentItem::new);
    Arbitrary<Item> retry = Arbitraries.longs().between(0, Long.MAX_VALUE).map(RetryItem::new);
    return Arbitraries.frequencyOf(
            Tuple.of(6, event),
            Tuple.of(2, comment),
            Tuple.of(1, retry))
        .list()
        .ofMaxSize(10);
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
