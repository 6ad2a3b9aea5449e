package dev.llmgateway;

import java.util.List;

/**
 * One conversation with its messages, as read by {@link Sessions#get}.
 *
 * @param summary the session's fields as in a listing
 * @param messages the messages, oldest first
 * @param requestId the {@code X-Request-Id} of the call
 */
public record Session(SessionSummary summary, List<SessionMessage> messages, String requestId) {
  /** Copies {@code messages}. */
  public Session {
    messages = List.copyOf(messages);
  }

  /**
   * Returns the session id.
   *
   * @return the id
   */
  public String sessionId() {
    return summary.sessionId();
  }
}
