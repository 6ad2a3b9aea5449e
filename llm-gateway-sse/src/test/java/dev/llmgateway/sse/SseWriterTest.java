package dev.llmgateway.sse;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okio.Buffer;
import okio.Okio;
import org.junit.jupiter.api.Test;

class SseWriterTest {
  private final Buffer out = new Buffer();
  private final SseWriter writer = SseWriter.create(out);

  @Test
  void writesDataAndBlankLine() throws IOException {
    writer.write(ServerSentEvent.of("hello"));
    assertThat(out.readUtf8()).isEqualTo("data: hello\n\n");
  }

  @Test
  void writesTypeOnlyWhenNotMessage() throws IOException {
    writer.write(ServerSentEvent.of("add", "x"));
    writer.write(ServerSentEvent.of("message", "y"));
    writer.write(ServerSentEvent.of("", "z"));
    assertThat(out.readUtf8()).isEqualTo("event: add\ndata: x\n\ndata: y\n\ndata: z\n\n");
  }

  @Test
  void splitsDataAtEveryKindOfLineBreak() throws IOException {
    writer.write(ServerSentEvent.of("a\nb\rc\r\nd"));
    assertThat(out.readUtf8()).isEqualTo("data: a\ndata: b\ndata: c\ndata: d\n\n");
  }

  @Test
  void writesEmptyDataLines() throws IOException {
    writer.write(ServerSentEvent.of(""));
    writer.write(ServerSentEvent.of("a\n"));
    writer.write(ServerSentEvent.of("\r\n\r"));
    assertThat(out.readUtf8())
        .isEqualTo("data:\n\n" + "data: a\ndata:\n\n" + "data:\ndata:\ndata:\n\n");
  }

  @Test
  void keepsLeadingSpacesInData() throws IOException {
    writer.write(ServerSentEvent.of(" x"));
    assertThat(out.readUtf8()).isEqualTo("data:  x\n\n");
  }

  @Test
  void writesIdOnlyWhenItChanges() throws IOException {
    writer.write(new ServerSentEvent("message", "a", "1"));
    writer.write(new ServerSentEvent("message", "b", "1"));
    writer.write(new ServerSentEvent("message", "c", "2"));
    writer.write(new ServerSentEvent("message", "d", null));
    writer.write(new ServerSentEvent("message", "e", null));
    assertThat(out.readUtf8())
        .isEqualTo(
            "id: 1\ndata: a\n\n"
                + "data: b\n\n"
                + "id: 2\ndata: c\n\n"
                + "id:\ndata: d\n\n"
                + "data: e\n\n");
  }

  @Test
  void lastEventIdFromBuilderSuppressesARepeatedId() throws IOException {
    SseWriter resumed = SseWriter.builder().lastEventId("7").build(out);
    resumed.write(new ServerSentEvent("message", "a", "7"));
    resumed.write(new ServerSentEvent("message", "b", "8"));
    assertThat(out.readUtf8()).isEqualTo("data: a\n\nid: 8\ndata: b\n\n");
    assertThatThrownBy(() -> SseWriter.builder().lastEventId("a\rb"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void refusesTypeAndIdThatWouldChangeTheFraming() {
    assertThatThrownBy(() -> writer.write(new ServerSentEvent("a\nb", "x", null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("type");
    assertThatThrownBy(() -> writer.write(new ServerSentEvent("a\rb", "x", null)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> writer.write(new ServerSentEvent("message", "x", "1\n2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("id");
    assertThatThrownBy(() -> writer.write(new ServerSentEvent("message", "x", "1\r")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> writer.write(new ServerSentEvent("message", "x", "1\u00002")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(out.size()).isZero();
  }

  @Test
  void writesComments() throws IOException {
    writer.writeComment("ping");
    writer.writeComment("");
    writer.writeComment("two\r\nlines");
    assertThat(out.readUtf8()).isEqualTo(": ping\n:\n: two\n: lines\n");
  }

  @Test
  void writesRetry() throws IOException {
    writer.writeRetry(Duration.ofSeconds(3));
    writer.writeRetry(Duration.ofNanos(1_999_999));
    assertThat(out.readUtf8()).isEqualTo("retry: 3000\nretry: 1\n");
    assertThatThrownBy(() -> writer.writeRetry(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void flushesEachWriteByDefault() throws IOException {
    FlushRecorder recorder = new FlushRecorder();
    SseWriter w = SseWriter.create(recorder);
    w.write(ServerSentEvent.of("a"));
    w.writeComment("ping");
    w.writeRetry(Duration.ofMillis(5));
    assertThat(recorder.flushed)
        .containsExactly("data: a\n\n", "data: a\n\n: ping\n", "data: a\n\n: ping\nretry: 5\n");
  }

  @Test
  void withoutFlushEachWriteNothingIsSentUntilFlush() throws IOException {
    FlushRecorder recorder = new FlushRecorder();
    SseWriter w = SseWriter.builder().flushEachWrite(false).build(recorder);
    w.write(ServerSentEvent.of("a"));
    w.write(ServerSentEvent.of("b"));
    assertThat(recorder.size()).isZero();
    w.flush();
    assertThat(recorder.flushed).containsExactly("data: a\n\ndata: b\n\n");
  }

  @Test
  void closeFlushesAndClosesTheStream() throws IOException {
    FlushRecorder recorder = new FlushRecorder();
    SseWriter w = SseWriter.builder().flushEachWrite(false).build(recorder);
    w.write(ServerSentEvent.of("a"));
    w.close();
    w.close();
    assertThat(recorder.toString(UTF_8)).isEqualTo("data: a\n\n");
    assertThat(recorder.closed).isTrue();
    assertThatThrownBy(() -> w.write(ServerSentEvent.of("b")))
        .isInstanceOf(IOException.class)
        .hasMessage("SseWriter is closed");
    assertThatThrownBy(() -> w.writeComment("ping")).isInstanceOf(IOException.class);
    assertThatThrownBy(w::flush).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> w.writeRetry(Duration.ofSeconds(1))).isInstanceOf(IOException.class);
  }

  @Test
  void roundTripsTrickyEvents() throws IOException {
    List<ServerSentEvent> events =
        List.of(
            ServerSentEvent.of("plain"),
            ServerSentEvent.of(""),
            ServerSentEvent.of("\n"),
            ServerSentEvent.of("line1\nline2\r\nline3\rline4"),
            ServerSentEvent.of("trailing break\r\n"),
            ServerSentEvent.of("\r\r\n\n"),
            ServerSentEvent.of("  two leading spaces and a colon: here"),
            ServerSentEvent.of("data: not a field\n\nid: 9\nevent: no"),
            ServerSentEvent.of(": not a comment"),
            ServerSentEvent.of("unicode \u00e9\u20ac\uD83D\uDE00 \u65e5\u672c\u8a9e \uFEFF\u0000"),
            new ServerSentEvent("custom type", "x", "id-1"),
            new ServerSentEvent(" spaced\u00e9", "y", "id-1"),
            new ServerSentEvent("message", "z", " id with spaces \uD83D\uDE00"),
            new ServerSentEvent("message", "after reset", null),
            new ServerSentEvent("done", "{\"type\":\"done\"}", "last"));
    Buffer wire = new Buffer();
    SseWriter w = SseWriter.create(wire);
    w.writeComment("start");
    w.writeRetry(Duration.ofMillis(2500));
    for (ServerSentEvent event : events) {
      w.write(event);
      w.writeComment("ping");
    }

    List<String> comments = new ArrayList<>();
    SseReader reader = SseReader.builder().commentListener(comments::add).build(wire);
    assertThat(readAll(reader)).isEqualTo(normalized(events));
    assertThat(reader.retry()).isEqualTo(Duration.ofMillis(2500));
    assertThat(reader.lastEventId()).isEqualTo("last");
    assertThat(comments)
        .hasSize(events.size() + 1)
        .allMatch(c -> c.equals("start") || c.equals("ping"));
  }

  @Test
  void roundTripsRandomEventsReadInRandomChunks() throws IOException {
    Random random = new Random(20261120L);
    String alphabet = "ab :\r\n\u00e9\u20ac\uD83D\uDE00\u0000\uFEFF";
    List<ServerSentEvent> events = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      String data = randomString(random, alphabet, random.nextInt(12));
      String type =
          random.nextInt(3) == 0
              ? randomString(random, "xy :\u00e9", 1 + random.nextInt(4))
              : "message";
      String id = random.nextInt(4) == 0 ? null : "" + random.nextInt(3);
      events.add(new ServerSentEvent(type, data, id));
    }
    Buffer wire = new Buffer();
    SseWriter w = SseWriter.create(wire);
    for (ServerSentEvent event : events) {
      w.write(event);
    }
    byte[] bytes = wire.readByteArray();
    for (int i = 0; i < 5; i++) {
      ChunkedSource source = ChunkedSource.of(ChunkedSource.randomChunks(bytes, random));
      assertThat(readAll(SseReader.create(Okio.buffer(source)))).isEqualTo(normalized(events));
    }
  }

  /** Heartbeats from one thread and events from another never interleave inside an event. */
  @Test
  @org.junit.jupiter.api.Timeout(
      value = 30,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void concurrentWritesStayFramed() throws Exception {
    ExecutorService executor = Executors.newFixedThreadPool(2);
    try {
      Buffer wire = new Buffer();
      SseWriter w = SseWriter.create(wire);
      CountDownLatch start = new CountDownLatch(1);
      Future<?> events =
          executor.submit(
              () -> {
                start.await();
                for (int i = 0; i < 2000; i++) {
                  w.write(
                      new ServerSentEvent("token", "line one " + i + "\nline two " + i, "" + i));
                }
                return null;
              });
      Future<?> heartbeats =
          executor.submit(
              () -> {
                start.await();
                for (int i = 0; i < 2000; i++) {
                  w.writeComment("ping");
                }
                return null;
              });
      start.countDown();
      events.get();
      heartbeats.get();

      List<String> comments = new ArrayList<>();
      SseReader reader = SseReader.builder().commentListener(comments::add).build(wire);
      List<ServerSentEvent> read = readAll(reader);
      assertThat(read).hasSize(2000);
      for (int i = 0; i < 2000; i++) {
        assertThat(read.get(i))
            .isEqualTo(new ServerSentEvent("token", "line one " + i + "\nline two " + i, "" + i));
      }
      assertThat(comments).hasSize(2000);
    } finally {
      executor.shutdownNow();
      assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  @org.junit.jupiter.api.Timeout(
      value = 30,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void tryWriteCommentGivesUpAtOnceWhileAnotherThreadIsWritingAndWritesOtherwise() throws Exception {
    StuckClient client = new StuckClient();
    SseWriter w = SseWriter.create(client);
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try {
      Future<?> event = executor.submit(() -> {
        w.write(ServerSentEvent.of("token"));
        return null;
      });
      assertThat(client.entered.await(10, TimeUnit.SECONDS)).isTrue();

      assertThat(w.tryWriteComment("ping")).as("an event is being written").isFalse();

      client.release.countDown();
      event.get(10, TimeUnit.SECONDS);
      assertThat(w.tryWriteComment("ping")).isTrue();
      assertThat(client.toString(UTF_8)).isEqualTo("data: token\n\n: ping\n");
    } finally {
      client.release.countDown();
      executor.shutdownNow();
    }
  }

  @Test
  @org.junit.jupiter.api.Timeout(
      value = 30,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void writesHoldNoMonitorDuringIoSoTheyPinNoVirtualThread() throws Exception {
    StuckClient client = new StuckClient();
    SseWriter w = SseWriter.create(client);
    client.owner = w;
    client.release.countDown();
    w.write(ServerSentEvent.of("token"));
    w.writeComment("ping");
    w.writeRetry(Duration.ofSeconds(1));
    w.close();
    assertThat(client.heldTheWritersMonitor).as("I/O under synchronized pins a virtual thread's carrier").isFalse();
  }

  /** A client that stops reading until released: the first write blocks. */
  private static final class StuckClient extends ByteArrayOutputStream {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile SseWriter owner;
    volatile boolean heldTheWritersMonitor;

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      heldTheWritersMonitor |= holdsTheWritersMonitor();
      entered.countDown();
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      super.write(b, off, len);
    }

    @Override
    public void close() {
      heldTheWritersMonitor |= holdsTheWritersMonitor();
    }

    private boolean holdsTheWritersMonitor() {
      SseWriter w = owner;
      return w != null && Thread.holdsLock(w);
    }
  }

  private static List<ServerSentEvent> readAll(SseReader reader) throws IOException {
    List<ServerSentEvent> result = new ArrayList<>();
    for (ServerSentEvent e; (e = reader.next()) != null; ) {
      result.add(e);
    }
    return result;
  }

  /** What a reader gives back: the format carries line breaks in data only as LF. */
  private static List<ServerSentEvent> normalized(List<ServerSentEvent> events) {
    List<ServerSentEvent> result = new ArrayList<>();
    for (ServerSentEvent e : events) {
      String data = e.data().replace("\r\n", "\n").replace('\r', '\n');
      result.add(new ServerSentEvent(e.type(), data, e.id()));
    }
    return result;
  }

  private static String randomString(Random random, String alphabet, int length) {
    int[] codePoints = alphabet.codePoints().toArray();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < length; i++) {
      sb.appendCodePoint(codePoints[random.nextInt(codePoints.length)]);
    }
    return sb.toString();
  }

  /** Records the bytes written so far at each flush, and whether the stream was closed. */
  private static final class FlushRecorder extends ByteArrayOutputStream {
    final List<String> flushed = new ArrayList<>();
    boolean closed;

    @Override
    public void flush() {
      flushed.add(toString(UTF_8));
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
