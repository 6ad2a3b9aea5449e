package dev.llmgateway.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.Intent;
import dev.llmgateway.StreamEvent;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Turns the JSON {@code data} of the service's stream events into typed {@link StreamEvent}s. */
public final class StreamDecoder {
  private StreamDecoder() {}

  /** The service's error event, which ends a stream instead of being delivered. */
  public record ServiceError(String code, String message, boolean retryable) {}

  /**
   * Decodes one JSON object.
   *
   * @return a {@link StreamEvent}, or a {@link ServiceError} for {@code type: error}
   * @throws Json.MalformedJsonException if a known type lacks a required field
   */
  public static Object decode(JsonNode node, String json) throws Json.MalformedJsonException {
    String type = Json.optText(node, "type");
    if (type == null) {
      throw new Json.MalformedJsonException("event has no type", null);
    }
    switch (type) {
      case "session":
        return new StreamEvent.SessionStarted(Json.reqText(node, "session_id"), Json.reqText(node, "message_id"), json);
      case "intent": {
        String raw = Json.reqText(node, "intent");
        return new StreamEvent.IntentDecided(Intent.fromWire(raw), raw, json);
      }
      case "token":
        return new StreamEvent.Token(Json.reqText(node, "content"), json);
      case "candidates":
        return new StreamEvent.CandidatesFound(Json.candidates(node.get("candidates")), json);
      case "action": {
        JsonNode action = node.get("action");
        if (action == null) {
          throw new Json.MalformedJsonException("required field action is missing", null);
        }
        return new StreamEvent.ActionProposed(Json.action(action), json);
      }
      case "done": {
        String reason = Json.optText(node, "finish_reason");
        return new StreamEvent.Done(reason == null ? "stop" : reason, Json.usage(node.get("usage")), json);
      }
      case "error": {
        // An error ends the stream whatever its fields hold; refusing one as malformed would skip it.
        String code = looseText(node.get("code"));
        String message = looseText(node.get("message"));
        JsonNode retryable = node.get("retryable");
        return new ServiceError(
            code == null ? "unknown" : code,
            message == null ? "" : message,
            retryable != null && retryable.asBoolean(false));
      }
      default:
        return new StreamEvent.Unknown(type, Json.extra(node, Set.of()), json);
    }
  }

  /** The text of a value: a string as is, another scalar as its text, an object or list as JSON. */
  private static @Nullable String looseText(@Nullable JsonNode value) {
    if (value == null || value.isNull()) {
      return null;
    }
    return value.isValueNode() ? value.asText() : value.toString();
  }

  /** Parses {@code data} as a JSON object, or returns null when it is not one. */
  public static @Nullable JsonNode parseObject(String data) {
    try {
      JsonNode node = Json.ONE_VALUE.readTree(data);
      return node != null && node.isObject() ? node : null;
    } catch (java.io.IOException e) {
      return null;
    }
  }
}
