package dev.llmgateway.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
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
import dev.llmgateway.ValidationException.Violation;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
  /**
   * Reads exactly one JSON value: data after it (two bodies or events run together) is malformed,
   * not ignored. A name given twice stays last-wins (the service's Python never writes one twice).
   */
  static final ObjectReader ONE_VALUE = MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

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

  /**
   * Serializes a chat request body (null fields and empty metadata left out), checking the metadata
   * as it is written: the one walk over it both checks and encodes it.
   *
   * @return the body, or null when the metadata cannot be sent (a violation is then added)
   */
  public static byte @Nullable [] chatRequestBody(
      ChatRequest request, int maxMetadataDepth, int maxMetadataBytes, List<Violation> violations) {
    Sink out = new Sink(true);
    try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("query", request.query());
      writeIfSet(g, "session_id", request.sessionId());
      writeIfSet(g, "user_intent", request.userIntent());
      writeIfSet(g, "profile_id", request.profileId());
      if (!request.metadata().isEmpty()) {
        g.writeFieldName("metadata");
        new MetadataWriter(g, out, maxMetadataDepth, maxMetadataBytes).writeTop(request.metadata());
      }
      g.writeEndObject();
    } catch (Unsendable e) {
      violations.add(new Violation("metadata", e.reason));
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory failed", e);
    }
    return out.toByteArray();
  }

  /** Checks metadata exactly as {@link #chatRequestBody} does, without keeping the bytes. */
  public static void checkMetadata(
      Map<String, @Nullable Object> metadata, int maxMetadataDepth, int maxMetadataBytes, List<Violation> violations) {
    if (metadata.isEmpty()) {
      return;
    }
    Sink out = new Sink(false);
    try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
      new MetadataWriter(g, out, maxMetadataDepth, maxMetadataBytes).writeTop(metadata);
    } catch (Unsendable e) {
      violations.add(new Violation("metadata", e.reason));
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory failed", e);
    }
  }

  private static void writeIfSet(JsonGenerator g, String field, @Nullable String value) throws IOException {
    if (value != null) {
      g.writeStringField(field, value);
    }
  }

  /** Why metadata cannot be sent; the message is the violation's reason. No stack trace. */
  private static final class Unsendable extends Exception {
    private static final long serialVersionUID = 1L;

    final String reason;

    Unsendable(String reason) {
      super(reason, null, false, false);
      this.reason = reason;
    }
  }

  /**
   * Writes metadata as JSON while checking it: only strings, finite numbers, booleans, null, maps
   * with string keys, collections and object arrays; no text without a UTF-8 encoding; no container
   * inside itself; at most {@code maxDepth} containers deep and {@code maxBytes} bytes. The walk
   * stops at the first problem, so it costs at most about {@code maxBytes} steps whatever it is given.
   */
  private static final class MetadataWriter {
    private final JsonGenerator g;
    private final Sink out;
    private final int maxDepth;
    private final int maxBytes;
    private long start;
    /** The containers and keys (String or Integer index) from the top to the value being written. */
    private final Object[] containers;
    private final Object[] keys;

    MetadataWriter(JsonGenerator g, Sink out, int maxDepth, int maxBytes) {
      this.g = g;
      this.out = out;
      this.maxDepth = maxDepth;
      this.maxBytes = maxBytes;
      this.containers = new Object[maxDepth];
      this.keys = new Object[maxDepth];
    }

    void writeTop(Map<String, @Nullable Object> metadata) throws IOException, Unsendable {
      for (Object key : metadata.keySet()) {
        if (key instanceof String && ((String) key).isEmpty()) {
          throw new Unsendable("keys must not be empty");
        }
      }
      write(metadata, 0);
    }

    private void write(@Nullable Object value, int depth) throws IOException, Unsendable {
      if (value == null) {
        g.writeNull();
      } else if (value instanceof String) {
        String text = (String) value;
        checkText(text, depth, "text");
        g.writeString(text);
      } else if (value instanceof Boolean) {
        g.writeBoolean((Boolean) value);
      } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
        g.writeNumber(((Number) value).longValue());
      } else if (value instanceof Double || value instanceof Float) {
        double d = ((Number) value).doubleValue();
        if (!Double.isFinite(d)) {
          throw refused(depth, "is " + d + ", which JSON cannot express; send it as a string or leave it out");
        }
        if (value instanceof Float) {
          g.writeNumber((Float) value);
        } else {
          g.writeNumber(d);
        }
      } else if (value instanceof BigInteger) {
        BigInteger big = (BigInteger) value;
        checkBudget(big.bitLength() / 4);
        g.writeNumber(big);
      } else if (value instanceof BigDecimal) {
        BigDecimal big = (BigDecimal) value;
        checkBudget(big.unscaledValue().bitLength() / 4);
        g.writeNumber(big);
      } else if (value instanceof Map) {
        enter(value, depth);
        g.writeStartObject();
        if (depth == 0) {
          start = written() - 1; // the metadata starts at this '{', after the ':' Jackson writes with it
        }
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
          Object key = entry.getKey();
          if (!(key instanceof String)) {
            throw refused(depth, "has a " + (key == null ? "null" : key.getClass().getName()) + " key; keys must be strings");
          }
          keys[depth] = key;
          checkText((String) key, depth + 1, "key");
          g.writeFieldName((String) key);
          write(entry.getValue(), depth + 1);
        }
        g.writeEndObject();
      } else if (value instanceof Collection || value instanceof Object[]) {
        enter(value, depth);
        g.writeStartArray();
        int index = 0;
        for (Object element : value instanceof Object[] ? Arrays.asList((Object[]) value) : (Collection<?>) value) {
          keys[depth] = index++;
          write(element, depth + 1);
        }
        g.writeEndArray();
      } else {
        throw refused(depth, "is a " + value.getClass().getName()
            + ", not a JSON value; use strings, numbers, booleans, null, maps and lists");
      }
      checkBudget(0);
    }

    /** Records a map or list entered at {@code depth}, refusing cycles and excess depth. */
    private void enter(Object container, int depth) throws Unsendable {
      for (int i = 0; i < depth; i++) {
        if (containers[i] == container) {
          throw refused(depth, "contains itself");
        }
      }
      if (depth == maxDepth) {
        throw refused(depth, "is nested more than " + maxDepth + " maps or lists deep");
      }
      containers[depth] = container;
    }

    private void checkText(String text, int depth, String what) throws Unsendable {
      checkBudget(text.length());
      int at = Text.unpairedSurrogate(text);
      if (at >= 0) {
        throw refused(depth, "has " + what + " with an unpaired UTF-16 surrogate at index " + at
            + ", which has no UTF-8 encoding");
      }
    }

    /** Refuses when what was written plus at least {@code more} bytes to come exceeds the limit. */
    private void checkBudget(long more) throws Unsendable {
      if (written() - start + more > maxBytes) {
        throw new Unsendable("must be at most " + maxBytes + " bytes as JSON");
      }
    }

    private long written() {
      return out.count + g.getOutputBuffered();
    }

    private Unsendable refused(int depth, String reason) {
      StringBuilder path = new StringBuilder("metadata");
      for (int i = 0; i < depth; i++) {
        path.append(keys[i] instanceof Integer ? "[" + keys[i] + "]" : "." + Text.preview((String) keys[i], 40));
      }
      return new Unsendable("at " + path + ": " + reason);
    }
  }

  /** Collects (or only counts) the bytes the generator writes. Never fails. */
  private static final class Sink extends OutputStream {
    private byte @Nullable [] bytes;
    private long count;

    Sink(boolean keep) {
      this.bytes = keep ? new byte[256] : null;
    }

    @Override
    public void write(int b) {
      if (bytes != null) {
        grow(1);
        bytes[(int) count] = (byte) b;
      }
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      if (bytes != null) {
        grow(len);
        System.arraycopy(b, off, bytes, (int) count, len);
      }
      count += len;
    }

    private void grow(int len) {
      byte[] kept = Objects.requireNonNull(bytes); // called only by a sink that keeps its bytes
      if (count + len > kept.length) {
        bytes = Arrays.copyOf(kept, (int) Math.max(count + len, 2L * kept.length));
      }
    }

    byte[] toByteArray() {
      return Arrays.copyOf(bytes == null ? new byte[0] : bytes, (int) count);
    }
  }

  public static JsonNode parse(byte[] body) throws MalformedJsonException {
    try {
      JsonNode node = ONE_VALUE.readTree(body);
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
