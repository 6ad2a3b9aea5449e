package dev.llmgateway.internal;

import org.jspecify.annotations.Nullable;

/** Text helpers for logs and messages. */
public final class Text {
  /** Longest query shown in logs, audit lines and {@code toString()}. */
  public static final int PREVIEW_CODE_POINTS = 50;

  private Text() {}

  /**
   * Returns at most the first {@value #PREVIEW_CODE_POINTS} code points of {@code text}, control
   * characters replaced by spaces, unpaired surrogates by U+FFFD and an ellipsis appended when cut,
   * so that user text cannot forge log lines nor break a sink that encodes them as UTF-8.
   */
  public static String preview(@Nullable String text) {
    return preview(text, PREVIEW_CODE_POINTS);
  }

  /** Like {@link #preview(String)} with another length. */
  public static String preview(@Nullable String text, int maxCodePoints) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(Math.min(text.length(), maxCodePoints * 2) + 1);
    int count = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      if (count == maxCodePoints) {
        out.append('\u2026');
        break;
      }
      out.appendCodePoint(breaksALine(cp) ? ' ' : Character.isSurrogate((char) cp) ? '\uFFFD' : cp);
      count++;
      i += Character.charCount(cp);
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
