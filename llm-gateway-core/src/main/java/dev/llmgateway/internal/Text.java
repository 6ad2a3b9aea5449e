package dev.llmgateway.internal;

import org.jspecify.annotations.Nullable;

/** Text helpers for logs and messages. */
public final class Text {
  /** Longest query shown in logs, audit lines and {@code toString()}, in UTF-16 chars, ellipsis included. */
  public static final int PREVIEW_CHARS = 50;

  private Text() {}

  /**
   * Returns at most {@value #PREVIEW_CHARS} UTF-16 chars of {@code text} ({@code length()}
   * at most that, so also at most that many code points), an ellipsis included when cut, never
   * splitting a surrogate pair; control characters replaced by spaces and unpaired surrogates by
   * U+FFFD, so that user text cannot forge log lines nor break a sink that encodes them as UTF-8.
   */
  public static String preview(@Nullable String text) {
    return preview(text, PREVIEW_CHARS);
  }

  /**
   * Like {@link #preview(String)} with another bound: at most {@code maxChars} UTF-16 chars
   * (at least 2), ellipsis included.
   */
  public static String preview(@Nullable String text, int maxChars) {
    if (text == null) {
      return "";
    }
    // Cut when the text is longer than the bound: keep room for the ellipsis.
    int keep = text.length() <= maxChars ? maxChars : maxChars - 1;
    StringBuilder out = new StringBuilder(Math.min(text.length(), maxChars));
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      int width = Character.charCount(cp);
      if (out.length() + width > keep) {
        out.append('\u2026');
        break;
      }
      out.appendCodePoint(breaksALine(cp) ? ' ' : Character.isSurrogate((char) cp) ? '\uFFFD' : cp);
      i += width;
    }
    return out.toString();
  }

  /**
   * Control characters, Unicode line and paragraph separators and bidirectional overrides: what
   * could start a forged log line or make one read backwards.
   */
  private static boolean breaksALine(int cp) {
    return Character.isISOControl(cp) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E)
        || (cp >= 0x2066 && cp <= 0x2069);
  }

  /** True when every char is printable ASCII (space to tilde), as HTTP header values must be. */
  public static boolean isHeaderSafe(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  /**
   * Returns the index of the first unpaired UTF-16 surrogate of {@code text}, or -1 when it has
   * none, i.e. when the text has a UTF-8 encoding.
   */
  public static int unpairedSurrogate(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }
}
