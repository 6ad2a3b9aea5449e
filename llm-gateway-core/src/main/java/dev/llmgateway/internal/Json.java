package dev.llmgateway.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.Action;
import dev.llmgateway.ApiException.FieldError;
import dev.llmgateway.Candidate;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.Intent;
import dev.llmgateway.Session;
import dev.llmgateway.SessionMessage;
import dev.llmgateway.SessionPage;
import dev.llmgateway.SessionSummary;
import dev.llmgateway.Usage;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The wire format, mapped by hand from Jackson's tree model: the public records carry no Jackson
 * annotations, unknown fields are kept in {@code extra}, and a wrong type or a missing required
 * field becomes a {@link MalformedJsonException} with the field's path.
 */
public final class Json {
  public static final ObjectMapper MAPPER =
      new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private static final Set<String> CHAT_FIELDS =
      Set.of("session_id", "message_id", "intent", "answer", "candidates", "actions", "usage", "model");
  private static final Set<String> CANDIDATE_FIELDS = Set.of("profile_id", "name", "headline", "score");
  private static final Set<String> SESSION_FIELDS =
      Set.of("session_id", "title", "created_at", "last_activity_at", "message_count", "messages");
  private static final Set<String> MESSAGE_FIELDS = Set.of("message_id", "role", "content", "created_at");

  private Json() {}

  /** A response body that is not the JSON the contract promises. */
  public static final class MalformedJsonException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedJsonException(String message, @Nullable Throwable cause) {
      super(message, cause);
    }
  }

  /** Serializes a chat request body; null fields are left out. */
  public static byte[] chatRequestBody(ChatRequest request) throws JsonProcessingException {
    ObjectNode body = MAPPER.createObjectNode();
    body.put("query", request.query());
    putIfSet(body, "session_id", request.sessionId());
    putIfSet(body, "user_intent", request.userIntent());
    putIfSet(body, "profile_id", request.profileId());
    if (!request.metadata().isEmpty()) {
      body.set("metadata", MAPPER.valueToTree(request.metadata()));
    }
    return MAPPER.writeValueAsBytes(body);
  }

  private static void putIfSet(ObjectNode node, String field, @Nullable String value) {
    if (value != null) {
      node.put(field, value);
    }
  }

  public static JsonNode parse(byte[] body) throws MalformedJsonException {
    try {
      JsonNode node = MAPPER.readTree(body);
      if (node == null || node.isMissingNode()) {
        throw new MalformedJsonException("empty body", null);
      }
      return node;
    } catch (IOException e) {
      throw new MalformedJsonException("body is not JSON (" + e.getClass().getSimpleName() + ")", null);
    }
  }

  public static ChatResponse chatResponse(JsonNode node, String requestId) throws MalformedJsonException {
    requireObject(node, "response");
    String rawIntent = optText(node, "intent");
    return new ChatResponse(
        reqText(node, "session_id"),
        reqText(node, "message_id"),
        Intent.fromWire(rawIntent),
        rawIntent,
        reqText(node, "answer"),
        candidates(node.get("candidates")),
        actions(node.get("actions")),
        usage(node.get("usage")),
        optText(node, "model"),
        requestId,
        extra(node, CHAT_FIELDS));
  }

  public static List<Candidate> candidates(@Nullable JsonNode array) throws MalformedJsonException {
    List<Candidate> out = new ArrayList<>();
    for (JsonNode c : optArray(array, "candidates")) {
      requireObject(c, "candidates[]");
      JsonNode score = c.get("score");
      if (score != null && !score.isNull() && !score.isNumber()) {
        throw new MalformedJsonException("field candidates[].score is not a number", null);
      }
      out.add(new Candidate(
          reqText(c, "profile_id"),
          optText(c, "name"),
          optText(c, "headline"),
          score == null || score.isNull() ? null : score.doubleValue(),
          extra(c, CANDIDATE_FIELDS)));
    }
    return out;
  }

  public static List<Action> actions(@Nullable JsonNode array) throws MalformedJsonException {
    List<Action> out = new ArrayList<>();
    for (JsonNode a : optArray(array, "actions")) {
      out.add(action(a));
    }
    return out;
  }

  public static Action action(JsonNode a) throws MalformedJsonException {
    requireObject(a, "action");
    return new Action(optText(a, "type"), extra(a, Set.of()));
  }

  public static @Nullable Usage usage(@Nullable JsonNode node) throws MalformedJsonException {
    if (node == null || node.isNull()) {
      return null;
    }
    requireObject(node, "usage");
    long prompt = optLong(node, "prompt_tokens");
    long completion = optLong(node, "completion_tokens");
    JsonNode total = node.get("total_tokens");
    if (total != null && !total.isNull()) {
      return new Usage(prompt, completion, optLong(node, "total_tokens"));
    }
    if (prompt > Long.MAX_VALUE - completion) {
      throw new MalformedJsonException("field total_tokens is missing and prompt_tokens + completion_tokens is beyond a long", null);
    }
    return new Usage(prompt, completion, prompt + completion);
  }

  public static SessionPage sessionPage(JsonNode node, String requestId) throws MalformedJsonException {
    requireObject(node, "response");
    JsonNode sessions = node.get("sessions");
    if (sessions == null || !sessions.isArray()) {
      throw new MalformedJsonException("field sessions is missing or not a list", null);
    }
    List<SessionSummary> out = new ArrayList<>();
    for (JsonNode s : sessions) {
      out.add(sessionSummary(s));
    }
    return new SessionPage(out, optText(node, "next_cursor"), requestId);
  }

  public static Session session(JsonNode node, String requestId) throws MalformedJsonException {
    SessionSummary summary = sessionSummary(node);
    List<SessionMessage> messages = new ArrayList<>();
    for (JsonNode m : optArray(node.get("messages"), "messages")) {
      requireObject(m, "messages[]");
      messages.add(new SessionMessage(
          reqText(m, "message_id"),
          reqText(m, "role"),
          reqText(m, "content"),
          instant(optText(m, "created_at")),
          extra(m, MESSAGE_FIELDS)));
    }
    return new Session(summary, messages, requestId);
  }

  private static SessionSummary sessionSummary(JsonNode s) throws MalformedJsonException {
    requireObject(s, "session");
    return new SessionSummary(
        reqText(s, "session_id"),
        optText(s, "title"),
        instant(optText(s, "created_at")),
        instant(optText(s, "last_activity_at")),
        (int) Math.min(Integer.MAX_VALUE, optLong(s, "message_count")),
        extra(s, SESSION_FIELDS));
  }

  /** FastAPI's error body: {@code detail} as text or as a list of field errors. */
  public record ErrorBody(@Nullable String detail, List<FieldError> fieldErrors) {
    static final ErrorBody NONE = new ErrorBody(null, List.of());
  }

  /** Reads FastAPI's {@code {"detail": ...}}; anything else (HTML, empty, other JSON) gives no detail. */
  public static ErrorBody errorBody(String text) {
    String trimmed = text.strip();
    if (!trimmed.startsWith("{")) {
      return ErrorBody.NONE;
    }
    JsonNode detail;
    try {
      detail = MAPPER.readTree(trimmed).get("detail");
    } catch (IOException e) {
      return ErrorBody.NONE;
    }
    if (detail == null || detail.isNull()) {
      return ErrorBody.NONE;
    }
    if (detail.isTextual()) {
      return new ErrorBody(detail.asText(), List.of());
    }
    if (detail.isArray()) {
      List<FieldError> errors = new ArrayList<>();
      for (JsonNode e : detail) {
        List<String> loc = new ArrayList<>();
        for (JsonNode part : e.path("loc")) {
          loc.add(part.asText());
        }
        errors.add(new FieldError(loc, e.path("msg").asText(""), e.path("type").asText("")));
      }
      StringBuilder joined = new StringBuilder();
      for (FieldError e : errors) {
        joined.append(joined.length() == 0 ? "" : "; ").append(e);
      }
      return new ErrorBody(joined.toString(), errors);
    }
    return new ErrorBody(detail.toString(), List.of());
  }

  static @Nullable Instant instant(@Nullable String text) {
    if (text == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException notOffset) {
      try {
        return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException unreadable) {
        return null;
      }
    }
  }

  public static Map<String, @Nullable Object> extra(JsonNode node, Set<String> known) {
    Map<String, @Nullable Object> extra = null;
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      if (!known.contains(field.getKey())) {
        if (extra == null) {
          extra = new LinkedHashMap<>();
        }
        extra.put(field.getKey(), toJava(field.getValue()));
      }
    }
    return extra == null ? Map.of() : extra;
  }

  public static @Nullable Object toJava(JsonNode value) {
    return MAPPER.convertValue(value, Object.class);
  }

  private static void requireObject(JsonNode node, String what) throws MalformedJsonException {
    if (!node.isObject()) {
      throw new MalformedJsonException(what + " is not a JSON object", null);
    }
  }

  public static String reqText(JsonNode node, String field) throws MalformedJsonException {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new MalformedJsonException("required field " + field + " is missing", null);
    }
    if (!value.isTextual()) {
      throw new MalformedJsonException("field " + field + " is not a string", null);
    }
    return value.asText();
  }

  public static @Nullable String optText(JsonNode node, String field) throws MalformedJsonException {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      throw new MalformedJsonException("field " + field + " is not a string", null);
    }
    return value.asText();
  }

  private static long optLong(JsonNode node, String field) throws MalformedJsonException {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return 0;
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0) {
      throw new MalformedJsonException("field " + field + " is not a non-negative integer", null);
    }
    return value.asLong();
  }

  private static Iterable<JsonNode> optArray(@Nullable JsonNode node, String field) throws MalformedJsonException {
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw new MalformedJsonException("field " + field + " is not a list", null);
    }
    return node;
  }
}
