package dev.llmgateway.sse;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import okio.Buffer;
import okio.Okio;
import org.junit.jupiter.api.Test;

/**
 * Pins the cases the reader's shortcut for the common event (one {@code data} line, its blank line
 * already read) could get wrong: each stream is read whole (the shortcut applies), split into two
 * reads at every offset (line ends and blank lines split across reads), and byte by byte (the
 * general path), and every reading must give the same events.
 */
class SseReaderSingleDataLineTest {
  @Test
  void readsOneDataLineEventsWithEveryLineEndSplitAnywhere() throws IOException {
    assertReadsEverywhere(
        "data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\r\ndata: e\r\n\rdata: f\r\n\n",
        List.of(
            ServerSentEvent.of("a"),
            ServerSentEvent.of("b"),
            ServerSentEvent.of("c"),
            ServerSentEvent.of("d"),
            ServerSentEvent.of("e"),
            ServerSentEvent.of("f")));
  }

  @Test
  void readsACarriageReturnOnlyStream() throws IOException {
    // A CR-only blank line directly followed by the next field: no byte of it may be swallowed.
    assertReadsEverywhere(
        "data: a\r\rdata: b\r\rid: 7\rdata:c\r\r\r\rdata\r\r",
        List.of(
            ServerSentEvent.of("a"),
            ServerSentEvent.of("b"),
            new ServerSentEvent("", "c", "7"),
            new ServerSentEvent("", "", "7")));
  }

  @Test
  void joinsDataLinesWhenTheFirstIsNotFollowedByABlankLine() throws IOException {
    assertReadsEverywhere(
        "data: a\ndata: b\n\ndata: c\nevent: t\n\ndata: d\r: ping\rdata\r\r",
        List.of(
            ServerSentEvent.of("a\nb"), new ServerSentEvent("t", "c", null), ServerSentEvent.of("d\n")));
  }

  @Test
  void readsFieldsBeforeTheDataLine() throws IOException {
    assertReadsEverywhere(
        "event: e\nid: 1\ndata: x\n\nretry: 5\ndatax: no\ndata:  two spaces\n\n",
        List.of(new ServerSentEvent("e", "x", "1"), new ServerSentEvent("", " two spaces", "1")));
  }

  @Test
  void decodesADataLineLongerThanABufferSegment() throws IOException {
    // Okio segments hold 8,192 bytes: this value spans several, with multi-byte characters (and an
    // encoded surrogate, decoded per WHATWG) across every segment boundary the offsets reach.
    StringBuilder value = new StringBuilder();
    while (value.length() < 30_000) {
      value.append("token \u00e9\u20ac\ud83d\ude00 ");
    }
    byte[] valueBytes = value.toString().getBytes(UTF_8);
    Buffer stream = new Buffer().writeUtf8("data: ").write(valueBytes).writeUtf8("\n\n");
    stream.writeUtf8("data: ").write(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});
    stream.write(valueBytes).writeUtf8("\r\n\r\n");
    byte[] bytes = stream.readByteArray();

    List<ServerSentEvent> expected =
        List.of(
            ServerSentEvent.of(value.toString()), ServerSentEvent.of("\uFFFD\uFFFD\uFFFD" + value));
    assertThat(readWhole(bytes, SseReader.DEFAULT_MAX_EVENT_SIZE)).isEqualTo(expected);
    for (int at = 1; at < bytes.length; at += 997) {
      assertThat(read(bytes, SseReader.DEFAULT_MAX_EVENT_SIZE, ChunkedSource.split(bytes, at)))
          .as("split at %d", at)
          .isEqualTo(expected);
    }
  }

  @Test
  void decodesShortValuesPerWhatwgIncludingEncodedSurrogates() throws IOException {
    // An encoded surrogate is three U+FFFD per WHATWG (the JDK's decoder gives one); a U+FFFD sent
    // as such stays one. Values around the size the reader decodes through its scratch array.
    Buffer stream = new Buffer();
    stream.writeUtf8("data: a").write(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});
    stream.writeUtf8("b\n\ndata: \uFFFD\u00e9\n\n");
    List<ServerSentEvent> expected = new ArrayList<>();
    expected.add(ServerSentEvent.of("a\uFFFD\uFFFD\uFFFDb"));
    expected.add(ServerSentEvent.of("\uFFFD\u00e9"));
    for (int size = 1020; size <= 1028; size++) {
      String value = "\u00e9".repeat(size / 2) + "x".repeat(size % 2);
      stream.writeUtf8("data:").writeUtf8(value).writeUtf8("\r\n\r\n");
      expected.add(ServerSentEvent.of(value));
      stream.writeUtf8("data:").write(new byte[] {(byte) 0xED, (byte) 0xBF, (byte) 0xBF});
      stream.writeUtf8(value).writeUtf8("\n\n");
      expected.add(ServerSentEvent.of("\uFFFD\uFFFD\uFFFD" + value));
    }
    byte[] bytes = stream.readByteArray();
    assertThat(readWhole(bytes, SseReader.DEFAULT_MAX_EVENT_SIZE)).isEqualTo(expected);
    assertThat(read(bytes, SseReader.DEFAULT_MAX_EVENT_SIZE, ChunkedSource.bytewise(bytes)))
        .isEqualTo(expected);
  }

  @Test
  void enforcesTheLimitsOnOneLineAndOnJoinedDataLines() throws IOException {
    byte[] fits = "data: 1234\n\n".getBytes(UTF_8); // a 10-byte line
    assertThat(readWhole(fits, 10)).containsExactly(ServerSentEvent.of("1234"));
    try (SseReader reader = SseReader.builder().maxEventSize(9).build(new Buffer().write(fits))) {
      assertThatThrownBy(reader::next).isInstanceOf(SseLimitExceededException.class);
    }
    byte[] joined = "data:1234\ndata:5678\ndata:9\n\n".getBytes(UTF_8); // 11 bytes of data
    assertThat(readWhole(joined, 11)).containsExactly(ServerSentEvent.of("1234\n5678\n9"));
    try (SseReader reader = SseReader.builder().maxEventSize(10).build(new Buffer().write(joined))) {
      assertThatThrownBy(reader::next).isInstanceOf(SseLimitExceededException.class);
    }
  }

  private static void assertReadsEverywhere(String text, List<ServerSentEvent> expected)
      throws IOException {
    byte[] bytes = text.getBytes(UTF_8);
    int limit = SseReader.DEFAULT_MAX_EVENT_SIZE;
    assertThat(readWhole(bytes, limit)).as("whole").isEqualTo(expected);
    for (int at = 1; at < bytes.length; at++) {
      assertThat(read(bytes, limit, ChunkedSource.split(bytes, at)))
          .as("split at %d", at)
          .isEqualTo(expected);
    }
    assertThat(read(bytes, limit, ChunkedSource.bytewise(bytes))).as("bytewise").isEqualTo(expected);
  }

  private static List<ServerSentEvent> readWhole(byte[] bytes, int limit) throws IOException {
    try (SseReader reader =
        SseReader.builder().maxEventSize(limit).build(new Buffer().write(bytes))) {
      return readAll(reader);
    }
  }

  private static List<ServerSentEvent> read(byte[] bytes, int limit, List<byte[]> chunks)
      throws IOException {
    try (SseReader reader =
        SseReader.builder().maxEventSize(limit).build(Okio.buffer(ChunkedSource.of(chunks)))) {
      return readAll(reader);
    }
  }

  private static List<ServerSentEvent> readAll(SseReader reader) throws IOException {
    List<ServerSentEvent> events = new ArrayList<>();
    for (ServerSentEvent event; (event = reader.next()) != null; ) {
      events.add(event);
    }
    return events;
  }
}
