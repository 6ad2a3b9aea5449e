package dev.llmgateway.sandbox.internal;

import static dev.llmgateway.sandbox.internal.Reply.MAPPER;
import static dev.llmgateway.sandbox.internal.Reply.violation;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.RequestValidator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.Buffer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process simulation of the LLM chat service's HTTP contract (v1): an OkHttp interceptor that
 * answers every request itself, with a complete response (status, headers, JSON, HTML or
 * server-sent-event body), and never calls {@link Interceptor.Chain#proceed}, so no DNS lookup or
 * connection ever happens. Add it as an application interceptor:
 *
 * <pre>{@code
 * OkHttpClient http = new OkHttpClient.Builder()
 *     .addInterceptor(new SandboxService(Clock.systemUTC()))
 *     .build();
 * }</pre>
 *
 * <p>Routes are matched on the URL path from {@code /api/v1/...} on (or a final {@code /health}
 * segment), so any host and base-path prefix work: {@code GET /health}, {@code POST
 * .../recruiter/chat}, {@code POST .../recruiter/chat/stream}, {@code GET .../recruiter/sessions},
 * and {@code GET}/{@code DELETE .../recruiter/sessions/{id}}. Other paths answer {@code 404}, other
 * methods on these paths {@code 405}. The browser form {@code GET .../chat/stream?token=} is not
 * simulated.
 *
 * <p>Authentication is checked but nothing is verified: {@code X-Service-Token} with any non-empty
 * value plus non-empty {@code X-User-Id}, {@code X-Company-Id} and {@code X-User-Role}; or {@code
 * Authorization: Bearer <token>} with any non-empty token. For a bearer token that is a JWT, the
 * payload is decoded without checking the signature: {@code sub} names the user (otherwise {@value
 * #DEFAULT_BEARER_USER}), and when a {@code scopes} array is present the endpoint's scope must be in
 * it ({@code 403} otherwise). Sessions belong to the user who created them.
 *
 * <p>Answers are deterministic: the same requests, in the same order, give the same answers; ids
 * come from counters and timestamps from the injected clock (truncated to seconds). The simulated
 * model is keyword-based; see {@code SandboxModel}. A repeated {@code Idempotency-Key} (per user
 * and endpoint) gets the first successful reply again, for the sandbox's whole life, without adding
 * messages; failed replies are not remembered, so a retry runs again.
 *
 * <h2>Simulated faults</h2>
 *
 * A chat query (sync or stream) may carry one directive, {@code #sandbox:} followed by
 * comma-separated {@code key=value} pairs without spaces, anywhere in the text:
 *
 * <ul>
 *   <li>{@code status=NNN} (400 to 599): answer that status instead, with FastAPI's {@code
 *       {"detail": ...}} body ({@code 422}: the validation list shape); {@code 502} and {@code 504}
 *       answer an HTML page as a reverse proxy would, without the {@code X-Request-Id} echo. A
 *       {@code 429} carries {@code Retry-After: 1}.
 *   <li>{@code retry_after=S}: send {@code Retry-After: S} (seconds) with the status.
 *   <li>{@code times=N}: fail only the first N attempts of this query by this user (counted per
 *       sandbox, across both chat endpoints); later attempts succeed. Without it every attempt
 *       fails.
 *   <li>{@code stream=error}: on {@code .../chat/stream}, send part of the answer, then an {@code
 *       error} event ({@code retryable: true}) instead of {@code done}, then {@code [DONE]}. {@code
 *       stream=cut}: send part of the answer and end the body there, with neither {@code done} nor
 *       {@code [DONE]}. Ignored by {@code .../chat}. Only the user message is stored.
 * </ul>
 *
 * <p>For example {@code "Find Rails engineers #sandbox:status=503,times=2,retry_after=3"}. The
 * directive is left out of answers and titles (the stored user message keeps it). A malformed
 * directive answers {@code 400} saying what is wrong. With both {@code status} and {@code stream},
 * the status wins. Faults are checked after authentication, validation and idempotent replay, and
 * before the session lookup; a fault reply is never stored for replay.
 *
 * <p>Thread-safe: share one instance among all calls. State lives in memory for the instance's
 * life and is never evicted; this is a development tool, not a server.
 */
public final class SandboxService implements Interceptor {
  /** The user of a bearer token whose payload has no usable {@code sub}. */
  public static final String DEFAULT_BEARER_USER = "sandbox-user";

  private static final Logger log = LoggerFactory.getLogger(SandboxService.class);

  private static final List<String> HEALTH = List.of("health");
  private static final List<String> RECRUITER = List.of("api", "v1", "llm-chat", "recruiter");
  private static final String SCOPE_SEND = "llm:chat:send";
  private static final String SCOPE_READ = "llm:chat:read";
  private static final String SCOPE_DELETE = "llm:chat:delete";
  private static final int DEFAULT_LIST_LIMIT = 10;
  private static final String CURSOR_PREFIX = "v1:";
  private static final String SESSION_ID_REGEX = "^[A-Za-z0-9_-]{1,128}$";
  private static final String PROFILE_ID_REGEX = "^(id_[a-f0-9]{8}|[a-f0-9]{24})$";
  private static final Pattern SESSION_ID = Pattern.compile(SESSION_ID_REGEX);
  private static final Pattern PROFILE_ID = Pattern.compile(PROFILE_ID_REGEX);
  private static final Set<String> INTENTS =
      Set.of(SandboxModel.SEARCH, SandboxModel.CHAT, SandboxModel.USER_ACTION);

  private final Clock clock;
  private final SandboxStore store = new SandboxStore();

  /**
   * Creates an empty sandbox: no sessions, counters at zero.
   *
   * @param clock the source of every timestamp ({@code created_at}, {@code Date}, ...)
   */
  public SandboxService(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Answers {@code chain.request()} without proceeding.
   *
   * @throws IOException if reading the request body fails
   */
  @Override
  public Response intercept(Interceptor.Chain chain) throws IOException {
    return handle(chain.request());
  }

  /**
   * Answers one request as the service would.
   *
   * @param request any request; its host is ignored
   * @return a complete response; a bug in the sandbox gives {@code 500} like a crashed service
   * @throws IOException if reading the request body fails
   */
  public Response handle(Request request) throws IOException {
    Reply reply;
    try {
      reply = route(request);
    } catch (RuntimeException e) {
      log.error("Sandbox failed on {} {}", request.method(), request.url().encodedPath(), e);
      reply = Reply.internalError();
    }
    log.debug("Sandbox {} {} -> {}", request.method(), request.url().encodedPath(), reply.code());
    return reply.toResponse(request, clock);
  }

  private Reply route(Request request) throws IOException {
    List<String> path = routePath(request.url());
    String method = request.method();
    if (path.equals(HEALTH)) {
      return method.equals("GET")
          ? Reply.json(200, MAPPER.createObjectNode().put("status", "ok"))
          : methodNotAllowed("GET");
    }
    if (path.size() < 5 || !path.subList(0, 4).equals(RECRUITER)) {
      return notFound();
    }
    List<String> rest = path.subList(4, path.size());
    String first = rest.get(0);
    if (rest.size() == 1 && first.equals("chat")) {
      return method.equals("POST") ? chat(request, false) : methodNotAllowed("POST");
    }
    if (rest.size() == 2 && first.equals("chat") && rest.get(1).equals("stream")) {
      return method.equals("POST") ? chat(request, true) : methodNotAllowed("POST");
    }
    if (rest.size() == 1 && first.equals("sessions")) {
      return method.equals("GET") ? listSessions(request) : methodNotAllowed("GET");
    }
    if (rest.size() == 2 && first.equals("sessions") && !rest.get(1).isEmpty()) {
      return switch (method) {
        case "GET" -> getSession(request, rest.get(1));
        case "DELETE" -> deleteSession(request, rest.get(1));
        default -> methodNotAllowed("GET, DELETE");
      };
    }
    return notFound();
  }

  /**
   * Returns the decoded path segments from {@code api/v1} on, so a base URL's path prefix does not
   * matter; or just {@code health} when that is the last segment.
   */
  private static List<String> routePath(HttpUrl url) {
    List<String> segments = url.pathSegments();
    for (int i = 0; i + 1 < segments.size(); i++) {
      if (segments.get(i).equals("api") && segments.get(i + 1).equals("v1")) {
        return segments.subList(i, segments.size());
      }
    }
    return segments.get(segments.size() - 1).equals("health") ? HEALTH : segments;
  }

  // ---------------------------------------------------------------------------------------- chat

  private record ChatInput(
      String query, @Nullable String sessionId, @Nullable String userIntent, @Nullable String profileId) {}

  private Reply chat(Request request, boolean stream) throws IOException {
    Caller caller = authenticate(request);
    if (caller == null) {
      return notAuthenticated();
    }
    if (!caller.may(SCOPE_SEND)) {
      return missingScope(SCOPE_SEND);
    }
    List<ObjectNode> errors = new ArrayList<>();
    ChatInput input = parseChat(readBody(request.body()), errors);
    if (input == null) {
      return Reply.validation(errors);
    }
    FaultDirective directive;
    try {
      directive = FaultDirective.parse(input.query());
    } catch (IllegalArgumentException e) {
      return Reply.detail(400, Objects.requireNonNullElse(e.getMessage(), "invalid fault directive"));
    }

    String key = request.header("Idempotency-Key");
    if (key == null || key.isBlank()) {
      return chatTurn(caller, input, directive, stream);
    }
    String storeKey = caller.userId() + '\u0000' + (stream ? "stream" : "chat") + '\u0000' + key;
    Object prior = store.beginIdempotent(storeKey);
    if (prior instanceof Reply earlier) {
      return earlier;
    }
    if (prior != null) {
      return Reply.detail(409, "A request with this Idempotency-Key is still in progress");
    }
    Reply reply = null;
    try {
      reply = chatTurn(caller, input, directive, stream);
      return reply;
    } finally {
      store.finishIdempotent(storeKey, reply != null && reply.replayable() ? reply : null);
    }
  }

  /** Runs one chat turn: faults, session checks, generation, storage, and the reply. */
  private Reply chatTurn(Caller caller, ChatInput input, @Nullable FaultDirective directive, boolean stream) {
    String streamFault = null;
    if (directive != null
        && directive.failsAttempt(store.nextFaultAttempt(caller.userId() + '\u0000' + input.query()))) {
      if (directive.status() != null) {
        return faultReply(directive);
      }
      streamFault = stream ? directive.stream() : null;
    }

    SandboxSession existing = null;
    if (input.sessionId() != null) {
      existing = store.get(input.sessionId());
      if (existing == null) {
        return sessionNotFound();
      }
      if (!existing.ownerId().equals(caller.userId())) {
        return sessionForbidden();
      }
      if (!existing.tryBeginTurn()) {
        return Reply.detail(409, "Session is busy with another message");
      }
    }
    try {
      SandboxModel.Generation generation =
          SandboxModel.generate(input.query(), input.userIntent(), input.profileId());
      Instant now = now();
      SandboxSession.Message asked =
          new SandboxSession.Message(store.nextMessageId(), "user", input.query(), now);
      SandboxSession.Message answered =
          new SandboxSession.Message(store.nextMessageId(), "assistant", generation.answer(), now);
      // A failed generation leaves only the user's message behind.
      List<SandboxSession.Message> added =
          streamFault == null ? List.of(asked, answered) : List.of(asked);
      SandboxSession session;
      if (existing == null) {
        String title = SandboxModel.title(FaultDirective.strip(input.query()));
        session = store.create(caller.userId(), title, now, added);
      } else {
        session = existing;
        store.append(session, added);
      }
      return stream
          ? Reply.eventStream(
              eventStream(session.id(), answered.messageId(), generation, streamFault),
              streamFault == null)
          : Reply.json(200, chatJson(session.id(), answered.messageId(), generation));
    } finally {
      if (existing != null) {
        existing.endTurn();
      }
    }
  }

  private static @Nullable ChatInput parseChat(byte[] body, List<ObjectNode> errors) {
    JsonNode root;
    try {
      root = body.length == 0 ? null : MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      JsonLocation where = e.getLocation();
      long offset = where == null ? 0 : Math.max(0, Math.max(where.getCharOffset(), where.getByteOffset()));
      errors.add(violation("json_invalid", "JSON decode error", "body", (int) Math.min(offset, Integer.MAX_VALUE)));
      return null;
    } catch (IOException e) {
      errors.add(violation("json_invalid", "JSON decode error", "body", 0));
      return null;
    }
    if (root == null || root.isMissingNode()) {
      errors.add(violation("missing", "Field required", "body"));
      return null;
    }
    if (!root.isObject()) {
      errors.add(
          violation(
              "model_attributes_type",
              "Input should be a valid dictionary or object to extract fields from",
              "body"));
      return null;
    }

    JsonNode queryNode = root.get("query");
    String query = null;
    if (queryNode == null) {
      errors.add(violation("missing", "Field required", "body", "query"));
    } else if (!queryNode.isTextual()) {
      errors.add(violation("string_type", "Input should be a valid string", "body", "query"));
    } else if (queryNode.textValue().isBlank()) {
      errors.add(violation("value_error", "Value error, query must not be blank", "body", "query"));
    } else if (queryNode.textValue().codePointCount(0, queryNode.textValue().length())
        > RequestValidator.DEFAULT_MAX_QUERY_LENGTH) {
      errors.add(
          violation(
              "string_too_long",
              "String should have at most " + RequestValidator.DEFAULT_MAX_QUERY_LENGTH + " characters",
              "body",
              "query"));
    } else {
      query = queryNode.textValue();
    }

    String sessionId = optionalString(root, "session_id", errors);
    if (sessionId != null && !SESSION_ID.matcher(sessionId).matches()) {
      errors.add(patternMismatch("session_id", SESSION_ID_REGEX));
    }
    String userIntent = optionalString(root, "user_intent", errors);
    if (userIntent != null && !INTENTS.contains(userIntent)) {
      errors.add(
          violation(
              "literal_error",
              "Input should be 'search', 'chat' or 'user_action'",
              "body",
              "user_intent"));
    }
    String profileId = optionalString(root, "profile_id", errors);
    if (profileId != null && !PROFILE_ID.matcher(profileId).matches()) {
      errors.add(patternMismatch("profile_id", PROFILE_ID_REGEX));
    }
    JsonNode metadata = root.get("metadata");
    if (metadata != null && !metadata.isNull() && !metadata.isObject()) {
      errors.add(violation("dict_type", "Input should be a valid dictionary", "body", "metadata"));
    }
    if (!errors.isEmpty() || query == null) {
      return null;
    }
    return new ChatInput(query, sessionId, userIntent, profileId);
  }

  private static @Nullable String optionalString(JsonNode root, String field, List<ObjectNode> errors) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual()) {
      errors.add(violation("string_type", "Input should be a valid string", "body", field));
      return null;
    }
    return node.textValue();
  }

  private static ObjectNode patternMismatch(String field, String regex) {
    return violation("string_pattern_mismatch", "String should match pattern '" + regex + "'", "body", field);
  }

  private static Reply faultReply(FaultDirective directive) {
    int status = Objects.requireNonNull(directive.status());
    Reply reply;
    if (status == 502 || status == 504) {
      reply = Reply.proxyPage(status);
    } else if (status == 422) {
      reply =
          Reply.validation(
              List.of(
                  violation(
                      "value_error", "Value error, simulated by a sandbox directive", "body", "query")));
    } else {
      reply = Reply.detail(status, faultDetail(status));
    }
    Integer retryAfter = directive.retryAfterSeconds();
    if (retryAfter == null && status == 429) {
      retryAfter = 1;
    }
    return retryAfter == null ? reply : reply.withHeader("Retry-After", Integer.toString(retryAfter));
  }

  private static String faultDetail(int status) {
    return switch (status) {
      case 401 -> "Not authenticated";
      case 404 -> "Session not found";
      case 409 -> "Session is busy with another message";
      case 429 -> "Rate limit exceeded";
      case 503 -> "Service temporarily unavailable";
      default -> Reply.reason(status).isEmpty() ? "Simulated error" : Reply.reason(status);
    };
  }

  private static ObjectNode chatJson(String sessionId, String messageId, SandboxModel.Generation g) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("session_id", sessionId);
    root.put("message_id", messageId);
    root.put("intent", g.intent());
    root.put("answer", g.answer());
    root.set("candidates", candidatesJson(g.candidates()));
    ArrayNode actions = root.putArray("actions");
    g.actions().forEach(a -> actions.add(actionJson(a)));
    root.set("usage", usageJson(g.usage()));
    root.put("model", SandboxModel.MODEL);
    return root;
  }

  /**
   * Writes the whole event stream: {@code session}, a {@code : ping} comment, {@code intent}, the
   * {@code token}s, {@code candidates} (if any), each {@code action}, {@code done}, then {@code
   * [DONE]}; with a stream fault, half the tokens and then an {@code error} event or nothing more.
   */
  private static byte[] eventStream(
      String sessionId, String messageId, SandboxModel.Generation g, @Nullable String fault) {
    Buffer out = new Buffer();
    writeEvent(out, event("session").put("session_id", sessionId).put("message_id", messageId));
    out.writeUtf8(": ping\n\n");
    writeEvent(out, event("intent").put("intent", g.intent()));
    List<String> tokens = SandboxModel.tokens(g.answer());
    int sent = fault == null ? tokens.size() : Math.max(1, tokens.size() / 2);
    for (String token : tokens.subList(0, sent)) {
      writeEvent(out, event("token").put("content", token));
    }
    if (FaultDirective.STREAM_CUT.equals(fault)) {
      return out.readByteArray();
    }
    if (FaultDirective.STREAM_ERROR.equals(fault)) {
      writeEvent(
          out,
          event("error")
              .put("code", "generation_failed")
              .put("message", "Simulated generation failure (sandbox directive)")
              .put("retryable", true));
    } else {
      if (!g.candidates().isEmpty()) {
        ObjectNode candidates = event("candidates");
        candidates.set("candidates", candidatesJson(g.candidates()));
        writeEvent(out, candidates);
      }
      for (SandboxModel.Action action : g.actions()) {
        ObjectNode event = event("action");
        event.set("action", actionJson(action));
        writeEvent(out, event);
      }
      ObjectNode done = event("done").put("finish_reason", "stop");
      done.set("usage", usageJson(g.usage()));
      writeEvent(out, done);
    }
    out.writeUtf8("data: [DONE]\n\n");
    return out.readByteArray();
  }

  private static ObjectNode event(String type) {
    return MAPPER.createObjectNode().put("type", type);
  }

  private static void writeEvent(Buffer out, ObjectNode event) {
    out.writeUtf8("data: ").write(Reply.bytes(event)).writeUtf8("\n\n");
  }

  private static ArrayNode candidatesJson(List<SandboxModel.Candidate> candidates) {
    ArrayNode array = MAPPER.createArrayNode();
    for (SandboxModel.Candidate c : candidates) {
      array
          .addObject()
          .put("profile_id", c.profileId())
          .put("name", c.name())
          .put("headline", c.headline())
          .put("score", c.score());
    }
    return array;
  }

  private static ObjectNode actionJson(SandboxModel.Action action) {
    return MAPPER.createObjectNode().put("type", action.type()).put("profile_id", action.profileId());
  }

  private static ObjectNode usageJson(SandboxModel.TokenUsage usage) {
    return MAPPER
        .createObjectNode()
        .put("prompt_tokens", usage.promptTokens())
        .put("completion_tokens", usage.completionTokens())
        .put("total_tokens", usage.totalTokens());
  }

  // ------------------------------------------------------------------------------------ sessions

  private Reply listSessions(Request request) {
    Caller caller = authenticate(request);
    if (caller == null) {
      return notAuthenticated();
    }
    if (!caller.may(SCOPE_READ)) {
      return missingScope(SCOPE_READ);
    }
    List<ObjectNode> errors = new ArrayList<>();
    int limit = DEFAULT_LIST_LIMIT;
    String limitParam = request.url().queryParameter("limit");
    if (limitParam != null) {
      try {
        limit = Integer.parseInt(limitParam.strip());
        if (limit < RequestValidator.MIN_LIST_LIMIT) {
          errors.add(
              violation(
                  "greater_than_equal",
                  "Input should be greater than or equal to " + RequestValidator.MIN_LIST_LIMIT,
                  "query",
                  "limit"));
        } else if (limit > RequestValidator.MAX_LIST_LIMIT) {
          errors.add(
              violation(
                  "less_than_equal",
                  "Input should be less than or equal to " + RequestValidator.MAX_LIST_LIMIT,
                  "query",
                  "limit"));
        }
      } catch (NumberFormatException e) {
        errors.add(
            violation(
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
                "query",
                "limit"));
      }
    }
    long before = Long.MAX_VALUE;
    String cursor = request.url().queryParameter("cursor");
    if (cursor != null && !cursor.isEmpty()) {
      Long decoded = decodeCursor(cursor);
      if (decoded == null) {
        errors.add(violation("value_error", "Value error, invalid cursor", "query", "cursor"));
      } else {
        before = decoded;
      }
    }
    if (!errors.isEmpty()) {
      return Reply.validation(errors);
    }

    List<SandboxSession.Snapshot> page = store.page(caller.userId(), before, limit + 1);
    boolean more = page.size() > limit;
    if (more) {
      page = page.subList(0, limit);
    }
    ObjectNode root = MAPPER.createObjectNode();
    ArrayNode sessions = root.putArray("sessions");
    page.forEach(s -> sessions.add(sessionJson(s)));
    if (more) {
      root.put("next_cursor", encodeCursor(page.get(page.size() - 1).activitySeq()));
    } else {
      root.putNull("next_cursor");
    }
    return Reply.json(200, root);
  }

  private Reply getSession(Request request, String sessionId) {
    Caller caller = authenticate(request);
    if (caller == null) {
      return notAuthenticated();
    }
    if (!caller.may(SCOPE_READ)) {
      return missingScope(SCOPE_READ);
    }
    SandboxSession session = store.get(sessionId);
    if (session == null) {
      return sessionNotFound();
    }
    if (!session.ownerId().equals(caller.userId())) {
      return sessionForbidden();
    }
    SandboxSession.Snapshot snapshot = session.snapshot(true);
    ObjectNode root = sessionJson(snapshot);
    ArrayNode messages = root.putArray("messages");
    for (SandboxSession.Message m : snapshot.messages()) {
      messages
          .addObject()
          .put("message_id", m.messageId())
          .put("role", m.role())
          .put("content", m.content())
          .put("created_at", timestamp(m.createdAt()));
    }
    return Reply.json(200, root);
  }

  private Reply deleteSession(Request request, String sessionId) {
    Caller caller = authenticate(request);
    if (caller == null) {
      return notAuthenticated();
    }
    if (!caller.may(SCOPE_DELETE)) {
      return missingScope(SCOPE_DELETE);
    }
    SandboxSession session = store.get(sessionId);
    if (session == null) {
      return sessionNotFound();
    }
    if (!session.ownerId().equals(caller.userId())) {
      return sessionForbidden();
    }
    return store.remove(session) ? Reply.noContent() : sessionNotFound();
  }

  private static ObjectNode sessionJson(SandboxSession.Snapshot s) {
    return MAPPER
        .createObjectNode()
        .put("session_id", s.sessionId())
        .put("title", s.title())
        .put("created_at", timestamp(s.createdAt()))
        .put("last_activity_at", timestamp(s.lastActivityAt()))
        .put("message_count", s.messageCount());
  }

  private static String encodeCursor(long activitySeq) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((CURSOR_PREFIX + activitySeq).getBytes(StandardCharsets.UTF_8));
  }

  private static @Nullable Long decodeCursor(String cursor) {
    try {
      String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      if (!text.startsWith(CURSOR_PREFIX)) {
        return null;
      }
      long seq = Long.parseLong(text.substring(CURSOR_PREFIX.length()));
      return seq > 0 ? seq : null;
    } catch (IllegalArgumentException e) { // NumberFormatException is one too
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------- auth

  /**
   * Who is calling.
   *
   * @param scopes the JWT's scopes, or null when the credentials carry none (everything allowed)
   */
  private record Caller(String userId, @Nullable Set<String> scopes) {
    boolean may(String scope) {
      return scopes == null || scopes.contains(scope);
    }
  }

  private static @Nullable Caller authenticate(Request request) {
    String authorization = request.header("Authorization");
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      String token = authorization.substring(7).strip();
      if (!token.isEmpty()) {
        return bearerCaller(token);
      }
    }
    String userId = request.header("X-User-Id");
    if (nonBlank(request.header("X-Service-Token"))
        && userId != null
        && nonBlank(userId)
        && nonBlank(request.header("X-Company-Id"))
        && nonBlank(request.header("X-User-Role"))) {
      return new Caller(userId, null);
    }
    return null;
  }

  /** Reads {@code sub} and {@code scopes} from a JWT payload without verifying anything. */
  private static Caller bearerCaller(String token) {
    String[] parts = token.split("\\.", -1);
    if (parts.length >= 2) {
      try {
        JsonNode payload = MAPPER.readTree(Base64.getUrlDecoder().decode(parts[1]));
        if (payload != null && payload.isObject()) {
          JsonNode sub = payload.get("sub");
          String userId =
              sub != null && (sub.isTextual() || sub.isIntegralNumber()) && !sub.asText().isBlank()
                  ? sub.asText()
                  : DEFAULT_BEARER_USER;
          Set<String> scopes = null;
          JsonNode scopesNode = payload.get("scopes");
          if (scopesNode != null && scopesNode.isArray()) {
            scopes = new HashSet<>();
            for (JsonNode scope : scopesNode) {
              scopes.add(scope.asText());
            }
          }
          return new Caller(userId, scopes);
        }
      } catch (IllegalArgumentException | IOException e) {
        // Not a JWT: any bearer token is accepted.
      }
    }
    return new Caller(DEFAULT_BEARER_USER, null);
  }

  private static boolean nonBlank(@Nullable String value) {
    return value != null && !value.isBlank();
  }

  // ------------------------------------------------------------------------------------- helpers

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.SECONDS);
  }

  private static String timestamp(Instant instant) {
    return DateTimeFormatter.ISO_INSTANT.format(instant);
  }

  private static byte[] readBody(@Nullable RequestBody body) throws IOException {
    if (body == null) {
      return new byte[0];
    }
    Buffer buffer = new Buffer();
    body.writeTo(buffer);
    return buffer.readByteArray();
  }

  private static Reply notFound() {
    return Reply.detail(404, "Not Found");
  }

  private static Reply methodNotAllowed(String allow) {
    return Reply.detail(405, "Method Not Allowed").withHeader("Allow", allow);
  }

  private static Reply notAuthenticated() {
    return Reply.detail(401, "Not authenticated").withHeader("WWW-Authenticate", "Bearer");
  }

  private static Reply missingScope(String scope) {
    return Reply.detail(403, "Missing scope: " + scope);
  }

  private static Reply sessionNotFound() {
    return Reply.detail(404, "Session not found");
  }

  private static Reply sessionForbidden() {
    return Reply.detail(403, "Session belongs to another user");
  }
}
