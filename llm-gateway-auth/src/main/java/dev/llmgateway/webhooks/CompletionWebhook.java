package dev.llmgateway.webhooks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.Usage;
import dev.llmgateway.auth.internal.StrictJson;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import org.jspecify.annotations.Nullable;

/**
 * The body of a completion webhook (CONTRACT section 5), sent when a stream opened with a stream
 * token ends:
 *
 * <pre>{@code
 * {"type": "chat.completed",
 *  "data": {"request_id": "...", "session_id": "sess_...", "message_id": "msg_...",
 *           "user_id": "123", "company_id": "456", "status": "completed",
 *           "finish_reason": "stop", "usage": {...}, "completed_at": "2026-11-20T10:05:00Z"}}
 * }</pre>
 *
 * <p>Unknown fields are ignored and absent ones read as null, since the service adds fields
 * without notice; an unknown status reads as {@link Status#UNKNOWN} with {@link #rawStatus()}
 * keeping the value. The full body stays available as {@link VerifiedWebhook#body()}.
 *
 * <p>Immutable and thread-safe.
 */
public final class CompletionWebhook {
  /** How the stream ended. */
  public enum Status {
    /** The answer was generated ({@code completed}). */
    COMPLETED("completed"),
    /** Generation failed mid-way ({@code failed}). */
    FAILED("failed"),
    /** The browser went away or the stream was cancelled ({@code cancelled}). */
    CANCELLED("cancelled"),
    /** A value this SDK version does not know, or none; see {@link #rawStatus()}. */
    UNKNOWN("unknown");

    private final String wireValue;

    Status(String wireValue) {
      this.wireValue = wireValue;
    }

    /**
     * Returns the value as the service spells it.
     *
     * @return e.g. {@code completed}
     */
    public String wireValue() {
      return wireValue;
    }

    /**
     * Reads a value as the service spells it.
     *
     * @param value the wire value, or null
     * @return the matching status, or {@link #UNKNOWN}
     */
    public static Status fromWire(@Nullable String value) {
      for (Status status : values()) {
        if (status != UNKNOWN && status.wireValue.equals(value)) {
          return status;
        }
      }
      return UNKNOWN;
    }
  }

  private final @Nullable String type;
  private final @Nullable String requestId;
  private final @Nullable String sessionId;
  private final @Nullable String messageId;
  private final @Nullable String userId;
  private final @Nullable String companyId;
  private final Status status;
  private final @Nullable String rawStatus;
  private final @Nullable String finishReason;
  private final @Nullable Usage usage;
  private final @Nullable Instant completedAt;

  private CompletionWebhook(JsonNode root) {
    JsonNode data = root.path("data");
    this.type = text(root.get("type"));
    this.requestId = text(data.get("request_id"));
    this.sessionId = text(data.get("session_id"));
    this.messageId = text(data.get("message_id"));
    this.userId = text(data.get("user_id"));
    this.companyId = text(data.get("company_id"));
    this.rawStatus = text(data.get("status"));
    this.status = Status.fromWire(rawStatus);
    this.finishReason = text(data.get("finish_reason"));
    JsonNode usageNode = data.get("usage");
    this.usage = usageNode != null && usageNode.isObject()
        ? new Usage(usageNode.path("prompt_tokens").asLong(0), usageNode.path("completion_tokens").asLong(0),
            usageNode.path("total_tokens").asLong(0))
        : null;
    this.completedAt = instant(text(data.get("completed_at")));
  }

  /**
   * Parses a verified body; refuses anything but exactly one JSON object in UTF-8: data after the
   * object would be signed but unread, and a name given twice could be read differently by another
   * reader of the same bytes.
   */
  static CompletionWebhook parse(byte[] body) {
    JsonNode root = StrictJson.parseObject(body);
    if (root == null) {
      throw new WebhookVerificationException(WebhookVerificationException.Reason.MALFORMED_BODY,
          "Webhook refused (MALFORMED_BODY): the signature is valid but the body is not exactly one JSON"
              + " object (UTF-8, nothing after it, no name twice in an object)");
    }
    return new CompletionWebhook(root);
  }

  private static @Nullable String text(@Nullable JsonNode node) {
    return node != null && node.isValueNode() && !node.isNull() ? node.asText() : null;
  }

  private static @Nullable Instant instant(@Nullable String value) {
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * Returns the event type.
   *
   * @return e.g. {@code chat.completed}, or null when absent
   */
  public @Nullable String type() {
    return type;
  }

  /**
   * Returns the request id, the {@code rid} of the stream token.
   *
   * @return the request id, or null when absent
   */
  public @Nullable String requestId() {
    return requestId;
  }

  /**
   * Returns the conversation.
   *
   * @return the session id, or null when absent
   */
  public @Nullable String sessionId() {
    return sessionId;
  }

  /**
   * Returns the assistant message the stream produced.
   *
   * @return the message id, or null when absent
   */
  public @Nullable String messageId() {
    return messageId;
  }

  /**
   * Returns the end user.
   *
   * @return the user id, or null when absent
   */
  public @Nullable String userId() {
    return userId;
  }

  /**
   * Returns the user's company.
   *
   * @return the company id, or null when absent
   */
  public @Nullable String companyId() {
    return companyId;
  }

  /**
   * Returns how the stream ended.
   *
   * @return the status; {@link Status#UNKNOWN} for values this SDK does not know
   */
  public Status status() {
    return status;
  }

  /**
   * Returns the status as sent.
   *
   * @return e.g. {@code completed}, or null when absent
   */
  public @Nullable String rawStatus() {
    return rawStatus;
  }

  /**
   * Returns why generation stopped.
   *
   * @return e.g. {@code stop}, {@code length}, {@code cancelled}; or null when absent
   */
  public @Nullable String finishReason() {
    return finishReason;
  }

  /**
   * Returns the tokens used, for billing.
   *
   * @return the usage (missing counts read as 0), or null when absent
   */
  public @Nullable Usage usage() {
    return usage;
  }

  /**
   * Returns when the stream ended.
   *
   * @return the time, or null when absent or not ISO-8601
   */
  public @Nullable Instant completedAt() {
    return completedAt;
  }

  @Override
  public String toString() {
    return "CompletionWebhook{type=" + type + ", requestId=" + requestId + ", sessionId=" + sessionId
        + ", messageId=" + messageId + ", userId=" + userId + ", companyId=" + companyId + ", status="
        + (status == Status.UNKNOWN ? "UNKNOWN(" + rawStatus + ")" : status) + ", finishReason=" + finishReason
        + ", usage=" + usage + ", completedAt=" + completedAt + "}";
  }
}
