package dev.llmgateway;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One page of a user's sessions, newest first as the service orders them.
 *
 * @param sessions the sessions on this page
 * @param nextCursor pass to {@link Sessions#list} for the next page; null on the last page
 * @param requestId the {@code X-Request-Id} of the call
 */
public record SessionPage(List<SessionSummary> sessions, @Nullable String nextCursor, String requestId) {
  /** Copies {@code sessions}. */
  public SessionPage {
    sessions = List.copyOf(sessions);
  }

  /**
   * Tells whether another page follows.
   *
   * @return true when {@link #nextCursor()} is set
   */
  public boolean hasNext() {
    return nextCursor != null;
  }
}
