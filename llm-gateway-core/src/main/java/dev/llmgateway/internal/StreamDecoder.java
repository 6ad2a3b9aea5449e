package dev.llmgateway.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.Intent;
import dev.llmgateway.StreamEvent;
import java.io.IOException;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Turns the JSON {@code data} of the service's stream events into typed {@link StreamEvent}s.
 *
 * <p>{@link #decode(String)} reads the frequent, flat events ({@code token}, {@code session},
 * {@code intent}) with Jackson's streaming parser, taking only the fields the typed event needs and
 * building no tree; the event's {@code json()} is the data as received, so nothing is lost. Anything
 * the fast path is not certain to decode exactly as the tree would (another type, a known field that
 * is not a string, malformed or trailing data, data longer than the parser's string limit) is decoded
 * again from the tree by {@link #parseObject} and {@link #decode(JsonNode, String)}, which stay the
 * reference: the result, or the error, is the tree's.
 */
public final class StreamDecoder {
  private static final JsonFactory FACTORY = Json.MAPPER.getFactory();
  /** Longer data may hold a string beyond the parser's limit, which only the tree path checks. */
  private static final int MAX_FAST_CHARS = FACTORY.streamReadConstraints().getMaxStringLength();
  /** The types {@link #decodeFlat} decodes, most frequent first. */
  private static final String[] FLAT_TYPES = {"token", "session", "intent"};
  /** The fast path's answer when the tree must decide. */
  private static final Object USE_TREE = new Object();

  private StreamDecoder() {}

  /** The service's error event, which ends a stream instead of being delivered. */
  public record ServiceError(String code, String message, boolean retryable) {}

  /**
   * Decodes one event's data: the same result as {@link #parseObject} followed by {@link
   * #decode(JsonNode, String)}, without building a tree for the frequent flat events.
   *
   * @return a {@link StreamEvent}, a {@link ServiceError} for {@code type: error}, or null when the
   *     data is not one JSON object
   * @throws Json.MalformedJsonException if a known type lacks a required field
   */
  public static @Nullable Object decode(String data) throws Json.MalformedJsonException {
    Object fast = decodeFlat(data);
    if (fast != USE_TREE) {
      return fast;
    }
    JsonNode node = parseObject(data);
    return node == null ? null : decode(node, data);
  }

  /**
   * Streams over a flat {@code token}, {@code session} or {@code intent} event; {@link #USE_TREE}
   * for anything else. Names given twice stay last-wins, as in the tree; fields the event does not
   * use are skipped (the parser still checks their syntax).
   */
  private static Object decodeFlat(String data) {
    if (data.length() > MAX_FAST_CHARS) {
      return USE_TREE;
    }
    String type = null;
    String content = null;
    String sessionId = null;
    String messageId = null;
    String intent = null;
    try (JsonParser parser = FACTORY.createParser(data)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return USE_TREE;
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
        switch (name) {
          case "type":
            type = value == JsonToken.VALUE_STRING ? flatType(parser) : null;
            if (type == null) {
              return USE_TREE; // another type, or not a string: the tree decides (a later type would too)
            }
            break;
          case "content":
          case "session_id":
          case "message_id":
          case "intent":
            if (value != JsonToken.VALUE_STRING) {
              return USE_TREE;
            }
            String text = parser.getText();
            switch (name) {
              case "content" -> content = text;
              case "session_id" -> sessionId = text;
              case "message_id" -> messageId = text;
              default -> intent = text;
            }
            break;
          default:
            parser.skipChildren();
        }
      }
      // The loop ends on the object's end (the parser throws on anything else); then nothing may follow.
      if (parser.nextToken() != null || type == null) {
        return USE_TREE;
      }
    } catch (IOException e) {
      return USE_TREE;
    }
    switch (type) {
      case "token":
        return content == null ? USE_TREE : new StreamEvent.Token(content, data);
      case "session":
        return sessionId == null || messageId == null ? USE_TREE : new StreamEvent.SessionStarted(sessionId, messageId, data);
      case "intent":
        return intent == null ? USE_TREE : new StreamEvent.IntentDecided(Intent.fromWire(intent), intent, data);
      default:
        return USE_TREE;
    }
  }

  /** The current string if it is a type {@link #decodeFlat} decodes (its constant: no String per event), else null. */
  private static @Nullable String flatType(JsonParser parser) throws IOException {
    char[] chars = parser.getTextCharacters();
    int offset = parser.getTextOffset();
    int length = parser.getTextLength();
    for (String known : FLAT_TYPES) {
      if (known.length() == length && matches(known, chars, offset)) {
        return known;
      }
    }
    return null;
  }

  private static boolean matches(String known, char[] chars, int offset) {
    for (int i = 0; i < known.length(); i++) {
      if (known.charAt(i) != chars[offset + i]) {
        return false;
      }
    }
    return true;
  }

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
