package dev.llmgateway.sse;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okio.Buffer;
import okio.BufferedSink;
import okio.Okio;
import okio.Pipe;
import okio.Source;
import okio.Timeout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SseReaderTest {
  private final ExecutorService executor = Executors.newSingleThreadExecutor();

  @AfterEach
  void tearDown() throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  /**
   * A producer thread writes one piece, then waits until the consumer has returned the event before
   * it writes the next: if {@code next()} waited for more bytes, the test could not finish.
   */
  @Test
  @org.junit.jupiter.api.Timeout(
      value = 30,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void returnsEachEventBeforeMoreBytesArrive() throws Exception {
    Pipe pipe = new Pipe(1024 * 1024);
    List<String> pieces =
        List.of(
            "data: first\n\n",
            "data: second\r\r", // the last line ends in a bare CR: no LF has arrived yet
            "\ndata: third\r\n\r", // the LF completes the CRLF of the previous piece
            "\n: ping\nid: 4\ndata: fourth\ndata: more\r\n\r\n");
    List<CountDownLatch> consumed = new ArrayList<>();
    for (int i = 0; i < pieces.size(); i++) {
      consumed.add(new CountDownLatch(1));
    }
    AtomicInteger piecesWritten = new AtomicInteger();
    Future<?> producer =
        executor.submit(
            () -> {
              try (BufferedSink sink = Okio.buffer(pipe.sink())) {
                for (int i = 0; i < pieces.size(); i++) {
                  piecesWritten.incrementAndGet(); // before writing: the reader may be faster
                  sink.writeUtf8(pieces.get(i)).flush();
                  consumed.get(i).await();
                }
              }
              return null;
            });

    List<String> comments = new ArrayList<>();
    try (SseReader reader =
        SseReader.builder().commentListener(comments::add).build(Okio.buffer(pipe.source()))) {
      assertThat(reader.next()).isEqualTo(ServerSentEvent.of("first"));
      assertThat(piecesWritten).hasValue(1);
      consumed.get(0).countDown();

      assertThat(reader.next()).isEqualTo(ServerSentEvent.of("second"));
      assertThat(piecesWritten).hasValue(2);
      consumed.get(1).countDown();

      assertThat(reader.next()).isEqualTo(ServerSentEvent.of("third"));
      assertThat(piecesWritten).hasValue(3);
      consumed.get(2).countDown();

      assertThat(reader.next()).isEqualTo(new ServerSentEvent("message", "fourth\nmore", "4"));
      assertThat(piecesWritten).hasValue(4);
      assertThat(comments).containsExactly("ping");
      consumed.get(3).countDown();

      assertThat(reader.next()).isNull();
    }
    producer.get();
  }

  @Test
  @org.junit.jupiter.api.Timeout(
      value = 30,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void inputStreamReaderReturnsEachEventBeforeMoreBytesArrive() throws Exception {
    Pipe pipe = new Pipe(1024 * 1024);
    CountDownLatch consumed = new CountDownLatch(1);
    AtomicInteger piecesWritten = new AtomicInteger();
    Future<?> producer =
        executor.submit(
            () -> {
              try (BufferedSink sink = Okio.buffer(pipe.sink())) {
                piecesWritten.incrementAndGet(); // before writing: the reader may be faster
                sink.writeUtf8("data: ").writeByte(0xC3).flush(); // split inside the \u00e9
                sink.writeByte(0xA9).writeUtf8("t\u00e9\r").flush();
                sink.writeUtf8("\r").flush();
                consumed.await();
                piecesWritten.incrementAndGet();
                sink.writeUtf8("\ndata: after\n\n").flush();
              }
              return null;
            });

    InputStream in = Okio.buffer(pipe.source()).inputStream();
    try (SseReader reader = SseReader.create(in)) {
      assertThat(reader.next()).isEqualTo(ServerSentEvent.of("\u00e9t\u00e9"));
      assertThat(piecesWritten).hasValue(1);
      consumed.countDown();
      assertThat(reader.next()).isEqualTo(ServerSentEvent.of("after"));
      assertThat(reader.next()).isNull();
    }
    producer.get();
  }

  @Test
  void lineOfTwoMebibytesFailsAtTheDefaultLimitWithoutReadingItAll() {
    CountingSource source = new CountingSource(2 * 1024 * 1024, (byte) 'a');
    SseReader reader = SseReader.create(Okio.buffer(source));

    assertThatThrownBy(reader::next)
        .isInstanceOfSatisfying(
            SseLimitExceededException.class,
            e -> assertThat(e.limit()).isEqualTo(SseReader.DEFAULT_MAX_EVENT_SIZE))
        .hasMessage(
            "Server-sent event line longer than 1048576 bytes (SseReader.Builder.maxEventSize)");
    assertThat(source.produced).isBetween(1024L * 1024, 1024L * 1024 + 64 * 1024);
  }

  @Test
  void dataOfTwoMebibytesInShortLinesFailsAtTheDefaultLimit() {
    Buffer stream = new Buffer();
    String line = "data: " + "x".repeat(1023) + "\n";
    for (int i = 0; i < 2048; i++) {
      stream.writeUtf8(line);
    }
    SseReader reader = SseReader.create(stream);

    assertThatThrownBy(reader::next)
        .isInstanceOf(SseLimitExceededException.class)
        .hasMessageContaining("event data longer than 1048576 bytes");
    assertThat(stream.size()).isGreaterThan(1000L * line.length());
  }

  @Test
  void eventAtTheDefaultLimitIsRead() throws IOException {
    String data = "x".repeat(SseReader.DEFAULT_MAX_EVENT_SIZE - 6);
    SseReader reader = SseReader.create(new Buffer().writeUtf8("data: " + data + "\n\n"));
    assertThat(reader.next()).isEqualTo(ServerSentEvent.of(data));
  }

  @Test
  void nextAfterAFailureThrowsIllegalState() {
    SseReader reader =
        SseReader.builder().maxEventSize(4).build(new Buffer().writeUtf8("data: long\n\n"));
    assertThatThrownBy(reader::next).isInstanceOf(SseLimitExceededException.class);
    assertThatThrownBy(reader::next)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("failed earlier");
  }

  @Test
  void exceptionFromCommentListenerPropagates() {
    SseReader reader =
        SseReader.builder()
            .commentListener(
                c -> {
                  throw new IllegalStateException("listener " + c);
                })
            .build(new Buffer().writeUtf8(": ping\ndata: x\n\n"));
    assertThatThrownBy(reader::next)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("listener ping");
  }

  @Test
  void closeClosesTheSourceAndNextThenFails() throws IOException {
    ChunkedSource source = ChunkedSource.of(List.of("data: x\n\n".getBytes(UTF_8)));
    SseReader reader = SseReader.create(Okio.buffer(source));
    reader.close();
    reader.close();
    assertThat(source.closed()).isTrue();
    assertThatThrownBy(reader::next)
        .isInstanceOf(IOException.class)
        .hasMessage("SseReader is closed");
  }

  @Test
  void lastEventIdFromBuilderIsCarriedUntilTheStreamSetsOne() throws IOException {
    SseReader reader =
        SseReader.builder()
            .lastEventId("41")
            .build(new Buffer().writeUtf8("data: a\n\nid: 42\ndata: b\n\n"));
    assertThat(reader.lastEventId()).isEqualTo("41");
    assertThat(reader.next()).isEqualTo(new ServerSentEvent("message", "a", "41"));
    assertThat(reader.next()).isEqualTo(new ServerSentEvent("message", "b", "42"));
    assertThat(reader.lastEventId()).isEqualTo("42");
  }

  @Test
  void builderRefusesBadSettings() {
    SseReader.Builder builder = SseReader.builder();
    assertThatThrownBy(() -> builder.maxEventSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxEventSize <= 0: 0");
    assertThatThrownBy(() -> builder.lastEventId("a\nb"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder.lastEventId("a\u0000b"))
        .isInstanceOf(IllegalArgumentException.class);
    for (String leading : List.of("\ra", "\na", "\u0000a")) {
      assertThatThrownBy(() -> builder.lastEventId(leading))
          .as("a break or NUL as the first character")
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void retryAndLastEventIdStartEmpty() throws IOException {
    SseReader reader = SseReader.create(new Buffer());
    assertThat(reader.retry()).isNull();
    assertThat(reader.lastEventId()).isNull();
    assertThat(reader.next()).isNull();
    assertThat(reader.next()).isNull();
  }

  @Test
  void readsFromAnInputStreamThatReturnsOneChunkPerRead() throws IOException {
    byte[] bytes = "data: \u00e9\u20ac\uD83D\uDE00\r\n\r\n".getBytes(UTF_8);
    try (SseReader reader =
        SseReader.create(ChunkedSource.inputStream(ChunkedSource.bytewise(bytes)))) {
      assertThat(reader.next()).isEqualTo(ServerSentEvent.of("\u00e9\u20ac\uD83D\uDE00"));
      assertThat(reader.next()).isNull();
    }
  }

  @Test
  void manyEventsAcrossManySegments() throws IOException {
    Buffer stream = new Buffer();
    for (int i = 0; i < 10_000; i++) {
      stream.writeUtf8("id: " + i + "\r\ndata: token " + i + "\r\n\r\n");
    }
    SseReader reader = SseReader.create(stream);
    for (int i = 0; i < 10_000; i++) {
      assertThat(reader.next()).isEqualTo(new ServerSentEvent("message", "token " + i, "" + i));
    }
    assertThat(reader.next()).isNull();
  }

  @Test
  void completesWhenTheProducerFinishesWithoutTrailingNewline() throws Exception {
    Pipe pipe = new Pipe(1024);
    CompletableFuture<Void> producer =
        CompletableFuture.runAsync(
            () -> {
              try (BufferedSink sink = Okio.buffer(pipe.sink())) {
                sink.writeUtf8("data: a\n\ndata: cut off");
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            },
            executor);
    try (SseReader reader = SseReader.create(Okio.buffer(pipe.source()))) {
      assertThat(reader.next()).isEqualTo(ServerSentEvent.of("a"));
      assertThat(reader.next()).isNull();
    }
    producer.get();
  }

  /** Produces {@code size} copies of one byte, counting how many were read. */
  private static final class CountingSource implements Source {
    private final long size;
    private final byte value;
    long produced;

    CountingSource(long size, byte value) {
      this.size = size;
      this.value = value;
    }

    @Override
    public long read(Buffer sink, long byteCount) {
      if (produced == size) {
        return -1;
      }
      int n = (int) Math.min(Math.min(byteCount, size - produced), 8192);
      for (int i = 0; i < n; i++) {
        sink.writeByte(value);
      }
      produced += n;
      return n;
    }

    @Override
    public Timeout timeout() {
      return Timeout.NONE;
    }

    @Override
    public void close() {}
  }
}
