package dev.llmgateway.host;

import java.time.Instant;
import java.util.Objects;

/**
 * The host's own record of one conversation ({@link SessionStore}): who owns it, what it is
 * called, when it was used and what it cost. The service keeps the conversation itself.
 *
 * @param sessionId the service's session id
 * @param userId the owning user
 * @param companyId the owning user's company
 * @param ownerRole the owner's role at the session's first exchange (used to ask the service about
 *     the session on the owner's behalf, {@link ChatGateway#removeSessionsGoneFromService})
 * @param title the first query, at most {@link #MAX_TITLE_CHARS} chars
 * @param createdAt when the first exchange was recorded
 * @param lastActivityAt when the last exchange was recorded
 * @param messageCount messages recorded (a query and its answer are two)
 * @param tokens tokens the service reported for the session's exchanges
 * @param credits credits committed for the session's exchanges
 */
public record SessionRecord(
    String sessionId,
    String userId,
    String companyId,
    String ownerRole,
    String title,
    Instant createdAt,
    Instant lastActivityAt,
    int messageCount,
    long tokens,
    long credits) {
  /** Longest title, in UTF-16 chars (an ellipsis included when the first query was cut). */
  public static final int MAX_TITLE_CHARS = 100;

  /**
   * Checks the record.
   *
   * @throws NullPointerException if a field is null
   * @throws IllegalArgumentException if a count is negative or the title is too long
   */
  public SessionRecord {
    Objects.requireNonNull(sessionId, "sessionId");
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(companyId, "companyId");
    Objects.requireNonNull(ownerRole, "ownerRole");
    Objects.requireNonNull(title, "title");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(lastActivityAt, "lastActivityAt");
    if (messageCount < 0 || tokens < 0 || credits < 0) {
      throw new IllegalArgumentException("messageCount, tokens and credits must be >= 0, were "
          + messageCount + ", " + tokens + ", " + credits);
    }
    if (title.length() > MAX_TITLE_CHARS) {
      throw new IllegalArgumentException("title must be at most " + MAX_TITLE_CHARS + " chars, was "
          + title.length());
    }
  }

  /**
   * Whether {@code userId} of {@code companyId} owns the session.
   *
   * @param userId a user id
   * @param companyId that user's company id
   * @return true when both match the record's owner
   */
  public boolean isOwnedBy(String userId, String companyId) {
    return this.userId.equals(userId) && this.companyId.equals(companyId);
  }
}
