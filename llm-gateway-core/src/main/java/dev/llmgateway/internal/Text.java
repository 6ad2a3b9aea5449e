package dev.llmgateway.internal;

import org.jspecify.annotations.Nullable;

/** Text helpers for logs and messages. */
public final class Text {
  /** Longest query shown in logs, audit lines and {@code toString()}. */
  public static final int PREVIEW_CODE_POINTS = 50;

  private Text() {}

  /**
   * Returns at most the first {@value #PREVIEW_CODE_POINTS} code points of {@code text}, control
   * characters replaced by spaces and an ellipsis appended when cut, so that user text cannot forge
   * log lines.
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
      out.appendCodePoint(Character.isISOControl(cp) ? ' ' : cp);
      count++;
      i += Character.charCount(cp);
    }
    return out.toString();
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
}
