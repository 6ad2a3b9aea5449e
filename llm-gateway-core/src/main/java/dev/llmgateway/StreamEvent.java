package dev.llmgateway;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One event of a streamed answer, decoded from the {@code data} JSON of a server-sent event
 * (CONTRACT section 2). Every event keeps the service's JSON as {@link #json()}, so a relay can
 * pass it on unchanged.
 *
 * <p>The service sends, in order: {@link SessionStarted}, {@link IntentDecided}, many {@link
 * Token}s, zero or more {@link CandidatesFound} and {@link ActionProposed}, then {@link Done}. Types
 * this SDK version does not know arrive as {@link Unknown}. An {@code error} event is not delivered
 * as an event: it ends the stream with a {@link StreamErrorException}.
 */
public sealed interface StreamEvent {
  /**
   * Returns the event's {@code type} as the service spelled it.
   *
   * @return e.g. {@code token}
   */
  String type();

  /**
   * Returns the event's JSON exactly as received.
   *
   * @return the {@code data} of the server-sent event
   */
  String json();

  /**
   * The conversation and message this answer belongs to; first.
   *
   * @param sessionId the session id
   * @param messageId the answer's message id
   * @param json the event's JSON
   */
  record SessionStarted(String sessionId, String messageId, String json) implements StreamEvent {
    @Override
    public String type() {
      return "session";
    }
  }

  /**
   * What the service decided the user wants; once, early.
   *
   * @param intent the intent; {@link Intent#UNKNOWN} for values this SDK does not know
   * @param rawIntent the value as sent
   * @param json the event's JSON
   */
  record IntentDecided(Intent intent, String rawIntent, String json) implements StreamEvent {
    @Override
    public String type() {
      return "intent";
    }
  }

  /**
   * A piece of the answer text.
   *
   * @param content the text piece
   * @param json the event's JSON
   */
  record Token(String content, String json) implements StreamEvent {
    @Override
    public String type() {
      return "token";
    }
  }

  /**
   * Suggested profiles.
   *
   * @param candidates the candidates
   * @param json the event's JSON
   */
  record CandidatesFound(List<Candidate> candidates, String json) implements StreamEvent {
    /** Copies the list. */
    public CandidatesFound {
      candidates = List.copyOf(candidates);
    }

    @Override
    public String type() {
      return "candidates";
    }
  }

  /**
   * An action the service proposes.
   *
   * @param action the action
   * @param json the event's JSON
   */
  record ActionProposed(Action action, String json) implements StreamEvent {
    @Override
    public String type() {
      return "action";
    }
  }

  /**
   * The generation finished; the last JSON event.
   *
   * @param finishReason {@code stop}, {@code length}, {@code cancelled} (kept as text: the service
   *     may add reasons)
   * @param usage token counts, or null when the service sent none
   * @param json the event's JSON
   */
  record Done(String finishReason, @Nullable Usage usage, String json) implements StreamEvent {
    @Override
    public String type() {
      return "done";
    }
  }

  /**
   * An event type this SDK version does not know, passed through.
   *
   * @param type the event's {@code type}
   * @param fields the event's fields as plain Java values
   * @param json the event's JSON
   */
  record Unknown(String type, Map<String, @Nullable Object> fields, String json) implements StreamEvent {
    /** Copies the map. */
    public Unknown {
      fields = Values.copy(fields);
    }
  }
}
