package dev.llmgateway.sse;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One dispatched server-sent event, as the WHATWG event-stream algorithm defines it.
 *
 * <p>Every instance can be written by {@link SseWriter} and read back unchanged: the constructor
 * refuses values that the wire format cannot carry.
 *
 * <p>Immutable and thread-safe.
 *
 * @param type the event type: the value of the last {@code event:} field of the event, or {@value
 *     #DEFAULT_TYPE} when there was none or it was empty (an empty {@code type} given to the
 *     constructor becomes {@value #DEFAULT_TYPE}); never contains CR or LF
 * @param data the event data: the values of its {@code data:} fields joined with LF ({@code "\n"});
 *     may be empty, may contain LF
 * @param id the last event ID in effect when the event was dispatched: set by the most recent
 *     {@code id:} field of this or an earlier event; null when there is none (an empty {@code id}
 *     given to the constructor becomes null, as an empty {@code id:} field resets it); never
 *     contains CR, LF or NUL
 */
public record ServerSentEvent(String type, String data, @Nullable String id) {
  /** The type of an event that has no {@code event:} field. */
  public static final String DEFAULT_TYPE = "message";

  /**
   * Creates an event.
   *
   * @throws IllegalArgumentException if {@code type} contains CR or LF, or {@code id} contains CR,
   *     LF or NUL
   */
  public ServerSentEvent {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(data, "data");
    if (type.isEmpty()) {
      type = DEFAULT_TYPE;
    } else if (containsLineBreakOrNul(type, false)) {
      throw new IllegalArgumentException(
          "type contains CR or LF: the event stream cannot carry it");
    }
    if (id != null) {
      if (id.isEmpty()) {
        id = null;
      } else if (containsLineBreakOrNul(id, true)) {
        throw new IllegalArgumentException(
            "id contains CR, LF or NUL: the event stream cannot carry it");
      }
    }
  }

  /**
   * Returns an event of type {@value #DEFAULT_TYPE} with no ID.
   *
   * @param data the event data
   * @return a new event
   */
  public static ServerSentEvent of(String data) {
    return new ServerSentEvent(DEFAULT_TYPE, data, null);
  }

  /**
   * Returns an event of the given type with no ID.
   *
   * @param type the event type; empty means {@value #DEFAULT_TYPE}
   * @param data the event data
   * @return a new event
   * @throws IllegalArgumentException if {@code type} contains CR or LF
   */
  public static ServerSentEvent of(String type, String data) {
    return new ServerSentEvent(type, data, null);
  }

  private static boolean containsLineBreakOrNul(String s, boolean nul) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c == '\n' || c == '\r' || (nul && c == '\0')) {
        return true;
      }
    }
    return false;
  }
}
