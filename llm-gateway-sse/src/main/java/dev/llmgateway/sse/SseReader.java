package dev.llmgateway.sse;

import dev.llmgateway.sse.internal.Utf8;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Objects;
import okio.Buffer;
import okio.BufferedSource;
import okio.ByteString;
import okio.Okio;
import org.jspecify.annotations.Nullable;

/**
 * Reads server-sent events from a byte stream, exactly as the WHATWG HTML standard's "event stream
 * interpretation" algorithm: UTF-8 (invalid sequences become U+FFFD, one leading BOM is skipped),
 * lines ending in CR, LF or CRLF, {@code data}/{@code event}/{@code id}/{@code retry} fields,
 * comments, and an event dispatched at each blank line.
 *
 * <pre>{@code
 * try (SseReader reader = SseReader.create(response.body().source())) {
 *   for (ServerSentEvent event; (event = reader.next()) != null; ) {
 *     handle(event);
 *   }
 * }
 * }</pre>
 *
 * <p>{@link #next()} returns an event as soon as the blank line that ends it has arrived; it never
 * waits for more bytes than that (a line ending in CR is complete even before a possible LF
 * follows). Lines and UTF-8 characters may be split across network reads anywhere. An event not
 * ended by a blank line before the end of the stream is not dispatched, as the standard says; a
 * caller that needs to detect truncation must look at the events themselves (for instance a final
 * {@code data: [DONE]}).
 *
 * <p>Memory is bounded: a line or an event's data longer than {@link Builder#maxEventSize(int)}
 * bytes ends reading with {@link SseLimitExceededException}.
 *
 * <p><strong>Not thread-safe:</strong> one thread consumes a reader. To stop a blocked {@link
 * #next()} from another thread, cancel the underlying call or close its socket; {@link #close()} is
 * not meant to be called concurrently with {@code next()}.
 */
public final class SseReader implements AutoCloseable {
  /** The default {@linkplain Builder#maxEventSize(int) size limit}: 1 MiB. */
  public static final int DEFAULT_MAX_EVENT_SIZE = 1024 * 1024;

  /** Data values up to this many bytes are decoded through {@link #scratch}. */
  private static final int SCRATCH_SIZE = 1024;

  private static final ByteString LINE_BREAKS = ByteString.encodeUtf8("\r\n");
  private static final ByteString DATA = ByteString.encodeUtf8("data");
  private static final ByteString EVENT = ByteString.encodeUtf8("event");
  private static final ByteString ID = ByteString.encodeUtf8("id");
  private static final ByteString RETRY = ByteString.encodeUtf8("retry");
  private static final ByteString BOM = ByteString.decodeHex("efbbbf");

  /**
   * Receives the comment lines of a stream (lines starting with {@code :}), which servers send as
   * heartbeats. Called on the thread running {@link SseReader#next()}, before {@code next()}
   * returns; an exception it throws propagates out of {@code next()}. Must not block.
   */
  @FunctionalInterface
  public interface CommentListener {
    /**
     * A comment line arrived.
     *
     * @param comment the text after the colon, without one leading space: {@code ": ping"} gives
     *     {@code "ping"}
     */
    void onComment(String comment);
  }

  private final BufferedSource source;
  private final Buffer buffer;
  private final int maxEventSize;
  private final @Nullable CommentListener commentListener;

  /** The data buffer, as UTF-8: each data line's value followed by LF. */
  private final Buffer data = new Buffer();

  /** Bytes of a short value on their way to the JDK's UTF-8 decoder. */
  private final byte[] scratch = new byte[SCRATCH_SIZE];

  /** The event type buffer; empty means none. */
  private String eventType = "";

  /** The last event ID buffer, set by {@code id} fields. */
  private String idBuffer;

  /** The last event ID string, set from the buffer at each dispatch. */
  private String lastEventId;

  private @Nullable Duration retry;

  /** The line end length of the line {@link #nextLine()} found: 1 (CR, LF) or 2 (CRLF). */
  private int terminatorLength;

  /** The last line ended in a CR that was the last byte available: skip one LF that follows. */
  private boolean skipLeadingLf;

  private boolean started;
  private boolean exhausted;
  private boolean failed;
  private boolean closed;

  private SseReader(BufferedSource source, Builder builder) {
    this.source = source;
    this.buffer = source.getBuffer();
    this.maxEventSize = builder.maxEventSize;
    this.commentListener = builder.commentListener;
    this.idBuffer = builder.lastEventId;
    this.lastEventId = builder.lastEventId;
  }

  /**
   * Returns a reader with the defaults over an Okio source. The reader owns the source: {@link
   * #close()} closes it.
   *
   * @param source the stream, for instance {@code response.body().source()}
   * @return a new reader
   */
  public static SseReader create(BufferedSource source) {
    return builder().build(source);
  }

  /**
   * Returns a reader with the defaults over an input stream. The reader owns the stream: {@link
   * #close()} closes it.
   *
   * @param in the stream
   * @return a new reader
   */
  public static SseReader create(InputStream in) {
    return builder().build(in);
  }

  /**
   * Starts a builder holding the defaults: a {@value #DEFAULT_MAX_EVENT_SIZE}-byte limit, no
   * comment listener, no initial last event ID.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads up to the next dispatched event. Comment lines go to the {@link CommentListener}; {@code
   * retry} and {@code id} fields update {@link #retry()} and {@link #lastEventId()}. Blocks until
   * the blank line ending an event with data has arrived, or the stream ends.
   *
   * @return the event, or null at the end of the stream (again on every later call)
   * @throws SseLimitExceededException if a line, or the data of an event, is longer than {@link
   *     Builder#maxEventSize(int)} bytes
   * @throws IOException if reading the stream fails, or the reader is closed
   * @throws IllegalStateException if an earlier call threw
   */
  public @Nullable ServerSentEvent next() throws IOException {
    if (closed) {
      throw new IOException("SseReader is closed");
    }
    if (failed) {
      throw new IllegalStateException("SseReader failed earlier: it cannot continue the stream");
    }
    if (exhausted) {
      return null;
    }
    boolean ok = false;
    try {
      ServerSentEvent event = readEvent();
      ok = true;
      return event;
    } finally {
      failed = !ok;
    }
  }

  /**
   * Returns the reconnection time the stream asked for, the value of the last {@code retry} field
   * that consisted only of ASCII digits. A value beyond {@link Long#MAX_VALUE} milliseconds
   * saturates to it.
   *
   * @return the reconnection time, or null when the stream sent no valid {@code retry} field yet
   */
  public @Nullable Duration retry() {
    return retry;
  }

  /**
   * Returns the last event ID string: what a reconnecting client sends as {@code Last-Event-ID}. As
   * the standard says, an {@code id} field takes effect here when its event is ended by a blank
   * line (even one without data), and it stays until another {@code id} field changes it.
   *
   * @return the last event ID, or null when there is none (never set, or reset by an empty {@code
   *     id} field)
   */
  public @Nullable String lastEventId() {
    return lastEventId.isEmpty() ? null : lastEventId;
  }

  /**
   * Closes the underlying source. Idempotent.
   *
   * @throws IOException if closing the source fails
   */
  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      source.close();
    }
  }

  private @Nullable ServerSentEvent readEvent() throws IOException {
    if (!started) {
      started = true;
      skipBom();
    }
    while (true) {
      long length = nextLine();
      if (length == -1) {
        exhausted = true;
        return null;
      }
      ServerSentEvent event = processLine(length);
      if (event != null) {
        return event;
      }
    }
  }

  /** Skips one leading UTF-8 BOM, reading no more bytes than the stream's first line needs. */
  private void skipBom() throws IOException {
    for (int i = 0; i < BOM.size(); i++) {
      if (!source.request(i + 1) || buffer.getByte(i) != BOM.getByte(i)) {
        return;
      }
    }
    buffer.skip(BOM.size());
  }

  /**
   * Makes a whole line available at the head of the buffer, reading only as much as needed.
   *
   * @return its length without terminator (then in {@link #terminatorLength}), or -1 if the stream
   *     ended first
   */
  private long nextLine() throws IOException {
    if (skipLeadingLf) {
      if (!source.request(1)) {
        return -1;
      }
      skipLeadingLf = false;
      if (buffer.getByte(0) == '\n') {
        buffer.skip(1);
      }
    }
    long scanned = 0;
    while (true) {
      long end = buffer.indexOfElement(LINE_BREAKS, scanned);
      if (end != -1) {
        checkLineLength(end);
        if (buffer.getByte(end) == '\n') {
          terminatorLength = 1;
        } else if (end + 1 < buffer.size()) {
          terminatorLength = buffer.getByte(end + 1) == '\n' ? 2 : 1;
        } else {
          // CR is the last byte we have: the line is complete now; a following LF belongs to it.
          terminatorLength = 1;
          skipLeadingLf = true;
        }
        return end;
      }
      scanned = buffer.size();
      checkLineLength(scanned);
      // request() returns after one read of the underlying source: what the network has, not more.
      if (!source.request(scanned + 1)) {
        return -1;
      }
    }
  }

  private void checkLineLength(long length) throws SseLimitExceededException {
    if (length > maxEventSize) {
      throw new SseLimitExceededException(
          "Server-sent event line longer than "
              + maxEventSize
              + " bytes (SseReader.Builder.maxEventSize)",
          maxEventSize);
    }
  }

  /** Interprets the line of {@code length} bytes at the head of the buffer and consumes it. */
  private @Nullable ServerSentEvent processLine(long length) throws IOException {
    if (length == 0) {
      buffer.skip(terminatorLength);
      return dispatch(null);
    }
    // The common line, "data:" first: the colon is at 4, no need to search for it.
    long colon =
        length > DATA.size() && buffer.getByte(DATA.size()) == ':' && buffer.rangeEquals(0, DATA)
            ? DATA.size()
            : buffer.indexOf((byte) ':', 0, length);
    if (colon == 0) {
      comment(length);
      buffer.skip(terminatorLength);
      return null;
    }
    long nameLength = colon == -1 ? length : colon;
    long valueStart = colon == -1 ? length : colon + 1;
    if (valueStart < length && buffer.getByte(valueStart) == ' ') {
      valueStart++;
    }
    long valueLength = length - valueStart;
    if (nameLength == DATA.size() && buffer.rangeEquals(0, DATA)) {
      return data(length, valueStart, valueLength);
    }
    if (nameLength == EVENT.size() && buffer.rangeEquals(0, EVENT)) {
      buffer.skip(valueStart);
      eventType = Utf8.readUtf8(buffer, valueLength);
      buffer.skip(terminatorLength);
      return null;
    }
    if (nameLength == ID.size() && buffer.rangeEquals(0, ID)) {
      if (buffer.indexOf((byte) 0, valueStart, length) == -1) {
        buffer.skip(valueStart);
        idBuffer = Utf8.readUtf8(buffer, valueLength);
        buffer.skip(terminatorLength);
        return null;
      }
    } else if (nameLength == RETRY.size() && buffer.rangeEquals(0, RETRY)) {
      retry(valueStart, length);
    }
    buffer.skip(length + terminatorLength);
    return null;
  }

  /**
   * Appends a {@code data} line's value to the data buffer, or, for the common event of one data
   * line whose blank line has already arrived, decodes the value straight from the source and
   * dispatches the event without copying it into the data buffer.
   */
  private @Nullable ServerSentEvent data(long length, long valueStart, long valueLength)
      throws IOException {
    if (data.size() + valueLength > maxEventSize) {
      throw new SseLimitExceededException(
          "Server-sent event data longer than "
              + maxEventSize
              + " bytes (SseReader.Builder.maxEventSize)",
          maxEventSize);
    }
    if (data.size() == 0) {
      long blankLine = length + terminatorLength;
      int blankLineEnd = blankLineTerminatorAt(blankLine);
      if (blankLineEnd != 0) {
        buffer.skip(valueStart);
        String text = Utf8.readUtf8(buffer, valueLength, scratch);
        buffer.skip(terminatorLength + blankLineEnd);
        return dispatch(text);
      }
    }
    buffer.skip(valueStart);
    data.write(buffer, valueLength);
    data.writeByte('\n');
    buffer.skip(terminatorLength);
    return null;
  }

  /**
   * Returns the terminator length (1 or 2) of the blank line starting at {@code offset} if the
   * buffer already holds it, else 0 (not blank, or not arrived yet: the caller takes the general
   * path). A CR that is the last byte available ends the blank line; a following LF is then
   * skipped as in {@link #nextLine()}.
   */
  private int blankLineTerminatorAt(long offset) {
    long size = buffer.size();
    if (skipLeadingLf || offset >= size) {
      return 0;
    }
    byte b = buffer.getByte(offset);
    if (b == '\n') {
      return 1;
    }
    if (b != '\r') {
      return 0;
    }
    if (offset + 1 < size) {
      return buffer.getByte(offset + 1) == '\n' ? 2 : 1;
    }
    skipLeadingLf = true;
    return 1;
  }

  private void comment(long length) throws IOException {
    CommentListener listener = commentListener;
    if (listener == null) {
      buffer.skip(length);
      return;
    }
    long start = length > 1 && buffer.getByte(1) == ' ' ? 2 : 1;
    buffer.skip(start);
    listener.onComment(Utf8.readUtf8(buffer, length - start));
  }

  /** Applies a {@code retry} field whose value spans {@code [start, end)} of the buffer. */
  private void retry(long start, long end) {
    if (start == end) {
      return;
    }
    long millis = 0;
    for (long i = start; i < end; i++) {
      int digit = buffer.getByte(i) - '0';
      if (digit < 0 || digit > 9) {
        return;
      }
      if (millis > (Long.MAX_VALUE - digit) / 10) {
        millis = Long.MAX_VALUE; // keep scanning: a later non-digit still voids the field
      } else {
        millis = millis * 10 + digit;
      }
    }
    retry = Duration.ofMillis(millis);
  }

  /**
   * Ends the event at a blank line.
   *
   * @param text the event's data when decoded already (the data buffer is then empty), else null
   */
  private @Nullable ServerSentEvent dispatch(@Nullable String text) throws IOException {
    lastEventId = idBuffer;
    String type = eventType;
    eventType = "";
    if (text == null) {
      long size = data.size();
      if (size == 0) {
        return null;
      }
      text = Utf8.readUtf8(data, size - 1);
      data.skip(1);
    }
    return new ServerSentEvent(type, text, lastEventId);
  }

  /**
   * Configures readers. Build one per stream; a builder may build many.
   *
   * <p>Not thread-safe.
   */
  public static final class Builder {
    private int maxEventSize = DEFAULT_MAX_EVENT_SIZE;
    private @Nullable CommentListener commentListener;
    private String lastEventId = "";

    private Builder() {}

    /**
     * Sets the size limit: the longest line, and the longest data of one event (the UTF-8 bytes of
     * its data values joined with LF), in bytes. Beyond it {@link SseReader#next()} throws {@link
     * SseLimitExceededException}. At most about this many bytes are buffered per stream, plus one
     * network read.
     *
     * @param bytes the limit; default {@value SseReader#DEFAULT_MAX_EVENT_SIZE}
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is not positive
     */
    public Builder maxEventSize(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxEventSize <= 0: " + bytes);
      }
      this.maxEventSize = bytes;
      return this;
    }

    /**
     * Sets the listener for comment lines (heartbeats such as {@code : ping}). Comments are never
     * events; without a listener they are skipped without decoding.
     *
     * @param listener the listener, or null for none
     * @return this builder
     */
    public Builder commentListener(@Nullable CommentListener listener) {
      this.commentListener = listener;
      return this;
    }

    /**
     * Sets the last event ID the stream starts with: when reconnecting, the value sent as {@code
     * Last-Event-ID}, which events carry until the stream sends an {@code id} field.
     *
     * @param lastEventId the ID, or null (or empty) for none
     * @return this builder
     * @throws IllegalArgumentException if {@code lastEventId} contains CR, LF or NUL
     */
    public Builder lastEventId(@Nullable String lastEventId) {
      if (lastEventId != null
          && (lastEventId.indexOf('\r') >= 0
              || lastEventId.indexOf('\n') >= 0
              || lastEventId.indexOf('\0') >= 0)) {
        throw new IllegalArgumentException("lastEventId contains CR, LF or NUL");
      }
      this.lastEventId = lastEventId == null ? "" : lastEventId;
      return this;
    }

    /**
     * Returns a reader over an Okio source. The reader owns the source: {@link SseReader#close()}
     * closes it.
     *
     * @param source the stream
     * @return a new reader
     */
    public SseReader build(BufferedSource source) {
      return new SseReader(Objects.requireNonNull(source, "source"), this);
    }

    /**
     * Returns a reader over an input stream. The reader owns the stream: {@link SseReader#close()}
     * closes it.
     *
     * @param in the stream
     * @return a new reader
     */
    public SseReader build(InputStream in) {
      return build(Okio.buffer(Okio.source(Objects.requireNonNull(in, "in"))));
    }
  }
}
