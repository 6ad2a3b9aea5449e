package dev.llmgateway.sse;

import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import okio.BufferedSink;
import okio.ByteString;
import okio.Okio;
import org.jspecify.annotations.Nullable;

/**
 * Writes server-sent events in the WHATWG event-stream format, for instance to relay a stream to a
 * browser's {@code EventSource}. What it writes, read by {@link SseReader}, gives back the events
 * written, except that line breaks in data come back as LF (the format cannot carry CR).
 *
 * <p>Each event is written as:
 *
 * <ul>
 *   <li>an {@code id:} line when the event's {@link ServerSentEvent#id() id} differs from the last
 *       one this writer wrote (an empty {@code id:} line when it becomes null): event IDs persist
 *       on the reading side, so this makes the reader's ID equal the event's;
 *   <li>an {@code event:} line unless the type is {@value ServerSentEvent#DEFAULT_TYPE};
 *   <li>one {@code data:} line per line of the data, split at CR, LF and CRLF;
 *   <li>a blank line.
 * </ul>
 *
 * Lines end in LF; text is encoded as UTF-8 (an unpaired surrogate is written as {@code ?}).
 * Comments ({@link #writeComment(String)}) serve as heartbeats; {@link #writeRetry(Duration)} sets
 * the client's reconnection time.
 *
 * <p>By default each call flushes, so events reach the client at once; see {@link
 * Builder#flushEachWrite(boolean)}.
 *
 * <p>Thread-safe: each call writes its lines atomically, so another thread may send heartbeats
 * while one thread writes events. A heartbeat thread that must never wait behind a slow client
 * uses {@link #tryWriteComment(String)}, which gives up at once when another call is writing. The
 * writer holds a {@link ReentrantLock}, not a monitor, around its I/O, so a virtual thread blocked
 * on a slow client does not pin its carrier.
 */
public final class SseWriter implements Closeable, Flushable {
  private static final ByteString DATA_PREFIX = ByteString.encodeUtf8("data: ");
  private static final ByteString EMPTY_DATA = ByteString.encodeUtf8("data:\n");
  private static final ByteString EVENT_PREFIX = ByteString.encodeUtf8("event: ");
  private static final ByteString ID_PREFIX = ByteString.encodeUtf8("id: ");
  private static final ByteString EMPTY_ID = ByteString.encodeUtf8("id:\n");
  private static final ByteString RETRY_PREFIX = ByteString.encodeUtf8("retry: ");
  private static final ByteString COMMENT_PREFIX = ByteString.encodeUtf8(": ");
  private static final ByteString EMPTY_COMMENT = ByteString.encodeUtf8(":\n");

  private final ReentrantLock lock = new ReentrantLock();
  private final BufferedSink sink;
  private final boolean flushEachWrite;
  private @Nullable String lastId;
  private boolean closed;

  private SseWriter(BufferedSink sink, Builder builder) {
    this.sink = sink;
    this.flushEachWrite = builder.flushEachWrite;
    this.lastId = builder.lastEventId;
  }

  /**
   * Returns a writer that flushes after each call. The writer owns the stream: {@link #close()}
   * closes it.
   *
   * @param out the stream, for instance a servlet response's output stream
   * @return a new writer
   */
  public static SseWriter create(OutputStream out) {
    return builder().build(out);
  }

  /**
   * Returns a writer that flushes after each call. The writer owns the sink: {@link #close()}
   * closes it.
   *
   * @param sink the sink
   * @return a new writer
   */
  public static SseWriter create(BufferedSink sink) {
    return builder().build(sink);
  }

  /**
   * Starts a builder holding the defaults: flush after each call, no last event ID.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Writes one event.
   *
   * @param event the event
   * @throws IOException if writing fails, or the writer is closed
   */
  public void write(ServerSentEvent event) throws IOException {
    lock.lock();
    try {
      writeEvent(event);
    } finally {
      lock.unlock();
    }
  }

  private void writeEvent(ServerSentEvent event) throws IOException {
    checkOpen();
    String id = event.id();
    if (!Objects.equals(id, lastId)) {
      if (id == null) {
        sink.write(EMPTY_ID);
      } else {
        sink.write(ID_PREFIX).writeUtf8(id).writeByte('\n');
      }
      lastId = id;
    }
    if (!event.type().equals(ServerSentEvent.DEFAULT_TYPE)) {
      sink.write(EVENT_PREFIX).writeUtf8(event.type()).writeByte('\n');
    }
    writeLines(event.data(), DATA_PREFIX, EMPTY_DATA);
    sink.writeByte('\n');
    finishWrite();
  }

  /**
   * Writes a comment, which readers ignore: use it as a heartbeat that keeps proxies from closing
   * an idle connection. Text with line breaks becomes several comment lines.
   *
   * @param text the comment, for instance {@code "ping"}; may be empty
   * @throws IOException if writing fails, or the writer is closed
   */
  public void writeComment(String text) throws IOException {
    lock.lock();
    try {
      writeCommentLines(text);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Writes a comment like {@link #writeComment(String)}, unless another thread is writing at this
   * moment: then it writes nothing and returns at once. For heartbeats sent from a thread that must
   * not wait behind a slow client: an event being written keeps the connection alive anyway.
   *
   * @param text the comment, for instance {@code "ping"}; may be empty
   * @return true if the comment was written, false if another call was writing
   * @throws IOException if writing fails, or the writer is closed
   */
  public boolean tryWriteComment(String text) throws IOException {
    Objects.requireNonNull(text, "text");
    if (!lock.tryLock()) {
      return false;
    }
    try {
      writeCommentLines(text);
      return true;
    } finally {
      lock.unlock();
    }
  }

  private void writeCommentLines(String text) throws IOException {
    checkOpen();
    writeLines(text, COMMENT_PREFIX, EMPTY_COMMENT);
    finishWrite();
  }

  /**
   * Writes a {@code retry} field: how long a client should wait before reconnecting. It applies at
   * once, not with the next event.
   *
   * @param reconnectionTime the time, in whole milliseconds (sub-millisecond parts are dropped)
   * @throws IllegalArgumentException if {@code reconnectionTime} is negative
   * @throws IOException if writing fails, or the writer is closed
   */
  public void writeRetry(Duration reconnectionTime) throws IOException {
    if (reconnectionTime.isNegative()) {
      throw new IllegalArgumentException("reconnectionTime < 0: " + reconnectionTime);
    }
    long millis;
    try {
      millis = reconnectionTime.toMillis();
    } catch (ArithmeticException e) {
      millis = Long.MAX_VALUE;
    }
    lock.lock();
    try {
      checkOpen();
      sink.write(RETRY_PREFIX).writeDecimalLong(millis).writeByte('\n');
      finishWrite();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Sends everything written so far to the underlying stream.
   *
   * @throws IOException if writing fails, or the writer is closed
   */
  @Override
  public void flush() throws IOException {
    lock.lock();
    try {
      checkOpen();
      sink.flush();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Flushes and closes the underlying stream. Idempotent.
   *
   * @throws IOException if flushing or closing fails
   */
  @Override
  public void close() throws IOException {
    lock.lock();
    try {
      if (!closed) {
        closed = true;
        sink.close();
      }
    } finally {
      lock.unlock();
    }
  }

  private void checkOpen() throws IOException {
    if (closed) {
      throw new IOException("SseWriter is closed");
    }
  }

  /** Writes {@code text} as one line per line of it, split at CR, LF and CRLF. */
  private void writeLines(String text, ByteString prefix, ByteString emptyLine) throws IOException {
    int start = 0;
    int length = text.length();
    while (true) {
      int end = start;
      while (end < length && text.charAt(end) != '\n' && text.charAt(end) != '\r') {
        end++;
      }
      if (end == start) {
        sink.write(emptyLine);
      } else {
        sink.write(prefix).writeUtf8(text, start, end).writeByte('\n');
      }
      if (end == length) {
        return;
      }
      start = end + 1;
      if (text.charAt(end) == '\r' && start < length && text.charAt(start) == '\n') {
        start++;
      }
    }
  }

  private void finishWrite() throws IOException {
    if (flushEachWrite) {
      sink.flush();
    } else {
      sink.emitCompleteSegments();
    }
  }

  /**
   * Configures writers. A builder may build many.
   *
   * <p>Not thread-safe.
   */
  public static final class Builder {
    private boolean flushEachWrite = true;
    private @Nullable String lastEventId;

    private Builder() {}

    /**
     * Sets whether each call flushes the stream. Turn it off only when the caller flushes itself
     * (for instance after a batch of events); otherwise events wait in the buffer.
     *
     * @param flushEachWrite true (the default) to flush after each call
     * @return this builder
     */
    public Builder flushEachWrite(boolean flushEachWrite) {
      this.flushEachWrite = flushEachWrite;
      return this;
    }

    /**
     * Sets the last event ID the client already has (the {@code Last-Event-ID} it reconnected
     * with), so that the first event writes an {@code id:} line only if its ID differs.
     *
     * @param lastEventId the ID, or null (or empty) for none
     * @return this builder
     * @throws IllegalArgumentException if {@code lastEventId} contains CR, LF or NUL
     */
    public Builder lastEventId(@Nullable String lastEventId) {
      this.lastEventId = new ServerSentEvent(ServerSentEvent.DEFAULT_TYPE, "", lastEventId).id();
      return this;
    }

    /**
     * Returns a writer over an output stream. The writer owns the stream: {@link SseWriter#close()}
     * closes it.
     *
     * @param out the stream
     * @return a new writer
     */
    public SseWriter build(OutputStream out) {
      return build(Okio.buffer(Okio.sink(Objects.requireNonNull(out, "out"))));
    }

    /**
     * Returns a writer over an Okio sink. The writer owns the sink: {@link SseWriter#close()}
     * closes it.
     *
     * @param sink the sink
     * @return a new writer
     */
    public SseWriter build(BufferedSink sink) {
      return new SseWriter(Objects.requireNonNull(sink, "sink"), this);
    }
  }
}
