package dev.llmgateway;

import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * The audit record of one logical call, whatever its outcome. Holds no secret, and the query only
 * as a preview of at most 50 characters.
 *
 * @param timestamp when the call ended
 * @param requestId the {@code X-Request-Id} of the call
 * @param action the operation
 * @param userId the end user's id
 * @param companyId the end user's company id
 * @param queryPreview at most the first 50 characters of the query; empty when the call had none
 * @param outcome how it ended
 * @param status the last HTTP status, or 0 when none arrived
 * @param latency time from the call's start to its end
 * @param attempts HTTP attempts made
 * @param usage token usage the service reported, or null
 * @param errorType the simple class name of the exception thrown, or null on success
 */
public record AuditEvent(
    Instant timestamp,
    String requestId,
    Operation action,
    String userId,
    String companyId,
    String queryPreview,
    Outcome outcome,
    int status,
    Duration latency,
    int attempts,
    @Nullable Usage usage,
    @Nullable String errorType) {

  /** How a call ended. */
  public enum Outcome {
    /** The service answered successfully. */
    SUCCESS,
    /** The call failed (service error, timeout, unavailable, circuit open). */
    FAILURE,
    /** Refused before sending (validation). */
    REJECTED,
    /** The caller cancelled it. */
    CANCELLED
  }

  /**
   * Formats the event as one {@code key=value} line, values with spaces or quotes quoted and
   * escaped, so that user text cannot forge a line.
   *
   * @return the line, without a line break
   */
  public String toLogLine() {
    StringBuilder b = new StringBuilder(256);
    b.append("action=").append(action.name().toLowerCase(java.util.Locale.ROOT));
    append(b, "outcome", outcome.name().toLowerCase(java.util.Locale.ROOT));
    append(b, "request_id", requestId);
    append(b, "user_id", userId);
    append(b, "company_id", companyId);
    b.append(" status=").append(status);
    b.append(" latency_ms=").append(latency.toMillis());
    b.append(" attempts=").append(attempts);
    if (usage != null) {
      b.append(" prompt_tokens=").append(usage.promptTokens());
      b.append(" completion_tokens=").append(usage.completionTokens());
      b.append(" total_tokens=").append(usage.totalTokens());
    }
    if (errorType != null) {
      append(b, "error", errorType);
    }
    append(b, "query", queryPreview);
    return b.toString();
  }

  private static void append(StringBuilder b, String key, String value) {
    b.append(' ').append(key).append('=');
    boolean plain = !value.isEmpty();
    for (int i = 0; i < value.length() && plain; i++) {
      char c = value.charAt(i);
      plain = c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
    }
    if (plain) {
      b.append(value);
      return;
    }
    b.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (Character.isISOControl(c)) {
        b.append(' ');
      } else {
        b.append(c);
      }
    }
    b.append('"');
  }
}
