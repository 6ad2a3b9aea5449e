package dev.llmgateway.sandbox.internal;

import dev.llmgateway.internal.Text;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A fault requested by a {@code #sandbox:key=value,...} directive inside a chat query. The syntax is
 * documented on {@link SandboxService}.
 *
 * @param status the HTTP status to answer with, or null to answer normally
 * @param times how many attempts (per user and query text) fail; {@link #ALWAYS} for all of them
 * @param retryAfterSeconds the {@code Retry-After} header to send, or null for the default
 * @param stream {@code "error"} or {@code "cut"} to break a stream mid-way, or null
 */
record FaultDirective(
    @Nullable Integer status, int times, @Nullable Integer retryAfterSeconds, @Nullable String stream) {
  /** {@link #times()} of a directive that fails every attempt. */
  static final int ALWAYS = Integer.MAX_VALUE;
  /** The stream fault that sends an {@code error} event instead of {@code done}. */
  static final String STREAM_ERROR = "error";
  /** The stream fault that ends the body without {@code done} and without {@code [DONE]}. */
  static final String STREAM_CUT = "cut";

  private static final Pattern DIRECTIVE = Pattern.compile("#sandbox:(\\S*)");
  private static final Pattern DIRECTIVE_WITH_SPACE = Pattern.compile("\\s*#sandbox:\\S*");

  /**
   * Returns the first directive in {@code query}.
   *
   * @param query the query as sent
   * @return the directive, or null when the query has none
   * @throws IllegalArgumentException when the directive is malformed; the message says why
   */
  static @Nullable FaultDirective parse(String query) {
    Matcher m = DIRECTIVE.matcher(query);
    if (!m.find()) {
      return null;
    }
    String spec = m.group(1);
    Integer status = null;
    int times = ALWAYS;
    Integer retryAfter = null;
    String stream = null;
    for (String pair : spec.split(",", -1)) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw invalid(spec, "expected key=value pairs separated by commas");
      }
      String key = pair.substring(0, eq);
      String value = pair.substring(eq + 1);
      switch (key) {
        case "status" -> status = intIn(spec, key, value, 400, 599);
        case "times" -> times = intIn(spec, key, value, 1, 1_000_000);
        case "retry_after" -> retryAfter = intIn(spec, key, value, 0, 86_400);
        case "stream" -> {
          if (!value.equals(STREAM_ERROR) && !value.equals(STREAM_CUT)) {
            throw invalid(spec, "stream must be 'error' or 'cut'");
          }
          stream = value;
        }
        default -> throw invalid(spec, "unknown key '" + key + "'");
      }
    }
    if (status == null && stream == null) {
      throw invalid(spec, "give status=<400..599> or stream=error|cut");
    }
    return new FaultDirective(status, times, retryAfter, stream);
  }

  /**
   * Returns {@code query} without its directives, so that answers and titles quote only the
   * user's words.
   */
  static String strip(String query) {
    return DIRECTIVE_WITH_SPACE.matcher(query).replaceAll("").strip();
  }

  /** True when attempt number {@code attempt} (1-based) is one that fails. */
  boolean failsAttempt(int attempt) {
    return attempt <= times;
  }

  private static int intIn(String spec, String key, String value, int min, int max) {
    int parsed;
    try {
      parsed = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw invalid(spec, key + " must be a number");
    }
    if (parsed < min || parsed > max) {
      throw invalid(spec, key + " must be between " + min + " and " + max);
    }
    return parsed;
  }

  private static IllegalArgumentException invalid(String spec, String why) {
    return new IllegalArgumentException(
        "Invalid sandbox directive '#sandbox:" + Text.preview(spec) + "': " + why);
  }
}
