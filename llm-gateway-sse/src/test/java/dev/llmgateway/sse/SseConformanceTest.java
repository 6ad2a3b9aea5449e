package dev.llmgateway.sse;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import okio.Buffer;
import okio.BufferedSource;
import okio.Okio;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Conformance vectors for the WHATWG event-stream interpretation. Each vector is read whole, byte
 * by byte, split at every offset, in random chunks (fixed seeds) and through an input stream: all
 * must give the same transcript. Another run feeds the chunks one at a time and checks that each
 * event is returned as soon as the chunk ending it has arrived, without reading further.
 */
class SseConformanceTest {
  private static final int RANDOM_CHUNKINGS = 40;

  /** A comment line as the listener saw it. */
  record Comment(String text) {}

  /** All a reader reports about a stream: events and comments in order, final state, failure. */
  record Transcript(
      List<Object> log,
      @Nullable Duration retry,
      @Nullable String lastEventId,
      @Nullable Integer limitExceeded) {}

  record Vector(
      String name,
      byte[] input,
      int maxEventSize,
      List<List<byte[]>> extraChunkings,
      Transcript expected) {
    @Override
    public String toString() {
      return name;
    }
  }

  // ---------------------------------------------------------------- vectors

  static Stream<Vector> vectors() {
    List<Vector> v = new ArrayList<>();

    // Line endings.
    v.add(vector("LF line ends").input("data: a\n\ndata: b\n\n").expect(ev("a"), ev("b")).build());
    v.add(
        vector("CRLF line ends")
            .input("data: a\r\n\r\ndata: b\r\n\r\n")
            .expect(ev("a"), ev("b"))
            .build());
    v.add(vector("CR line ends").input("data: a\r\rdata: b\r\r").expect(ev("a"), ev("b")).build());
    v.add(
        vector("mixed CR, LF, CRLF in one event")
            .input("data: a\r\ndata: b\rdata: c\ndata: d\r\n\r")
            .expect(ev("a\nb\nc\nd"))
            .build());
    v.add(
        vector("LF then CR is two line ends")
            .input("data: a\n\rdata: b\n\n")
            .expect(ev("a"), ev("b"))
            .build());
    v.add(
        vector("CR CR LF is a line end and a blank line")
            .input("data: a\r\r\ndata: b\n\n")
            .expect(ev("a"), ev("b"))
            .build());
    byte[] crlfAcrossChunks = utf8("data: a\r\ndata: b\r\n\r\n");
    v.add(
        vector("CR at the end of one chunk, LF at the start of the next, is one line end")
            .input(crlfAcrossChunks)
            .chunks(
                ChunkedSource.split(crlfAcrossChunks, 8),
                ChunkedSource.split(crlfAcrossChunks, 8, 17, 19))
            .expect(ev("a\nb"))
            .build());
    v.add(vector("only blank lines").input("\n\r\n\r\r\n\n").expect().build());
    v.add(vector("empty stream").input("").expect().build());

    // BOM.
    v.add(vector("one leading BOM is skipped").input("\uFEFFdata: a\n\n").expect(ev("a")).build());
    v.add(
        vector("a second leading BOM is part of the field name")
            .input("\uFEFF\uFEFFdata: a\n\ndata: b\n\n")
            .expect(ev("b"))
            .build());
    v.add(
        vector("a BOM after the start is not skipped")
            .input("data: a\n\n\uFEFFdata: b\n\n")
            .expect(ev("a"))
            .build());
    v.add(
        vector("a BOM in a value is kept")
            .input("data: \uFEFFa\n\n")
            .expect(ev("\uFEFFa"))
            .build());
    v.add(
        vector("a truncated BOM is an invalid sequence, not a BOM")
            .input(bytes(0xEF, 0xBB), utf8("data: a\n\ndata: b\n\n"))
            .expect(ev("b"))
            .build());
    v.add(vector("a BOM alone").input("\uFEFF").expect().build());

    // Comments.
    v.add(
        vector("comments are not events")
            .input(": ping\n:\n:  two spaces\n:no space\n\n")
            .expect(comment("ping"), comment(""), comment(" two spaces"), comment("no space"))
            .build());
    v.add(
        vector("a comment inside an event does not end it")
            .input("data: a\n: keep-alive\ndata: b\n\n")
            .expect(comment("keep-alive"), ev("a\nb"))
            .build());
    v.add(
        vector("a comment is not a field even when it looks like one")
            .input(":data: x\n\n")
            .expect(comment("data: x"))
            .build());

    // Field and value parsing.
    v.add(vector("data without colon is an empty value").input("data\n\n").expect(ev("")).build());
    v.add(vector("data with colon and nothing after").input("data:\n\n").expect(ev("")).build());
    v.add(vector("data without space after the colon").input("data:x\n\n").expect(ev("x")).build());
    v.add(
        vector("one space after the colon is removed")
            .input("data: x\n\n")
            .expect(ev("x"))
            .build());
    v.add(vector("only one space is removed").input("data:  x\n\n").expect(ev(" x")).build());
    v.add(vector("a tab is not removed").input("data:\tx\n\n").expect(ev("\tx")).build());
    v.add(vector("trailing spaces are kept").input("data: x  \n\n").expect(ev("x  ")).build());
    v.add(
        vector("colons after the first belong to the value")
            .input("data: a: b:c\n\n")
            .expect(ev("a: b:c"))
            .build());
    v.add(
        vector("field names are case-sensitive and exact; unknown fields are ignored")
            .input("foo: bar\nDATA: 1\nData: 2\n data: 3\ndata : 4\ndatas: 5\ndata: x\n\n")
            .expect(ev("x"))
            .build());
    v.add(
        vector("multi-line data is joined with LF")
            .input("data: a\ndata: b\ndata: c\n\n")
            .expect(ev("a\nb\nc"))
            .build());
    v.add(
        vector("empty data lines keep their LFs")
            .input("data\ndata\n\ndata: a\ndata:\n\ndata:\ndata: b\n\n")
            .expect(ev("\n"), ev("a\n"), ev("\nb"))
            .build());
    v.add(
        vector("a blank line with no data dispatches nothing")
            .input("\n\nevent: x\nid: 1\n\n")
            .expect()
            .lastEventId("1")
            .build());
    v.add(vector("NUL in data is kept").input("data: a\u0000b\n\n").expect(ev("a\u0000b")).build());

    // Event type.
    v.add(
        vector("event sets the type")
            .input("event: add\ndata: x\n\n")
            .expect(ev("add", "x", null))
            .build());
    v.add(
        vector("the type is reset after each dispatch")
            .input("event: add\ndata: 1\n\ndata: 2\n\n")
            .expect(ev("add", "1", null), ev("2"))
            .build());
    v.add(
        vector("the type is reset even when nothing is dispatched")
            .input("event: add\n\ndata: 2\n\n")
            .expect(ev("2"))
            .build());
    v.add(
        vector("the last event field wins")
            .input("event: a\nevent: b\ndata: x\n\n")
            .expect(ev("b", "x", null))
            .build());
    v.add(
        vector("an empty event field means message")
            .input("event: a\nevent\ndata: x\n\n")
            .expect(ev("x"))
            .build());
    v.add(
        vector("the type may contain NUL")
            .input("event: a\u0000b\ndata: x\n\n")
            .expect(ev("a\u0000b", "x", null))
            .build());

    // Event ID.
    v.add(
        vector("id persists across events")
            .input("id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n")
            .expect(ev("message", "a", "1"), ev("message", "b", "1"), ev("message", "c", "2"))
            .lastEventId("2")
            .build());
    v.add(
        vector("an empty id resets it")
            .input("id: 1\ndata: a\n\nid\ndata: b\n\n")
            .expect(ev("message", "a", "1"), ev("b"))
            .lastEventId(null)
            .build());
    v.add(
        vector("an id containing NUL is ignored")
            .input("id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n")
            .expect(ev("message", "a", "1"), ev("message", "b", "1"))
            .lastEventId("1")
            .build());
    v.add(
        vector("an id takes effect at the blank line, even without data")
            .input("id: 7\n\ndata: a\n\n")
            .expect(ev("message", "a", "7"))
            .lastEventId("7")
            .build());
    v.add(
        vector("an id in an unterminated event never takes effect")
            .input("id: 1\ndata: a\n\nid: 2\ndata: b\n")
            .expect(ev("message", "a", "1"))
            .lastEventId("1")
            .build());
    v.add(
        vector("an id keeps spaces beyond the first")
            .input("id:  a b\ndata: x\n\n")
            .expect(ev("message", "x", " a b"))
            .lastEventId(" a b")
            .build());
    v.add(
        vector("an id may follow the data")
            .input("data: x\nid: 3\n\n")
            .expect(ev("message", "x", "3"))
            .lastEventId("3")
            .build());

    // Retry.
    v.add(
        vector("retry sets the reconnection time")
            .input("retry: 1500\n")
            .expect()
            .retry(1500L)
            .build());
    v.add(
        vector("retry without space and with leading zeros")
            .input("retry:007\n")
            .expect()
            .retry(7L)
            .build());
    v.add(vector("retry zero").input("retry: 0\n").expect().retry(0L).build());
    v.add(
        vector("invalid retry values are ignored")
            .input(
                "retry: 1000\n"
                    + "retry: 10a\n"
                    + "retry: -1\n"
                    + "retry\n"
                    + "retry:\n"
                    + "retry: 1.5\n"
                    + "retry:  5\n"
                    + "retry: 5 \n"
                    + "retry: +5\n"
                    + "retry: \uFF15\n")
            .expect()
            .retry(1000L)
            .build());
    v.add(
        vector("retry beyond a long saturates")
            .input("retry: 99999999999999999999999\n")
            .expect()
            .retry(Long.MAX_VALUE)
            .build());
    v.add(
        vector("retry one below the largest long is exact")
            .input("retry: 9223372036854775806\n")
            .expect()
            .retry(Long.MAX_VALUE - 1)
            .build());
    v.add(
        vector("retry applies without a blank line and does not dispatch")
            .input("data: a\nretry: 10\n\ndata: b\n")
            .expect(ev("a"))
            .retry(10L)
            .build());

    // End of stream.
    v.add(
        vector("an unterminated last event is not dispatched")
            .input("data: a\n\ndata: b\n")
            .expect(ev("a"))
            .build());
    v.add(
        vector("the stream ends in the middle of a line")
            .input("data: a\n\ndata: b")
            .expect(ev("a"))
            .build());
    v.add(vector("the stream ends after a final CR").input("data: a\n\r").expect(ev("a")).build());

    // UTF-8.
    v.add(
        vector("2-byte, 3-byte and 4-byte characters")
            .input(
                "event: \u00e9v\u00e9nement\n"
                    + "data: \u00e9\u20ac\uD83D\uDE00 \u65e5\u672c\n"
                    + "data: \u00ff\n\n")
            .expect(
                ev("\u00e9v\u00e9nement", "\u00e9\u20ac\uD83D\uDE00 \u65e5\u672c\n\u00ff", null))
            .build());
    v.add(
        vector("a 4-byte character at the end of the data")
            .input("data: \uD83D\uDE00\n\n")
            .expect(ev("\uD83D\uDE00"))
            .build());
    v.add(
        vector("an invalid byte becomes U+FFFD")
            .input(utf8("data: a"), bytes(0xFF), utf8("b\n\n"))
            .expect(ev("a\uFFFDb"))
            .build());
    v.add(
        vector("a character truncated by a line end becomes one U+FFFD")
            .input(
                utf8("data: "),
                bytes(0xE2, 0x82),
                utf8("\ndata: "),
                bytes(0xF0, 0x9F, 0x98),
                utf8("\r\n\r\n"))
            .expect(ev("\uFFFD\n\uFFFD"))
            .build());
    v.add(
        vector("an encoded surrogate is three U+FFFD (WHATWG, not the JDK's one)")
            .input(
                utf8("id: "),
                bytes(0xED, 0xA0, 0x80),
                utf8("\ndata: "),
                bytes(0xED, 0xA0, 0x41),
                utf8("\n\n"))
            .expect(ev("message", "\uFFFD\uFFFDA", "\uFFFD\uFFFD\uFFFD"))
            .lastEventId("\uFFFD\uFFFD\uFFFD")
            .build());
    v.add(
        vector("an overlong NUL is not a NUL, so the id is kept")
            .input(utf8("id: a"), bytes(0xC0, 0x80), utf8("\ndata: x\n\n"))
            .expect(ev("message", "x", "a\uFFFD\uFFFD"))
            .lastEventId("a\uFFFD\uFFFD")
            .build());
    v.add(
        vector("an invalid byte in a field name makes it unknown")
            .input(utf8("dat"), bytes(0xE1), utf8("a: x\n\ndata: y\n\n"))
            .expect(ev("y"))
            .build());

    // Limits (small, so that every chunking hits them).
    v.add(
        vector("a line exactly at the limit passes")
            .maxEventSize(16)
            .input("data: 0123456789\n\n")
            .expect(ev("0123456789"))
            .build());
    v.add(
        vector("a line over the limit fails after the events before it")
            .maxEventSize(16)
            .input("data: a\n\ndata: 0123456789A\n\n")
            .expect(ev("a"))
            .limitExceeded(16)
            .build());
    v.add(
        vector("a comment line counts toward the limit")
            .maxEventSize(16)
            .input(": 0123456789abcdef\n")
            .expect()
            .limitExceeded(16)
            .build());
    v.add(
        vector("a long line without a line end fails too")
            .maxEventSize(16)
            .input("data: 0123456789abcdef")
            .expect()
            .limitExceeded(16)
            .build());
    v.add(
        vector("event data exactly at the limit passes")
            .maxEventSize(16)
            .input("data: 0123456\ndata: 0123456\ndata\n\n")
            .expect(ev("0123456\n0123456\n"))
            .build());
    v.add(
        vector("event data over the limit fails")
            .maxEventSize(16)
            .input("retry: 5\ndata: 0123456\ndata: 0123456\ndata: x\n\n")
            .expect()
            .retry(5L)
            .limitExceeded(16)
            .build());

    // A realistic stream from the service (contract section 2).
    v.add(
        vector("service stream with heartbeats, CRLF and a final [DONE]")
            .input(
                "\uFEFF: ping\r\n"
                    + "data: {\"type\":\"session\",\"session_id\":\"sess_1\"}\r\n\r\n"
                    + "data: {\"type\":\"token\",\"content\":\"Gr\u00fc\u00dfe"
                    + " \uD83D\uDC4B\"}\r\n\r\n"
                    + ": ping\r\n"
                    + "data: {\"type\":\"done\",\"finish_reason\":\"stop\"}\r\n\r\n"
                    + "data: [DONE]\r\n\r\n")
            .expect(
                comment("ping"),
                ev("{\"type\":\"session\",\"session_id\":\"sess_1\"}"),
                ev("{\"type\":\"token\",\"content\":\"Gr\u00fc\u00dfe \uD83D\uDC4B\"}"),
                comment("ping"),
                ev("{\"type\":\"done\",\"finish_reason\":\"stop\"}"),
                ev("[DONE]"))
            .build());
    return v.stream();
  }

  // ---------------------------------------------------------------- tests

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void whole(Vector vector) throws IOException {
    Buffer buffer = new Buffer().write(vector.input());
    assertThat(read(vector, buffer)).isEqualTo(vector.expected());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void byteByByte(Vector vector) throws IOException {
    assertThat(read(vector, ChunkedSource.bytewise(vector.input()))).isEqualTo(vector.expected());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void splitAtEveryOffset(Vector vector) throws IOException {
    for (int i = 0; i <= vector.input().length; i++) {
      assertThat(read(vector, ChunkedSource.split(vector.input(), i)))
          .as("split at %d", i)
          .isEqualTo(vector.expected());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void randomChunks(Vector vector) throws IOException {
    Random random = new Random(vector.name().hashCode());
    for (int i = 0; i < RANDOM_CHUNKINGS; i++) {
      List<byte[]> chunks = ChunkedSource.randomChunks(vector.input(), random);
      assertThat(read(vector, chunks))
          .as("chunks %s", describe(chunks))
          .isEqualTo(vector.expected());
    }
    for (List<byte[]> chunks : vector.extraChunkings()) {
      assertThat(read(vector, chunks))
          .as("chunks %s", describe(chunks))
          .isEqualTo(vector.expected());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void inputStream(Vector vector) throws IOException {
    Random random = new Random(~vector.name().hashCode());
    for (int i = 0; i < 5; i++) {
      List<byte[]> chunks = ChunkedSource.randomChunks(vector.input(), random);
      InputStream in = ChunkedSource.inputStream(chunks);
      Transcript actual = read(vector, builder -> builder.build(in));
      assertThat(actual).as("chunks %s", describe(chunks)).isEqualTo(vector.expected());
    }
  }

  /**
   * Feeds chunks one at a time; after each, calls {@code next()} only as often as events are
   * complete in the bytes so far (what reading that prefix to its end gives). A read beyond the
   * bytes fed fails the test, so each event must come out of the chunk that completes it.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void eachEventIsReturnedAsSoonAsItsBytesArrive(Vector vector) throws IOException {
    if (vector.expected().limitExceeded() != null) {
      return;
    }
    List<ServerSentEvent> all = events(vector.expected());
    Random random = new Random(31L * vector.name().hashCode());
    List<List<byte[]>> chunkings = new ArrayList<>(vector.extraChunkings());
    chunkings.add(ChunkedSource.bytewise(vector.input()));
    for (int i = 0; i < 10; i++) {
      chunkings.add(ChunkedSource.randomChunks(vector.input(), random));
    }
    for (List<byte[]> chunks : chunkings) {
      ChunkedSource source = ChunkedSource.scripted();
      SseReader reader =
          SseReader.builder().maxEventSize(vector.maxEventSize()).build(Okio.buffer(source));
      ByteArrayOutputStream fed = new ByteArrayOutputStream();
      int returned = 0;
      for (byte[] chunk : chunks) {
        source.add(chunk);
        fed.write(chunk);
        int complete = events(read(vector, new Buffer().write(fed.toByteArray()))).size();
        for (; returned < complete; returned++) {
          assertThat(reader.next()).as("chunks %s", describe(chunks)).isEqualTo(all.get(returned));
        }
      }
      source.end();
      assertThat(reader.next()).as("chunks %s", describe(chunks)).isNull();
      assertThat(returned).isEqualTo(all.size());
    }
  }

  @Test
  void thereAreEnoughVectors() {
    assertThat(vectors().count()).isGreaterThanOrEqualTo(30);
  }

  // ---------------------------------------------------------------- reading

  private interface ReaderFactory {
    SseReader build(SseReader.Builder builder);
  }

  private static Transcript read(Vector vector, BufferedSource source) throws IOException {
    return read(vector, builder -> builder.build(source));
  }

  private static Transcript read(Vector vector, List<byte[]> chunks) throws IOException {
    ChunkedSource source = ChunkedSource.of(chunks);
    return read(vector, builder -> builder.build(Okio.buffer(source)));
  }

  private static Transcript read(Vector vector, ReaderFactory factory) throws IOException {
    List<Object> log = new ArrayList<>();
    SseReader.Builder builder =
        SseReader.builder()
            .maxEventSize(vector.maxEventSize())
            .commentListener(text -> log.add(new Comment(text)));
    try (SseReader reader = factory.build(builder)) {
      Integer limit = null;
      try {
        for (ServerSentEvent event; (event = reader.next()) != null; ) {
          log.add(event);
        }
        assertThat(reader.next()).as("next() after the end").isNull();
      } catch (SseLimitExceededException e) {
        limit = e.limit();
        assertThat(e).hasMessageContaining("maxEventSize");
      }
      return new Transcript(log, reader.retry(), reader.lastEventId(), limit);
    }
  }

  private static List<ServerSentEvent> events(Transcript transcript) {
    List<ServerSentEvent> events = new ArrayList<>();
    for (Object o : transcript.log()) {
      if (o instanceof ServerSentEvent e) {
        events.add(e);
      }
    }
    return events;
  }

  private static String describe(List<byte[]> chunks) {
    StringBuilder sb = new StringBuilder();
    for (byte[] chunk : chunks) {
      sb.append(chunk.length).append(' ');
    }
    return sb.toString().trim();
  }

  // ---------------------------------------------------------------- vector DSL

  private static ServerSentEvent ev(String data) {
    return ServerSentEvent.of(data);
  }

  private static ServerSentEvent ev(String type, String data, @Nullable String id) {
    return new ServerSentEvent(type, data, id);
  }

  private static Comment comment(String text) {
    return new Comment(text);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(UTF_8);
  }

  private static byte[] bytes(int... values) {
    byte[] result = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      result[i] = (byte) values[i];
    }
    return result;
  }

  private static VectorBuilder vector(String name) {
    return new VectorBuilder(name);
  }

  private static final class VectorBuilder {
    private final String name;
    private byte[] input = new byte[0];
    private int maxEventSize = SseReader.DEFAULT_MAX_EVENT_SIZE;
    private final List<List<byte[]>> chunkings = new ArrayList<>();
    private List<Object> log = List.of();
    private @Nullable Duration retry;
    private @Nullable String lastEventId;
    private boolean lastEventIdSet;
    private @Nullable Integer limitExceeded;

    VectorBuilder(String name) {
      this.name = name;
    }

    VectorBuilder input(String s) {
      return input(utf8(s));
    }

    VectorBuilder input(byte[]... parts) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte[] part : parts) {
        out.writeBytes(part);
      }
      this.input = out.toByteArray();
      return this;
    }

    VectorBuilder maxEventSize(int bytes) {
      this.maxEventSize = bytes;
      return this;
    }

    @SafeVarargs
    final VectorBuilder chunks(List<byte[]>... chunkings) {
      this.chunkings.addAll(Arrays.asList(chunkings));
      return this;
    }

    VectorBuilder expect(Object... log) {
      this.log = List.of(log);
      return this;
    }

    VectorBuilder retry(long millis) {
      this.retry = Duration.ofMillis(millis);
      return this;
    }

    VectorBuilder lastEventId(@Nullable String id) {
      this.lastEventId = id;
      this.lastEventIdSet = true;
      return this;
    }

    VectorBuilder limitExceeded(int limit) {
      this.limitExceeded = limit;
      return this;
    }

    Vector build() {
      String id = lastEventId;
      if (!lastEventIdSet) {
        // By default the reader ends with the ID of the last event dispatched.
        for (Object o : log) {
          if (o instanceof ServerSentEvent e) {
            id = e.id();
          }
        }
      }
      return new Vector(
          name, input, maxEventSize, chunkings, new Transcript(log, retry, id, limitExceeded));
    }
  }
}
