package dev.llmgateway.sse.internal;

import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import okio.Buffer;

/**
 * UTF-8 decoding exactly as the WHATWG Encoding standard's "UTF-8 decode without BOM": each maximal
 * invalid subpart becomes one U+FFFD.
 *
 * <p>The JDK's decoder (which Okio uses) agrees with it except on encoded surrogates ({@code ED
 * A0..BF ..}), which it replaces with one U+FFFD where WHATWG gives one per byte. Bytes without
 * {@code 0xED} therefore take the JDK's fast path.
 *
 * <p>Stateless; thread-safe.
 */
public final class Utf8 {
  private static final char REPLACEMENT = '\uFFFD';

  private Utf8() {}

  /**
   * Removes {@code byteCount} bytes from the head of {@code buffer} and decodes them.
   *
   * @param buffer the bytes
   * @param byteCount how many bytes to decode; at most {@code buffer.size()}
   * @return the decoded text
   * @throws EOFException if the buffer holds fewer than {@code byteCount} bytes
   */
  public static String readUtf8(Buffer buffer, long byteCount) throws EOFException {
    if (byteCount == 0) {
      return "";
    }
    if (buffer.indexOf((byte) 0xED, 0, byteCount) == -1) {
      return buffer.readUtf8(byteCount);
    }
    return decode(buffer.readByteArray(byteCount));
  }

  /**
   * Like {@link #readUtf8(Buffer, long)}, copying the bytes through {@code scratch} when they fit
   * (one bulk copy, then the JDK's decoder, instead of scanning the buffer for {@code 0xED} first):
   * only when the decoded text holds a U+FFFD and the bytes an {@code 0xED} does it decode again per
   * WHATWG.
   *
   * @param buffer the bytes
   * @param byteCount how many bytes to decode; at most {@code buffer.size()}
   * @param scratch a reusable array; its contents are overwritten
   * @return the decoded text
   * @throws EOFException if the buffer holds fewer than {@code byteCount} bytes
   */
  public static String readUtf8(Buffer buffer, long byteCount, byte[] scratch)
      throws EOFException {
    if (byteCount > scratch.length) {
      return readUtf8(buffer, byteCount);
    }
    int n = (int) byteCount;
    for (int read = 0; read < n; ) {
      int r = buffer.read(scratch, read, n - read);
      if (r == -1) {
        throw new EOFException();
      }
      read += r;
    }
    String text = new String(scratch, 0, n, StandardCharsets.UTF_8);
    if (text.indexOf(REPLACEMENT) >= 0) {
      for (int i = 0; i < n; i++) {
        if (scratch[i] == (byte) 0xED) {
          return decode(Arrays.copyOf(scratch, n));
        }
      }
    }
    return text;
  }

  /**
   * Decodes bytes per WHATWG "UTF-8 decode without BOM".
   *
   * @param bytes the bytes
   * @return the decoded text
   */
  public static String decode(byte[] bytes) {
    char[] out = new char[bytes.length]; // one byte yields at most one char, four bytes two
    int n = 0;
    int codePoint = 0;
    int bytesSeen = 0;
    int bytesNeeded = 0;
    int lower = 0x80;
    int upper = 0xBF;
    int i = 0;
    while (i < bytes.length) {
      int b = bytes[i] & 0xFF;
      if (bytesNeeded == 0) {
        i++;
        if (b <= 0x7F) {
          out[n++] = (char) b;
        } else if (b >= 0xC2 && b <= 0xDF) {
          bytesNeeded = 1;
          codePoint = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
          if (b == 0xE0) {
            lower = 0xA0;
          } else if (b == 0xED) {
            upper = 0x9F;
          }
          bytesNeeded = 2;
          codePoint = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF4) {
          if (b == 0xF0) {
            lower = 0x90;
          } else if (b == 0xF4) {
            upper = 0x8F;
          }
          bytesNeeded = 3;
          codePoint = b & 0x07;
        } else {
          out[n++] = REPLACEMENT;
        }
        continue;
      }
      if (b < lower || b > upper) {
        // Not consumed: the byte is processed again as the start of a new sequence.
        codePoint = 0;
        bytesNeeded = 0;
        bytesSeen = 0;
        lower = 0x80;
        upper = 0xBF;
        out[n++] = REPLACEMENT;
        continue;
      }
      i++;
      lower = 0x80;
      upper = 0xBF;
      codePoint = (codePoint << 6) | (b & 0x3F);
      bytesSeen++;
      if (bytesSeen == bytesNeeded) {
        n += Character.toChars(codePoint, out, n);
        codePoint = 0;
        bytesNeeded = 0;
        bytesSeen = 0;
      }
    }
    if (bytesNeeded != 0) {
      out[n++] = REPLACEMENT;
    }
    return new String(out, 0, n);
  }
}
