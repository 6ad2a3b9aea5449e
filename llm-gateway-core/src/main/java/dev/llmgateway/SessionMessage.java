package dev.llmgateway;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One message of a conversation.
 *
 * @param messageId the message id
 * @param role {@code user} or {@code assistant} (kept as text: the service may add roles)
 * @param content the text
 * @param createdAt when it was written, or null
 * @param extra fields this SDK version does not know, as plain Java values
 */
public record SessionMessage(
    String messageId, String role, String content, @Nullable Instant createdAt, Map<String, @Nullable Object> extra) {
  /** Copies {@code extra}. */
  public SessionMessage {
    extra = Values.copy(extra);
  }
}
