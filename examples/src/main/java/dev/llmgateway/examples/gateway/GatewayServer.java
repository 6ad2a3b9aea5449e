package dev.llmgateway.examples.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The host API of the gateway on the JDK's built-in {@link HttpServer}, no framework: end users
 * authenticate with the host's own bearer token, every route answers with the host's envelope
 * {@code {success, message, data, meta}}, and {@link ChatGateway} applies validation, rate
 * limits, credits and audit.
 *
 * <pre>
 * POST   /api/v1/llm-chat/recruiter/chat            one answer
 * POST   /api/v1/llm-chat/recruiter/chat/stream     the answer as server-sent events (relay)
 * POST   /api/v1/llm-chat/recruiter/chat/init       a stream token for direct streaming
 * GET    /api/v1/llm-chat/recruiter/sessions        the user's sessions (?limit=&amp;cursor=)
 * GET    /api/v1/llm-chat/recruiter/sessions/{id}   one session with its messages
 * DELETE /api/v1/llm-chat/recruiter/sessions/{id}   delete it
 * POST   /webhooks/llm-chat/completion              the service's signed completion webhook
 * GET    /                                          the chat page
 * </pre>
 */
public final class GatewayServer implements AutoCloseable {
  static final String API = "/api/v1/llm-chat/recruiter";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY_BYTES = 64 * 1024;

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final ChatGateway gateway;
  /** The host's user authentication (visible to the example's tests, which sign users in). */
  final UserTokens users;
  private final ErrorMapper errors = ErrorMapper.ofDefaults();

  /**
   * Creates the server (not started).
   *
   * @param address where to listen
   * @param gateway the policies and the client
   * @param users the host's end-user authentication
   * @throws IOException if the address cannot be bound
   */
  public GatewayServer(InetSocketAddress address, ChatGateway gateway, UserTokens users) throws IOException {
    this(address, gateway, users, 0);
  }

  /**
   * Creates the server (not started) with a listen backlog, for hosts that expect bursts of
   * connections (each stream holds one of the executor's threads, which grows as needed).
   *
   * @param address where to listen
   * @param gateway the policies and the client
   * @param users the host's end-user authentication
   * @param backlog connections the OS may queue before they are accepted; 0 or less for the
   *     system default
   * @throws IOException if the address cannot be bound
   */
  public GatewayServer(InetSocketAddress address, ChatGateway gateway, UserTokens users, int backlog)
      throws IOException {
    this.gateway = gateway;
    this.users = users;
    this.server = HttpServer.create(address, backlog);
    server.setExecutor(executor);
    server.createContext(API + "/chat", exchange -> handle(exchange, this::route));
    server.createContext(API + "/sessions", exchange -> handle(exchange, this::route));
    server.createContext("/webhooks/llm-chat/completion", exchange -> handle(exchange, this::webhook));
    server.createContext("/", exchange -> handle(exchange, this::staticFile));
  }

  /** Adds a route, e.g. the demo's token endpoint or the sandbox's direct-stream service. */
  void addRoute(String path, Route route) {
    server.createContext(path, exchange -> handle(exchange, route));
  }

  /** Starts serving. */
  public void start() {
    server.start();
  }

  /** @return the port the server listens on */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  /** One route's handling; may throw the SDK's exceptions, which become envelopes. */
  @FunctionalInterface
  interface Route {
    void handle(HttpExchange exchange) throws IOException;
  }

  private void handle(HttpExchange exchange, Route route) {
    try {
      route.handle(exchange);
    } catch (IOException | RuntimeException e) {
      // Every SDK exception (and anything else) becomes a status and an envelope without internals.
      ErrorResponse mapped = errors.toResponse(e);
      mapped.headers().forEach(exchange.getResponseHeaders()::set);
      send(exchange, mapped.status(), mapped.envelope());
    } finally {
      exchange.close();
    }
  }

  private void route(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String method = exchange.getRequestMethod();
    Optional<UserContext> authenticated = users.authenticate(exchange.getRequestHeaders().getFirst("Authorization"));
    if (authenticated.isEmpty()) {
      exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer");
      send(exchange, 401, Envelope.error("Sign in to use the assistant.", Map.of()));
      return;
    }
    UserContext user = authenticated.get();
    if (method.equals("POST") && path.equals(API + "/chat")) {
      ChatResponse answer = gateway.chat(user, chatRequest(exchange));
      send(exchange, 200, Envelope.ok(chatJson(answer), Map.of("request_id", answer.requestId())));
    } else if (method.equals("POST") && path.equals(API + "/chat/stream")) {
      gateway.stream(user, chatRequest(exchange), headers -> {
        headers.forEach(exchange.getResponseHeaders()::set);
        exchange.sendResponseHeaders(200, 0);
        return exchange.getResponseBody();
      });
    } else if (method.equals("POST") && path.equals(API + "/chat/init")) {
      var token = gateway.initDirectStream(user, chatRequest(exchange));
      send(exchange, 200, Envelope.ok(token.toMap(), Map.of("request_id", token.requestId())));
    } else if (method.equals("GET") && path.equals(API + "/sessions")) {
      Map<String, String> query = query(exchange);
      SessionPage page = gateway.listSessions(user,
          Integer.parseInt(query.getOrDefault("limit", "10")), query.get("cursor"));
      send(exchange, 200, Envelope.ok(pageJson(page), Map.of("request_id", page.requestId())));
    } else if (path.startsWith(API + "/sessions/")) {
      String id = path.substring((API + "/sessions/").length());
      if (method.equals("GET")) {
        Session session = gateway.getSession(user, id);
        send(exchange, 200, Envelope.ok(sessionJson(session), Map.of("request_id", session.requestId())));
      } else if (method.equals("DELETE")) {
        gateway.deleteSession(user, id);
        send(exchange, 200, Envelope.ok(null, Map.of()));
      } else {
        send(exchange, 405, Envelope.error("Method not allowed", Map.of()));
      }
    } else {
      send(exchange, 404, Envelope.error("Not found", Map.of()));
    }
  }

  private void webhook(HttpExchange exchange) throws IOException {
    if (!exchange.getRequestMethod().equals("POST")) {
      send(exchange, 405, Envelope.error("Method not allowed", Map.of()));
      return;
    }
    byte[] body = readBody(exchange);
    Headers headers = exchange.getRequestHeaders();
    try {
      ChatGateway.WebhookOutcome outcome = gateway.handleCompletionWebhook(headers::getFirst, body);
      send(exchange, 200, Envelope.ok(Map.of("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT)), Map.of()));
    } catch (dev.llmgateway.webhooks.WebhookVerificationException e) {
      send(exchange, 400, Envelope.error("Invalid webhook", Map.of()));
    }
  }

  private void staticFile(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String name = path.equals("/") ? "index.html" : path.substring(1);
    if (!name.matches("[a-z]+\\.(html|js)")) {
      send(exchange, 404, Envelope.error("Not found", Map.of()));
      return;
    }
    try (InputStream in = GatewayServer.class.getResourceAsStream("/static/" + name)) {
      if (in == null) {
        send(exchange, 404, Envelope.error("Not found", Map.of()));
        return;
      }
      byte[] bytes = in.readAllBytes();
      exchange.getResponseHeaders().set("Content-Type",
          name.endsWith(".html") ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8");
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  static ChatRequest chatRequest(HttpExchange exchange) throws IOException {
    JsonNode body;
    try {
      body = JSON.readTree(readBody(exchange));
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

  static byte[] readBody(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      if (bytes.length > MAX_BODY_BYTES) {
        throw new IOException("request body too large");
      }
      return bytes;
    }
  }

  private static Map<String, String> query(HttpExchange exchange) {
    Map<String, String> params = new LinkedHashMap<>();
    String raw = exchange.getRequestURI().getRawQuery();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          params.put(decode(pair.substring(0, eq)), decode(pair.substring(eq + 1)));
        }
      }
    }
    return params;
  }

  private static String decode(String s) {
    return java.net.URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  static void send(HttpExchange exchange, int status, Envelope envelope) {
    try {
      byte[] bytes = envelope.toJson().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException browserGone) {
      // Nothing to answer to.
    }
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
