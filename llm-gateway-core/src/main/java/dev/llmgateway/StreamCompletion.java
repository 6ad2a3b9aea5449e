package dev.llmgateway;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a finished stream produced, gathered from its events.
 *
 * @param sessionId the session id, or null if the service never sent a {@code session} event
 * @param messageId the answer's message id, or null likewise
 * @param intent the intent; {@link Intent#UNKNOWN} when absent or unknown
 * @param rawIntent the intent as sent, or null
 * @param text the whole answer: every token's content joined
 * @param candidates every candidate received, in order
 * @param actions every action received, in order
 * @param finishReason the {@code done} event's reason, or null when the stream ended with {@code
 *     [DONE]} but without a {@code done} event (then {@code usage} is null too)
 * @param usage token counts, or null when the service sent none
 * @param skippedEvents {@code data} payloads that were not JSON and were skipped
 * @param requestId the {@code X-Request-Id} of the call
 */
public record StreamCompletion(
    @Nullable String sessionId,
    @Nullable String messageId,
    Intent intent,
    @Nullable String rawIntent,
    String text,
    List<Candidate> candidates,
    List<Action> actions,
    @Nullable String finishReason,
    @Nullable Usage usage,
    int skippedEvents,
    String requestId) {
  /** Copies the lists. */
  public StreamCompletion {
    candidates = List.copyOf(candidates);
    actions = List.copyOf(actions);
  }
}
