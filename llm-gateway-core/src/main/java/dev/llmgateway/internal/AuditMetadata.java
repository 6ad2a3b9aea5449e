package dev.llmgateway.internal;

import dev.llmgateway.AuditEvent;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A request's metadata as the audit keeps it ({@link AuditEvent#metadata()}): the first {@value
 * AuditEvent#MAX_METADATA_ENTRIES} entries, keys cut to {@value AuditEvent#MAX_METADATA_KEY_CHARS}
 * characters and values to {@value AuditEvent#MAX_PREVIEW_CHARS} ({@link Text#preview}: control
 * characters and unpaired surrogates replaced), strings as they are and other values as compact
 * JSON. Never walks more of a nested value than the bound needs.
 */
public final class AuditMetadata {
  private AuditMetadata() {}

  /** The bounded copy of {@code metadata}; {@link Map#of()} (no allocation) when it is empty. */
  public static Map<String, String> of(Map<String, ? extends @Nullable Object> metadata) {
    if (metadata.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>(Math.min(metadata.size(), AuditEvent.MAX_METADATA_ENTRIES) * 2);
    for (Map.Entry<String, ? extends @Nullable Object> entry : metadata.entrySet()) {
      if (out.size() == AuditEvent.MAX_METADATA_ENTRIES) {
        break;
      }
      // A longer rendering is cut by the preview; one char more shows that it was cut.
      StringBuilder value = new StringBuilder(16);
      render(entry.getValue(), value, AuditEvent.MAX_PREVIEW_CHARS + 1, true);
      out.putIfAbsent(Text.preview(String.valueOf(entry.getKey()), AuditEvent.MAX_METADATA_KEY_CHARS),
          Text.preview(value.toString(), AuditEvent.MAX_PREVIEW_CHARS));
    }
    return out;
  }

  /** Appends {@code value} as compact JSON (a top-level string bare) until {@code out} holds {@code limit} chars. */
  private static void render(@Nullable Object value, StringBuilder out, int limit, boolean top) {
    if (out.length() >= limit) {
      return;
    }
    if (value instanceof CharSequence) {
      CharSequence text = (CharSequence) value;
      if (top) {
        out.append(text, 0, Math.min(text.length(), limit + 1));
      } else {
        out.append('"').append(text, 0, Math.min(text.length(), Math.max(0, limit - out.length()) + 1)).append('"');
      }
    } else if (value instanceof Map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
        if (out.length() >= limit) {
          return;
        }
        if (!first) {
          out.append(',');
        }
        first = false;
        render(String.valueOf(entry.getKey()), out, limit, false);
        out.append(':');
        render(entry.getValue(), out, limit, false);
      }
      out.append('}');
    } else if (value instanceof Collection) {
      out.append('[');
      boolean first = true;
      for (Object item : (Collection<?>) value) {
        if (out.length() >= limit) {
          return;
        }
        if (!first) {
          out.append(',');
        }
        first = false;
        render(item, out, limit, false);
      }
      out.append(']');
    } else {
      out.append(value);
    }
  }
}
