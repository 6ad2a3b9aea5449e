package dev.llmgateway;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The audit record of one request, whatever its outcome: a logical call of the client, or, in
 * {@code llm-gateway-host}'s {@code ChatGateway}, a call refused before it was sent, a direct
 * stream's start, a completion webhook. Holds no secret and no token, the query only as a preview
 * of at most {@value #MAX_PREVIEW_CHARS} characters, and the request's metadata only bounded
 * ({@link #metadata()}).
 *
 * @param timestamp when the request ended
 * @param requestId the {@code X-Request-Id} of the call (of a webhook: the request id it reports,
 *     cut to {@value #MAX_WEBHOOK_REQUEST_ID_CHARS} characters; empty when unknown)
 * @param action the operation ({@link Operation#CHAT_STREAM} for direct streams and webhooks)
 * @param userId the end user's id (empty when unknown)
 * @param companyId the end user's company id (empty when unknown)
 * @param queryPreview at most {@value #MAX_PREVIEW_CHARS} UTF-16 chars of the query, an ellipsis
 *     ({@code …}) included when cut, a surrogate pair never split; empty when the request had none
 * @param outcome how it ended
 * @param status the last HTTP status the service answered; for a request the host answers itself
 *     (a refusal, a direct stream's start, a webhook) the status the host answers with; 0 when none
 * @param latency time from the request's start to its end
 * @param attempts HTTP attempts made to the service (0 when none)
 * @param usage token usage the service reported, or null
 * @param errorType the simple class name of the exception thrown, or null on success
 * @param metadata the request's metadata, bounded: at most {@value #MAX_METADATA_ENTRIES} entries
 *     (the first, in the request's order), keys cut to {@value #MAX_METADATA_KEY_CHARS} and values
 *     (strings as they are, other values as compact JSON) to {@value #MAX_PREVIEW_CHARS} characters
 *     as the query preview is; empty when none. Unmodifiable, in the request's order
 * @param kind what the request was: a call of the client, a direct stream's start or a webhook
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
    @Nullable String errorType,
    Map<String, String> metadata,
    Kind kind) {

  /** Longest query preview and metadata value, in UTF-16 chars, ellipsis included. */
  public static final int MAX_PREVIEW_CHARS = 50;

  /** Most metadata entries kept: the first ones, in the request's order. */
  public static final int MAX_METADATA_ENTRIES = 10;

  /** Longest metadata key kept, in UTF-16 chars, ellipsis included. */
  public static final int MAX_METADATA_KEY_CHARS = 40;

  /** Longest request id of a webhook event (the service's word, bounded before it is logged). */
  public static final int MAX_WEBHOOK_REQUEST_ID_CHARS = 128;

  /**
   * Checks the values and copies the metadata.
   *
   * @param timestamp when the request ended
   * @param requestId the request id
   * @param action the operation
   * @param userId the end user's id
   * @param companyId the end user's company id
   * @param queryPreview the query preview
   * @param outcome how it ended
   * @param status the HTTP status, or 0
   * @param latency time from the start to the end
   * @param attempts HTTP attempts made
   * @param usage token usage, or null
   * @param errorType the exception's simple class name, or null
   * @param metadata the bounded metadata (copied; kept in its order)
   * @param kind what the request was
   */
  public AuditEvent {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(kind, "kind");
    metadata = metadata.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
  }

  /**
   * Creates the event of a client call without metadata (the constructor of version 0.1).
   *
   * @param timestamp when the call ended
   * @param requestId the request id
   * @param action the operation
   * @param userId the end user's id
   * @param companyId the end user's company id
   * @param queryPreview the query preview
   * @param outcome how it ended
   * @param status the HTTP status, or 0
   * @param latency time from the start to the end
   * @param attempts HTTP attempts made
   * @param usage token usage, or null
   * @param errorType the exception's simple class name, or null
   */
  public AuditEvent(
      Instant timestamp, String requestId, Operation action, String userId, String companyId, String queryPreview,
      Outcome outcome, int status, Duration latency, int attempts, @Nullable Usage usage, @Nullable String errorType) {
    this(timestamp, requestId, action, userId, companyId, queryPreview, outcome, status, latency, attempts, usage,
        errorType, Map.of(), Kind.CALL);
  }

  /** What the audited request was. */
  public enum Kind {
    /** A call of the client to the service (chat, stream, session call), or one refused before it was sent. */
    CALL,
    /** {@code ChatGateway.initDirectStream}: the start of a direct stream (a stream token minted, or refused). */
    DIRECT_STREAM_INIT,
    /** {@code ChatGateway.handleCompletionWebhook}: the service's completion webhook and its settlement. */
    COMPLETION_WEBHOOK
  }

  /** How a request ended. */
  public enum Outcome {
    /** The service answered successfully; a direct stream's token was issued. */
    SUCCESS,
    /**
     * The request failed: a service error, timeout, unavailable service, open circuit; in the host,
     * a credit or rate limit store that failed (status 503), or any other exception.
     */
    FAILURE,
    /** Refused as invalid before sending (validation, status 422 from the host); a webhook whose signature failed (400). */
    REJECTED,
    /** The caller cancelled it. */
    CANCELLED,
    /** Refused by the host's rate limiter before anything was reserved or sent (status 429). */
    RATE_LIMITED,
    /** Refused by the host because the user cannot pay for it (status 402); nothing sent. */
    INSUFFICIENT_CREDITS,
    /**
     * Refused by the host's authorization policy before anything else (status 403): nothing
     * validated, rate limited, reserved or sent.
     */
    FORBIDDEN,
    /** A completion webhook committed the direct stream's reservation: the user was charged. */
    COMMITTED,
    /** A completion webhook released the direct stream's reservation (failed or cancelled without usage). */
    RELEASED,
    /** A redelivered completion webhook, already handled: nothing done. */
    DUPLICATE,
    /** A completion webhook whose reservation was already settled (e.g. by the ledger's reaper): nothing done. */
    ALREADY_SETTLED,
    /** A completion webhook whose request id matches no reservation: nothing done. */
    UNKNOWN_REQUEST
  }

  /**
   * Formats the event as one {@code key=value} line, values with spaces or quotes quoted and
   * escaped, so that user text cannot forge a line: {@code action}, {@code kind} (only when not
   * {@link Kind#CALL}), {@code outcome}, {@code request_id}, {@code user_id}, {@code company_id},
   * {@code status}, {@code latency_ms}, {@code attempts}, the token counts when known, {@code
   * error} on failure, {@code query}, then one {@code metadata.<key>} per metadata entry (the key's
   * characters other than ASCII letters, digits, {@code _ . -} written as {@code _}).
   *
   * @return the line, without a line break
   */
  public String toLogLine() {
    StringBuilder b = new StringBuilder(256);
    b.append("action=").append(action.name().toLowerCase(Locale.ROOT));
    if (kind != Kind.CALL) {
      b.append(" kind=").append(kind.name().toLowerCase(Locale.ROOT));
    }
    append(b, "outcome", outcome.name().toLowerCase(Locale.ROOT));
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
    for (Map.Entry<String, String> entry : metadata.entrySet()) {
      b.append(" metadata.");
      appendKey(b, entry.getKey());
      b.append('=');
      appendValue(b, entry.getValue());
    }
    return b.toString();
  }

  /** A metadata key as a bare log key: ASCII letters, digits, {@code _ . -}; anything else becomes {@code _}. */
  private static void appendKey(StringBuilder b, String key) {
    if (key.isEmpty()) {
      b.append('_');
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '_' || c == '.' || c == '-';
      b.append(plain ? c : '_');
    }
  }

  private static void append(StringBuilder b, String key, String value) {
    b.append(' ').append(key).append('=');
    appendValue(b, value);
  }

  private static void appendValue(StringBuilder b, String value) {
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
