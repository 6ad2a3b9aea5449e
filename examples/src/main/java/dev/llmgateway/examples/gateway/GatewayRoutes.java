package dev.llmgateway.examples.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.Candidate;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.Session;
import dev.llmgateway.SessionMessage;
import dev.llmgateway.SessionPage;
import dev.llmgateway.SessionSummary;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.Envelope;
import dev.llmgateway.host.ErrorMapper;
import dev.llmgateway.host.ErrorResponse;
import dev.llmgateway.webhooks.WebhookVerificationException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The host API of the example gateway without an HTTP server: each route takes what it needs of
 * the request (the {@code Authorization} header, the body, path and query values) and returns a
 * {@link Reply} (status, headers, envelope) for the host to send. {@link GatewayServer} (JDK
 * {@code HttpServer}) and the Spring example both serve these routes. Every SDK exception becomes
 * a status and an envelope without internals; users are authenticated with {@link UserTokens}.
 * Thread-safe.
 */
public final class GatewayRoutes {
  /** The prefix of the host's chat API. */
  public static final String API = "/api/v1/llm-chat/recruiter";
  /** The path of the service's completion webhook. */
  public static final String WEBHOOK = "/webhooks/llm-chat/completion";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY_BYTES = 64 * 1024;

  private final ChatGateway gateway;
  private final UserTokens users;
  private final ErrorMapper errors = ErrorMapper.ofDefaults();

  /**
   * Creates the routes.
   *
   * @param gateway the policies and the client
   * @param users the host's end-user authentication
   */
  public GatewayRoutes(ChatGateway gateway, UserTokens users) {
    this.gateway = gateway;
    this.users = users;
  }

  /** @return the host's end-user authentication */
  public UserTokens users() {
    return users;
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
   * @param body the request body
   * @return the reply
   */
  public Reply chat(String authorization, byte[] body) {
    return asUser(authorization, user -> {
      ChatResponse answer = gateway.chat(user, chatRequest(body));
      return Reply.of(200, Envelope.ok(chatJson(answer), Map.of("request_id", answer.requestId())));
    });
  }

  /**
   * {@code POST /chat/stream}: relays the answer as server-sent events through {@code response}.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param body the request body
   * @param response starts the host's response; called only once the upstream stream is open
   * @return empty when the stream was sent, else the refusal to send instead (nothing was started)
   */
  public Optional<Reply> stream(String authorization, byte[] body, ChatGateway.SseResponse response) {
    Reply refused = asUser(authorization, user -> {
      gateway.stream(user, chatRequest(body), response);
      return null;
    });
    return Optional.ofNullable(refused);
  }

  /**
   * {@code POST /chat/init}: a stream token for direct streaming.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param body the request body
   * @return the reply
   */
  public Reply initDirectStream(String authorization, byte[] body) {
    return asUser(authorization, user -> {
      var token = gateway.initDirectStream(user, chatRequest(body));
      return Reply.of(200, Envelope.ok(token.toMap(), Map.of("request_id", token.requestId())));
    });
  }

  /**
   * {@code GET /sessions}: the user's sessions.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param limit the {@code limit} query parameter, if any
   * @param cursor the {@code cursor} query parameter, if any
   * @return the reply
   */
  public Reply listSessions(String authorization, String limit, String cursor) {
    return asUser(authorization, user -> {
      SessionPage page = gateway.listSessions(user, limit == null ? 10 : Integer.parseInt(limit), cursor);
      return Reply.of(200, Envelope.ok(pageJson(page), Map.of("request_id", page.requestId())));
    });
  }

  /**
   * {@code GET /sessions/{id}}: one session with its messages.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param sessionId the session
   * @return the reply
   */
  public Reply getSession(String authorization, String sessionId) {
    return asUser(authorization, user -> {
      Session session = gateway.getSession(user, sessionId);
      return Reply.of(200, Envelope.ok(sessionJson(session), Map.of("request_id", session.requestId())));
    });
  }

  /**
   * {@code DELETE /sessions/{id}}.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @param sessionId the session
   * @return the reply
   */
  public Reply deleteSession(String authorization, String sessionId) {
    return asUser(authorization, user -> {
      gateway.deleteSession(user, sessionId);
      return Reply.of(200, Envelope.ok(null, Map.of()));
    });
  }

  /**
   * {@code POST /webhooks/llm-chat/completion}: the service's signed completion webhook.
   *
   * @param headers every value of every request header (so that a repeated {@code webhook-id} is seen)
   * @param body the raw body, exactly as received
   * @return 200 with the outcome, or 400 if the signature does not verify or a header is repeated
   */
  public Reply webhook(Map<String, ? extends List<String>> headers, byte[] body) {
    try {
      ChatGateway.WebhookOutcome outcome = gateway.handleCompletionWebhook(headers, body);
      return Reply.of(200, Envelope.ok(Map.of("outcome", outcome.name().toLowerCase(Locale.ROOT)), Map.of()));
    } catch (WebhookVerificationException e) {
      return Reply.of(400, Envelope.error("Invalid webhook", Map.of()));
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
    ErrorResponse mapped = errors.toResponse(failure);
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
      return new Reply(401, Map.of("WWW-Authenticate", "Bearer"), Envelope.error("Sign in to use the assistant.", Map.of()));
    }
    try {
      return route.handle(user.get());
    } catch (IOException | RuntimeException e) {
      return error(e);
    }
  }

  /**
   * A file of the chat page.
   *
   * @param contentType its {@code Content-Type}
   * @param bytes its content
   */
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
    if (!name.matches("[a-z]+\\.(html|js)")) {
      return Optional.empty();
    }
    try (InputStream in = GatewayRoutes.class.getResourceAsStream("/static/" + name)) {
      if (in == null) {
        return Optional.empty();
      }
      return Optional.of(new StaticFile(
          name.endsWith(".html") ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8", in.readAllBytes()));
    }
  }

  /**
   * Reads a request body of at most 64 KiB.
   *
   * @param in the body
   * @return its bytes
   * @throws RequestTooLargeException if it is larger ({@link #error} answers 413)
   * @throws IOException if it cannot be read
   */
  public static byte[] readBody(InputStream in) throws IOException {
    byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
    if (bytes.length > MAX_BODY_BYTES) {
      throw new RequestTooLargeException();
    }
    return bytes;
  }

  /** A request body over the 64 KiB the routes read; answered 413 before anything is sent. */
  public static final class RequestTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    RequestTooLargeException() {
      super("request body over " + MAX_BODY_BYTES + " bytes");
    }
  }

  static ChatRequest chatRequest(byte[] raw) {
    JsonNode body;
    try {
      body = JSON.readTree(raw);
    } catch (IOException e) {
      body = null;
    }
    if (body == null || !body.isObject()) {
      body = JSON.createObjectNode();
    }
    ChatRequest.Builder request = ChatRequest.builder().query(body.path("query").asText(""));
    request.sessionId(text(body, "session_id"));
    request.userIntent(text(body, "user_intent"));
    request.profileId(text(body, "profile_id"));
    return request.build();
  }

  private static String text(JsonNode body, String field) {
    JsonNode value = body.get(field);
    return value == null || value.isNull() ? null : value.asText();
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
