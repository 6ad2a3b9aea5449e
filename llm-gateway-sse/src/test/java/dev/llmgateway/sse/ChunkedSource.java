package dev.llmgateway.sse;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import okio.Buffer;
import okio.Source;
import okio.Timeout;

/**
 * A source that hands out one preset chunk per read, like a network connection delivering TCP
 * segments. Optionally scripted: chunks are added while reading, and a read with nothing available
 * before {@link #end()} fails the test instead of blocking, which proves the reader did not ask for
 * bytes it did not need.
 */
final class ChunkedSource implements Source {
  private final Deque<byte[]> chunks = new ArrayDeque<>();
  private final boolean scripted;
  private boolean ended;
  private int offset;
  private long bytesRead;
  private boolean closed;

  private ChunkedSource(boolean scripted) {
    this.scripted = scripted;
  }

  /** A source that delivers {@code chunks} and then ends. */
  static ChunkedSource of(List<byte[]> chunks) {
    ChunkedSource source = new ChunkedSource(false);
    source.chunks.addAll(chunks);
    source.ended = true;
    return source;
  }

  /** A source that delivers what {@link #add(byte[])} gave it, and fails a read that would wait. */
  static ChunkedSource scripted() {
    return new ChunkedSource(true);
  }

  void add(byte[] chunk) {
    chunks.add(chunk);
  }

  void end() {
    ended = true;
  }

  long bytesRead() {
    return bytesRead;
  }

  boolean closed() {
    return closed;
  }

  @Override
  public long read(Buffer sink, long byteCount) {
    byte[] chunk = chunks.peek();
    if (chunk == null) {
      if (scripted && !ended) {
        throw new AssertionError("reader waited for bytes it did not need");
      }
      return -1;
    }
    int n = (int) Math.min(chunk.length - offset, byteCount);
    sink.write(chunk, offset, n);
    offset += n;
    if (offset == chunk.length) {
      chunks.remove();
      offset = 0;
    }
    bytesRead += n;
    return n;
  }

  @Override
  public Timeout timeout() {
    return Timeout.NONE;
  }

  @Override
  public void close() {
    closed = true;
  }

  /** An input stream that returns one chunk per read. */
  static InputStream inputStream(List<byte[]> chunks) {
    Deque<byte[]> queue = new ArrayDeque<>(chunks);
    return new InputStream() {
      private int offset;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) == -1 ? -1 : one[0] & 0xFF;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        byte[] chunk = queue.peek();
        if (chunk == null) {
          return -1;
        }
        int n = Math.min(chunk.length - offset, len);
        System.arraycopy(chunk, offset, b, off, n);
        offset += n;
        if (offset == chunk.length) {
          queue.remove();
          offset = 0;
        }
        return n;
      }
    };
  }

  /** Splits {@code bytes} at the given offsets. */
  static List<byte[]> split(byte[] bytes, int... at) {
    List<byte[]> result = new ArrayList<>();
    int start = 0;
    for (int end : at) {
      result.add(Arrays.copyOfRange(bytes, start, end));
      start = end;
    }
    result.add(Arrays.copyOfRange(bytes, start, bytes.length));
    return result;
  }

  /** Splits {@code bytes} into chunks of random sizes, often tiny, sometimes large. */
  static List<byte[]> randomChunks(byte[] bytes, Random random) {
    List<byte[]> result = new ArrayList<>();
    int start = 0;
    while (start < bytes.length) {
      int size = random.nextInt(4) == 0 ? 1 + random.nextInt(64) : 1 + random.nextInt(4);
      int end = Math.min(bytes.length, start + size);
      result.add(Arrays.copyOfRange(bytes, start, end));
      start = end;
    }
    return result;
  }

  /** One chunk per byte. */
  static List<byte[]> bytewise(byte[] bytes) {
    List<byte[]> result = new ArrayList<>();
    for (byte b : bytes) {
      result.add(new byte[] {b});
    }
    return result;
  }
}
