package dev.llmgateway.internal;

import dev.llmgateway.Action;
import dev.llmgateway.Candidate;
import dev.llmgateway.Intent;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamEvent;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Gathers a stream's {@link StreamCompletion} from its events as they are read: the answer text,
 * the session and message ids, the intent, candidates and actions in order, and the {@code done}
 * event's finish reason and usage. A token appends to one reused buffer; no event allocates.
 *
 * <p>Not thread-safe: one per stream, used by the thread reading it.
 */
final class CompletionAccumulator {
  private final StringBuilder text = new StringBuilder();
  private final List<Candidate> candidates = new ArrayList<>();
  private final List<Action> actions = new ArrayList<>();
  private @Nullable String sessionId;
  private @Nullable String messageId;
  private @Nullable String rawIntent;
  private StreamEvent.@Nullable Done done;
  private int skipped;

  /** Takes what {@code event} adds to the completion; events that add nothing are ignored. */
  void add(StreamEvent event) {
    if (event instanceof StreamEvent.Token token) {
      text.append(token.content());
    } else if (event instanceof StreamEvent.SessionStarted session) {
      sessionId = session.sessionId();
      messageId = session.messageId();
    } else if (event instanceof StreamEvent.IntentDecided intent) {
      rawIntent = intent.rawIntent();
    } else if (event instanceof StreamEvent.CandidatesFound found) {
      candidates.addAll(found.candidates());
    } else if (event instanceof StreamEvent.ActionProposed proposed) {
      actions.add(proposed.action());
    } else if (event instanceof StreamEvent.Done last) {
      done = last;
    }
  }

  /** Counts a payload that was skipped instead of decoded. */
  void skipped() {
    skipped++;
  }

  /** Whether a {@code done} event came. */
  boolean hasDone() {
    return done != null;
  }

  /** The length of the answer text so far, in UTF-16 units. */
  int textLength() {
    return text.length();
  }

  /** The answer text so far. */
  String text() {
    return text.toString();
  }

  /** The completion of everything added so far. */
  StreamCompletion complete(String requestId) {
    StreamEvent.Done last = done;
    return new StreamCompletion(
        sessionId, messageId, Intent.fromWire(rawIntent), rawIntent, text.toString(), candidates, actions,
        last == null ? null : last.finishReason(), last == null ? null : last.usage(), skipped, requestId);
  }
}
