package dev.llmgateway;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One conversation as listed by {@link Sessions#list}.
 *
 * @param sessionId the session id
 * @param title the title, or null
 * @param createdAt when it started, or null when absent or unreadable
 * @param lastActivityAt when the last message was added, or null
 * @param messageCount messages in the session
 * @param extra fields this SDK version does not know, as plain Java values
 */
public record SessionSummary(
    String sessionId,
    @Nullable String title,
    @Nullable Instant createdAt,
    @Nullable Instant lastActivityAt,
    int messageCount,
    Map<String, @Nullable Object> extra) {
  /** Copies {@code extra}. */
  public SessionSummary {
    extra = Values.copy(extra);
  }
}
