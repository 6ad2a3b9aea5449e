package dev.llmgateway.host.internal;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Filters what may travel from an upstream answer into a response the end user sees. */
public final class SafeText {
  private static final Pattern CODE = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");
  private static final Pattern FIELD_SEGMENT = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private SafeText() {}

  /**
   * Returns a service error code if it looks like one: 1 to 64 letters, digits, {@code _ . : -}.
   *
   * @param code the code as the service sent it
   * @return the code, or {@code "unknown"} for anything else (free text, URLs, markup)
   */
  public static String code(@Nullable String code) {
    return code != null && CODE.matcher(code).matches() ? code : "unknown";
  }

  /**
   * Turns a FastAPI {@code loc} path into a field name: the leading {@code body}, {@code query}
   * or {@code path} segment dropped, the rest joined with dots.
   *
   * @param location the {@code loc} segments
   * @return the field name, or null when a segment is not a plain identifier or index
   */
  public static @Nullable String field(List<String> location) {
    int start = !location.isEmpty() && List.of("body", "query", "path", "header").contains(location.get(0)) ? 1 : 0;
    if (start >= location.size() || location.size() - start > 8) {
      return null;
    }
    StringBuilder field = new StringBuilder();
    for (String segment : location.subList(start, location.size())) {
      if (!FIELD_SEGMENT.matcher(segment).matches()) {
        return null;
      }
      if (field.length() > 0) {
        field.append('.');
      }
      field.append(segment);
    }
    return field.toString();
  }

  /**
   * Rounds a wait up to whole seconds for a {@code Retry-After} header, at least 1 so that no
   * client is told to retry at once.
   *
   * @param wait the wait
   * @return the seconds, at least 1
   */
  public static long retryAfterSeconds(Duration wait) {
    if (wait.isNegative() || wait.isZero()) {
      return 1;
    }
    long seconds = wait.getSeconds() + (wait.getNano() > 0 ? 1 : 0);
    return Math.max(1, seconds);
  }
}
