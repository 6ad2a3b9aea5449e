package dev.llmgateway.examples.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.Candidate;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.RequestValidator;
import dev.llmgateway.Session;
import dev.llmgateway.SessionMessage;
import dev.llmgateway.SessionPage;
import dev.llmgateway.SessionSummary;
import dev.llmgateway.Sessions;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.ValidationException.Violation;
import dev.llmgateway.host.BackgroundChat;
import dev.llmgateway.host.Caller;
import dev.llmgateway.host.ChatEvent;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.Envelope;
import dev.llmgateway.host.ErrorMapper;
import dev.llmgateway.host.ErrorResponse;
import dev.llmgateway.host.SseRelay;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseWriter;
import dev.llmgateway.webhooks.WebhookVerificationException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host API of the example gateway without an HTTP server: each route takes what it needs of
 * the request (the {@code Authorization} header, the body, path and query values) and returns a
 * {@link Reply} (status, headers, envelope) for the host to send. {@link GatewayServer} (JDK
 * {@code HttpServer}) and the Spring example both serve these routes. Every SDK exception becomes
 * a status and an envelope without internals; users are authenticated with {@link UserTokens}.
 * Thread-safe.
 *
 * <p><b>The client's address.</b> Each user route takes the request's {@link Caller}, made by the
 * host from the address of the connection's remote end ({@code HttpExchange.getRemoteAddress()},
 * the Servlet request's {@code getRemoteAddr()}), so that rate limits can be keyed by it ({@link
 * dev.llmgateway.host.RateLimitKeys#perClientAddress()}). Behind a reverse proxy that address is the
 * proxy's: a host there takes the client's address from the header its own proxy sets (e.g. the
 * address the proxy appended last to {@code X-Forwarded-For}), and only for connections from that
 * proxy. Neither example host reads {@code X-Forwarded-For}: any client can write it.
 */
public final class GatewayRoutes {
  /** The prefix of the host's chat API. */
  public static final String API = "/api/v1/llm-chat/recruiter";
  /** The path of the service's completion webhook. */
  public static final String WEBHOOK = "/webhooks/llm-chat/completion";
  /**
   * The path at which both example hosts serve the OpenAPI 3.1 description of these routes ({@code
   * GET}, JSON, the same bytes from the {@code openapi.json} resource).
   */
  public static final String OPENAPI = "/api/openapi.json";
  /** The page size of {@code GET /sessions} without {@code ?limit=}. */
  public static final int DEFAULT_LIST_LIMIT = Sessions.DEFAULT_LIMIT;
  /**
   * The longest {@code ?cursor=} passed on to the service, in characters (printable ASCII: the
   * service's cursors are opaque tokens it made itself).
   */
  public static final int MAX_CURSOR_LENGTH = 1024;
  /** The largest request body read, in bytes; a larger one is answered 413. */
  public static final int MAX_BODY_BYTES = 64 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Logger LOG = LoggerFactory.getLogger(GatewayRoutes.class);
  private static final Pattern LIMIT = Pattern.compile("[0-9]{1,3}");
  private static final Pattern PRINTABLE_ASCII = Pattern.compile("[\\x21-\\x7e]+");
  private static final Pattern STATIC_NAME = Pattern.compile("[a-z]+\\.(html|js)");
  /** The chat page's files and the OpenAPI document, read once (not from the jar on every request); the callers only read the bytes. */
  private static final Map<String, StaticFile> STATIC_FILES = new ConcurrentHashMap<>();
  private static final List<String> CHAT_FIELDS = List.of("query", "session_id", "user_intent", "profile_id");

  private final ChatGateway gateway;
  private final UserTokens users;
  private final @Nullable ChatEventHub events;
  private final ErrorMapper errors = ErrorMapper.ofDefaults();

  /**
   * Creates the routes without background answers: {@code POST /chat/background} and {@code GET
   * /events} answer 404.
   *
   * @param gateway the policies and the client
   * @param users the host's end-user authentication
   */
  public GatewayRoutes(ChatGateway gateway, UserTokens users) {
    this(gateway, users, null);
  }

  /**
   * Creates the routes with background answers: {@code gateway} publishes its background chats'
   * events to {@code events} ({@link ChatGateway.Builder#eventPublisher}), whose subscriptions
   * {@code GET /events} serves.
   *
   * @param gateway the policies and the client, publishing to {@code events}
   * @param users the host's end-user authentication
   * @param events the users' event subscriptions; null for no background answers
   */
  public GatewayRoutes(ChatGateway gateway, UserTokens users, @Nullable ChatEventHub events) {
    this.gateway = gateway;
    this.users = users;
    this.events = events;
  }

  /** @return the host's end-user authentication */
  public UserTokens users() {
    return users;
  }

  /** @return the users' event subscriptions, or null when these routes have no background answers */
  public @Nullable ChatEventHub events() {
    return events;
  }

  /**
   * What to send back: status, headers and the envelope as JSON.
   *
   * @param status the HTTP status
   * @param headers headers to set besides {@code Content-Type}
   * @param envelope the body
   */
  public record Reply(int status, Map<String, String> headers, Envelope envelope) {
    /** The {@code Content-Type} of every reply. */
    public static final String CONTENT_TYPE = "application/json; charset=utf-8";

    /** Copies {@code headers}. */
    public Reply {
      headers = Map.copyOf(headers);
    }

    static Reply of(int status, Envelope envelope) {
      return new Reply(status, Map.of(), envelope);
    }

    /** @return the envelope as UTF-8 JSON */
    public byte[] body() {
      return envelope.toJson().getBytes(StandardCharsets.UTF_8);
    }
  }

  /** A route's work for an authenticated user; may throw the SDK's exceptions. */
  @FunctionalInterface
  private interface UserRoute {
    Reply handle(UserContext user) throws IOException;
  }

  /**
   * {@code POST /chat}: one answer.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param caller the request's client address
   * @param body the request body
   * @return the reply
   */
  public Reply chat(String authorization, Caller caller, byte[] body) {
    return asUser(authorization, user -> {
      ChatResponse answer = gateway.chat(user, chatRequest(body), caller);
      return Reply.of(200, Envelope.ok(chatJson(answer), Map.of("request_id", answer.requestId())));
    });
  }

  /**
   * {@code POST /chat/stream}: relays the answer as server-sent events through {@code response}.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param caller the request's client address
   * @param body the request body
   * @param response starts the host's response; called only once the stream's first event has arrived
   * @return empty when the stream was sent, else the refusal to send instead (nothing was started)
   */
  public Optional<Reply> stream(String authorization, Caller caller, byte[] body, ChatGateway.SseResponse response) {
    Optional<UserContext> user = users.authenticate(authorization);
    if (user.isEmpty()) {
      return Optional.of(signInRequired());
    }
    try {
      gateway.stream(user.get(), chatRequest(body), caller, response);
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of(error(e));
    }
  }

  /**
   * {@code POST /chat/background}: starts a chat whose answer reaches the user's {@code GET
   * /events} subscriptions ({@link ChatGateway#chatInBackground}). The policy, validation, rate
   * limit and credit reservation happen now, refused as {@code POST /chat} refuses (nothing
   * published, nothing reserved); then 202 with {@code {"chat_id"}}, which the events name. The
   * service's failures arrive later, as a {@code failed} event.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param caller the request's client address
   * @param body the request body
   * @return the reply; 404 when these routes have no background answers
   */
  public Reply chatInBackground(String authorization, Caller caller, byte[] body) {
    if (events == null) {
      return notFound();
    }
    return asUser(authorization, user -> {
      BackgroundChat chat = gateway.chatInBackground(user, chatRequest(body), caller);
      return Reply.of(202, Envelope.ok(Map.of("chat_id", chat.id()), Map.of("request_id", chat.id())));
    });
  }

  /**
   * {@code GET /events}: the signed-in user's background answers as server-sent events, for as
   * long as the browser stays: one event per {@link ChatEvent}, named by its type ({@code
   * started}, {@code token}, {@code completed}, {@code failed}) with {@link ChatEvent#toJson()} as
   * its data, and a {@code : ping} comment after each {@link ChatEventHub#heartbeat()} of silence.
   * The subscription is open before the response starts, so a chat started once the browser has
   * the response's headers reaches it. Blocks the calling thread (the host's request thread) until
   * the browser goes away (a write fails: noticed at the next event or heartbeat), the
   * subscription is closed ({@link ChatEventHub}: too slow, replaced, the host stopping) or the
   * thread is interrupted; then closes the subscription.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param response starts the host's response ({@link SseRelay#RESPONSE_HEADERS})
   * @return empty when the events were sent, else the refusal to send instead (401; 404 when
   *     these routes have no background answers)
   */
  public Optional<Reply> events(String authorization, ChatGateway.SseResponse response) {
    ChatEventHub hub = events;
    if (hub == null) {
      return Optional.of(notFound());
    }
    Optional<UserContext> user = users.authenticate(authorization);
    if (user.isEmpty()) {
      return Optional.of(signInRequired());
    }
    Duration heartbeat = hub.heartbeat();
    try (ChatEventHub.Subscription subscription = hub.subscribe(user.get())) {
      SseWriter writer = SseWriter.create(response.start(SseRelay.RESPONSE_HEADERS));
      writer.flush(); // the headers reach the browser now: it is subscribed
      while (true) {
        ChatEvent event = subscription.poll(heartbeat);
        if (event != null) {
          writer.write(new ServerSentEvent(event.type(), event.toJson(), null));
        } else if (subscription.isOpen()) {
          writer.writeComment("ping");
        } else {
          break;
        }
      }
    } catch (IOException browserGone) {
      // The subscription is closed: nothing more to send.
    } catch (InterruptedException stopping) {
      Thread.currentThread().interrupt();
    }
    return Optional.empty();
  }

  /**
   * {@code POST /chat/init}: a stream token for direct streaming.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param caller the request's client address
   * @param body the request body
   * @return the reply
   */
  public Reply initDirectStream(String authorization, Caller caller, byte[] body) {
    return asUser(authorization, user -> {
      var token = gateway.initDirectStream(user, chatRequest(body), caller);
      return Reply.of(200, Envelope.ok(token.toMap(), Map.of("request_id", token.requestId())));
    });
  }

  /**
   * {@code GET /sessions}: the user's sessions. {@code limit} is a whole number from {@value
   * RequestValidator#MIN_LIST_LIMIT} to {@value RequestValidator#MAX_LIST_LIMIT} (default {@value
   * #DEFAULT_LIST_LIMIT}); {@code cursor} at most {@value #MAX_CURSOR_LENGTH} printable ASCII
   * characters; each at most once; other parameters are ignored. Anything else is answered 422 with
   * the parameter named, before anything is sent.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param caller the request's client address
   * @param query the query parameters by name, each with every value it was given (decoded)
   * @return the reply
   */
  public Reply listSessions(String authorization, Caller caller, Map<String, List<String>> query) {
    return asUser(authorization, user -> {
      List<Violation> violations = new ArrayList<>();
      String limit = single(query, "limit", violations);
      String cursor = single(query, "cursor", violations);
      int pageSize = limit == null ? DEFAULT_LIST_LIMIT : listLimit(limit, violations);
      if (cursor != null && !cursor.isEmpty()
          && (cursor.length() > MAX_CURSOR_LENGTH || !PRINTABLE_ASCII.matcher(cursor).matches())) {
        violations.add(new Violation("cursor", "must be at most " + MAX_CURSOR_LENGTH + " printable ASCII characters"));
      }
      RequestValidator.throwIfAny(violations, null);
      SessionPage page =
          gateway.listSessions(user, pageSize, cursor == null || cursor.isEmpty() ? null : cursor, caller);
      return Reply.of(200, Envelope.ok(pageJson(page), Map.of("request_id", page.requestId())));
    });
  }

  /** The one value of a query parameter, or null when absent; a repeated one is a violation. */
  private static @Nullable String single(Map<String, List<String>> query, String name, List<Violation> violations) {
    List<String> values = query.getOrDefault(name, List.of());
    if (values.size() > 1) {
      violations.add(new Violation(name, "must be given at most once"));
      return null;
    }
    return values.isEmpty() ? null : values.get(0);
  }

  private static int listLimit(String raw, List<Violation> violations) {
    int limit = LIMIT.matcher(raw).matches() ? Integer.parseInt(raw) : -1;
    if (limit < RequestValidator.MIN_LIST_LIMIT || limit > RequestValidator.MAX_LIST_LIMIT) {
      violations.add(new Violation("limit", "must be a whole number from " + RequestValidator.MIN_LIST_LIMIT
          + " to " + RequestValidator.MAX_LIST_LIMIT));
    }
    return limit;
  }

  /**
   * {@code GET /sessions/{id}}: one session with its messages.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param caller the request's client address
   * @param sessionId the session
   * @return the reply
   */
  public Reply getSession(String authorization, Caller caller, String sessionId) {
    return asUser(authorization, user -> {
      Session session = gateway.getSession(user, sessionId, caller);
      return Reply.of(200, Envelope.ok(sessionJson(session), Map.of("request_id", session.requestId())));
    });
  }

  /**
   * {@code DELETE /sessions/{id}}.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param caller the request's client address
   * @param sessionId the session
   * @return the reply
   */
  public Reply deleteSession(String authorization, Caller caller, String sessionId) {
    return asUser(authorization, user -> {
      gateway.deleteSession(user, sessionId, caller);
      return Reply.of(200, Envelope.ok(null, Map.of()));
    });
  }

  /**
   * {@code POST /webhooks/llm-chat/completion}: the service's signed completion webhook.
   *
   * @param headers every value of every request header (so that a repeated {@code webhook-id} is seen)
   * @param body the raw body, exactly as received
   * @return 200 with the outcome, or 400 naming what did not verify or was repeated ({@code data}
   *     is a list of {@code {field, reason}}: the header or the body, and the refusal's reason)
   */
  public Reply webhook(Map<String, ? extends List<String>> headers, byte[] body) {
    try {
      ChatGateway.WebhookOutcome outcome = gateway.handleCompletionWebhook(headers, body);
      return Reply.of(200, Envelope.ok(Map.of("outcome", outcome.name().toLowerCase(Locale.ROOT)), Map.of()));
    } catch (WebhookVerificationException e) {
      String field = switch (e.reason()) {
        case BAD_SIGNATURE -> "webhook-signature";
        case STALE_TIMESTAMP, FUTURE_TIMESTAMP -> "webhook-timestamp";
        case MALFORMED_BODY -> "body";
        case MISSING_HEADER, MALFORMED_HEADER -> "headers";
      };
      return Reply.of(400, Envelope.error("Invalid webhook",
          List.of(Map.of("field", field, "reason", e.reason().name().toLowerCase(Locale.ROOT))), Map.of()));
    } catch (RuntimeException e) {
      return error(e);
    }
  }

  /**
   * Maps a failure to a reply without internals.
   *
   * @param failure what went wrong
   * @return its status, headers (e.g. {@code Retry-After}) and envelope
   */
  public Reply error(Throwable failure) {
    if (failure instanceof RequestTooLargeException) {
      return Reply.of(413, Envelope.error("The request is too large.", Map.of()));
    }
    if (failure instanceof UnreadableBodyException) {
      return Reply.of(400, Envelope.error("The request is invalid.",
          List.of(Map.of("field", "body", "reason", "could not be read to its end")), Map.of()));
    }
    ErrorResponse mapped = errors.toResponse(failure);
    if (failure instanceof LlmGatewayException && mapped.status() >= 500) {
      // The envelope says nothing of the cause (by design): the host's log must.
      LOG.warn("Answered {}: {}", mapped.status(), failure.toString());
    } else if (mapped.status() >= 500) {
      LOG.error("Answered {} for an unexpected failure", mapped.status(), failure);
    }
    return new Reply(mapped.status(), mapped.headers(), mapped.envelope());
  }

  /** @return 404 in the envelope */
  public static Reply notFound() {
    return Reply.of(404, Envelope.error("Not found", Map.of()));
  }

  /** @return 405 in the envelope */
  public static Reply methodNotAllowed() {
    return Reply.of(405, Envelope.error("Method not allowed", Map.of()));
  }

  private Reply asUser(String authorization, UserRoute route) {
    Optional<UserContext> user = users.authenticate(authorization);
    if (user.isEmpty()) {
      return signInRequired();
    }
    try {
      return route.handle(user.get());
    } catch (IOException | RuntimeException e) {
      return error(e);
    }
  }

  private static Reply signInRequired() {
    return new Reply(401, Map.of("WWW-Authenticate", "Bearer"), Envelope.error("Sign in to use the assistant.", Map.of()));
  }

  /**
   * A file of the chat page.
   *
   * @param contentType its {@code Content-Type}
   * @param bytes its content
   */
  @SuppressWarnings("ArrayRecordComponent") // never compared or hashed: only served
  public record StaticFile(String contentType, byte[] bytes) {}

  /**
   * The chat page's file at {@code path} ({@code /} is {@code index.html}).
   *
   * @param path the request path
   * @return the file, or empty if there is none
   * @throws IOException if it cannot be read
   */
  public static Optional<StaticFile> staticFile(String path) throws IOException {
    String name = path.equals("/") ? "index.html" : path.substring(1);
    if (!STATIC_NAME.matcher(name).matches()) {
      return Optional.empty();
    }
    return resource("/static/" + name,
        name.endsWith(".html") ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8");
  }

  /**
   * The OpenAPI 3.1 description of these routes, served at {@value #OPENAPI} by both hosts.
   *
   * @return the document ({@code application/json})
   * @throws IOException if it cannot be read
   */
  public static StaticFile openApi() throws IOException {
    return resource("/openapi.json", Reply.CONTENT_TYPE)
        .orElseThrow(() -> new IOException("openapi.json is missing from the classpath"));
  }

  /** A classpath resource, read once and then served from memory; empty if there is none. */
  private static Optional<StaticFile> resource(String resource, String contentType) throws IOException {
    StaticFile cached = STATIC_FILES.get(resource);
    if (cached != null) {
      return Optional.of(cached);
    }
    try (InputStream in = GatewayRoutes.class.getResourceAsStream(resource)) {
      if (in == null) {
        return Optional.empty(); // not cached: the cache holds only the page's few files
      }
      StaticFile file = new StaticFile(contentType, in.readAllBytes());
      STATIC_FILES.putIfAbsent(resource, file);
      return Optional.of(file);
    }
  }

  /**
   * Reads a request body of at most 64 KiB.
   *
   * @param in the body
   * @return its bytes
   * @throws RequestTooLargeException if it is larger ({@link #error} answers 413)
   * @throws UnreadableBodyException if it cannot be read to its end ({@link #error} answers 400)
   */
  public static byte[] readBody(InputStream in) throws IOException {
    byte[] bytes;
    try {
      bytes = in.readNBytes(MAX_BODY_BYTES + 1);
    } catch (IOException e) {
      throw new UnreadableBodyException(e);
    }
    if (bytes.length > MAX_BODY_BYTES) {
      throw new RequestTooLargeException();
    }
    return bytes;
  }

  /**
   * Reads a request body of at most 64 KiB into one array of the size its request declares ({@code
   * Content-Length}), where {@link #readBody(InputStream)} reads through 8 KiB buffers whatever the
   * body's size. The declared length only sizes the array: the answer is {@link
   * #readBody(InputStream)}'s for every body, one shorter or longer than declared too; without a
   * declared length ({@code -1}: a chunked body), or with one over the limit, it reads as that does.
   *
   * @param in the body
   * @param declaredLength the request's {@code Content-Length}, or {@code -1} when it has none
   * @return its bytes
   * @throws RequestTooLargeException if it is larger ({@link #error} answers 413)
   * @throws UnreadableBodyException if it cannot be read to its end ({@link #error} answers 400)
   */
  public static byte[] readBody(InputStream in, long declaredLength) throws IOException {
    if (declaredLength < 0 || declaredLength > MAX_BODY_BYTES) {
      return readBody(in);
    }
    byte[] declared = new byte[(int) declaredLength];
    int read;
    int next;
    try {
      read = in.readNBytes(declared, 0, declared.length);
      next = read < declared.length ? -1 : in.read();
    } catch (IOException e) {
      throw new UnreadableBodyException(e);
    }
    if (read < declared.length) {
      return Arrays.copyOf(declared, read);
    }
    if (next == -1) {
      return declared;
    }
    // Longer than declared (never from an HTTP server that frames by Content-Length): read on to the limit.
    byte[] rest = readBody(in);
    if (declared.length + 1 + rest.length > MAX_BODY_BYTES) {
      throw new RequestTooLargeException();
    }
    byte[] body = Arrays.copyOf(declared, declared.length + 1 + rest.length);
    body[declared.length] = (byte) next;
    System.arraycopy(rest, 0, body, declared.length + 1, rest.length);
    return body;
  }

  /**
   * A request body that could not be read to its end (shorter than its {@code Content-Length}, a
   * broken chunked encoding, the connection cut): the client's fault, answered 400 naming {@code
   * body}.
   */
  public static final class UnreadableBodyException extends IOException {
    private static final long serialVersionUID = 1L;

    UnreadableBodyException(IOException cause) {
      super("request body could not be read", cause);
    }
  }

  /** A request body over the 64 KiB the routes read; answered 413 before anything is sent. */
  public static final class RequestTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    RequestTooLargeException() {
      super("request body over " + MAX_BODY_BYTES + " bytes");
    }
  }

  /**
   * The chat request in a browser's body: a JSON object whose {@code query}, {@code session_id},
   * {@code user_intent} and {@code profile_id} are strings (or null, or absent) of valid Unicode;
   * other members are ignored. The SDK's {@link RequestValidator} then checks the values.
   *
   * @throws ValidationException naming every field (or {@code body}) that is not so
   */
  static ChatRequest chatRequest(byte[] raw) {
    JsonNode body;
    try {
      body = JSON.readTree(raw);
    } catch (IOException | RuntimeException e) { // also Jackson's limits (nesting, number length)
      body = null;
    }
    if (body == null || !body.isObject()) {
      throw new ValidationException(List.of(new Violation("body", "must be a JSON object")), null);
    }
    List<Violation> violations = new ArrayList<>();
    Map<String, String> values = new LinkedHashMap<>();
    for (String field : CHAT_FIELDS) {
      JsonNode value = body.get(field);
      if (value == null || value.isNull()) {
        continue;
      }
      if (!value.isTextual()) {
        violations.add(new Violation(field, "must be a string"));
      } else if (hasUnpairedSurrogate(value.textValue())) {
        violations.add(new Violation(field, "must be valid Unicode text (no unpaired surrogate)"));
      } else {
        values.put(field, value.textValue());
      }
    }
    RequestValidator.throwIfAny(violations, null);
    return ChatRequest.builder()
        .query(values.getOrDefault("query", ""))
        .sessionId(values.get("session_id"))
        .userIntent(values.get("user_intent"))
        .profileId(values.get("profile_id"))
        .build();
  }

  /** Whether {@code text} holds a UTF-16 surrogate that is not half of a pair (JSON can say so with {@code \\u} escapes). */
  static boolean hasUnpairedSurrogate(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  private static Map<String, Object> chatJson(ChatResponse r) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("session_id", r.sessionId());
    data.put("message_id", r.messageId());
    data.put("intent", r.rawIntent());
    data.put("answer", r.answer());
    List<Map<String, Object>> candidates = new ArrayList<>();
    for (Candidate c : r.candidates()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("profile_id", c.profileId());
      m.put("name", c.name());
      m.put("headline", c.headline());
      m.put("score", c.score());
      candidates.add(m);
    }
    data.put("candidates", candidates);
    data.put("usage", r.usage() == null ? null : Map.of(
        "prompt_tokens", r.usage().promptTokens(),
        "completion_tokens", r.usage().completionTokens(),
        "total_tokens", r.usage().totalTokens()));
    return data;
  }

  private static Map<String, Object> summaryJson(SessionSummary s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("session_id", s.sessionId());
    m.put("title", s.title());
    m.put("created_at", s.createdAt() == null ? null : s.createdAt().toString());
    m.put("last_activity_at", s.lastActivityAt() == null ? null : s.lastActivityAt().toString());
    m.put("message_count", s.messageCount());
    return m;
  }

  private static Map<String, Object> pageJson(SessionPage page) {
    List<Map<String, Object>> sessions = new ArrayList<>();
    page.sessions().forEach(s -> sessions.add(summaryJson(s)));
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("sessions", sessions);
    data.put("next_cursor", page.nextCursor());
    return data;
  }

  private static Map<String, Object> sessionJson(Session session) {
    Map<String, Object> data = summaryJson(session.summary());
    List<Map<String, Object>> messages = new ArrayList<>();
    for (SessionMessage m : session.messages()) {
      Map<String, Object> message = new LinkedHashMap<>();
      message.put("message_id", m.messageId());
      message.put("role", m.role());
      message.put("content", m.content());
      message.put("created_at", m.createdAt() == null ? null : m.createdAt().toString());
      messages.add(message);
    }
    data.put("messages", messages);
    return data;
  }
}
