package dev.llmgateway.examples.gateway;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.llmgateway.host.Caller;
import dev.llmgateway.host.ChatGateway;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import dev.llmgateway.RequestValidator;
import dev.llmgateway.ValidationException.Violation;
import java.net.URLDecoder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host API of the gateway on the JDK's built-in {@link HttpServer}, no framework: end users
 * authenticate with the host's own bearer token, every route answers with the host's envelope
 * {@code {success, message, data, meta}}, and {@link ChatGateway} applies validation, rate
 * limits, credits and audit. The routes themselves are {@link GatewayRoutes}; this class only
 * dispatches to them.
 *
 * <pre>
 * POST   /api/v1/llm-chat/recruiter/chat            one answer
 * POST   /api/v1/llm-chat/recruiter/chat/stream     the answer as server-sent events (relay)
 * POST   /api/v1/llm-chat/recruiter/chat/init       a stream token for direct streaming
 * POST   /api/v1/llm-chat/recruiter/chat/background a chat answered to the user's event subscriptions (202)
 * GET    /api/v1/llm-chat/recruiter/events          the user's background answers as server-sent events
 * GET    /api/v1/llm-chat/recruiter/sessions        the user's sessions (?limit=&amp;cursor=)
 * GET    /api/v1/llm-chat/recruiter/sessions/{id}   one session with its messages
 * DELETE /api/v1/llm-chat/recruiter/sessions/{id}   delete it
 * POST   /webhooks/llm-chat/completion              the service's signed completion webhook
 * GET    /                                          the chat page
 * </pre>
 *
 * <p><b>TCP_NODELAY.</b> The JDK's {@code HttpServer} leaves Nagle's algorithm on for the
 * connections it accepts unless the system property {@value #NODELAY_PROPERTY} is {@code true}, and
 * then holds a small write (a short response body, one relayed event) back until the browser's
 * delayed ACK: about 40 ms added to every request. The property is read once, when the first
 * {@code HttpServer} of the JVM is created; this class sets it (unless it is already set) when it
 * is loaded, before it creates its own server, so it takes effect however the example is started.
 * A program that creates another {@code HttpServer} before the first {@code GatewayServer} must
 * set it itself, at start ({@code -Dsun.net.httpserver.nodelay=true} or {@code System.setProperty}
 * before that server); the server logs a warning when it finds it off.
 *
 * <p>Thread-safe.
 */
public final class GatewayServer implements AutoCloseable {
  /**
   * The JDK system property that makes {@code HttpServer} set {@code TCP_NODELAY} on every
   * connection it accepts; read once, when the JVM's first {@code HttpServer} is created.
   */
  public static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";
  static final String API = GatewayRoutes.API;
  private static final Logger LOG = LoggerFactory.getLogger(GatewayServer.class);

  static {
    // Before anything of this class can create an HttpServer: the JDK reads the property only once.
    setNoDelayUnlessSet();
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final GatewayRoutes routes;
  /** Closed after the server stops: the example's own gateway and what it opened, or nothing. */
  private final AutoCloseable closeWith;
  private final AtomicBoolean closed = new AtomicBoolean();

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
    this(address, new GatewayRoutes(gateway, users), backlog);
  }

  /**
   * Creates the server (not started) serving {@code routes}.
   *
   * @param address where to listen
   * @param routes the host API
   * @param backlog connections the OS may queue before they are accepted; 0 or less for the
   *     system default
   * @throws IOException if the address cannot be bound
   */
  public GatewayServer(InetSocketAddress address, GatewayRoutes routes, int backlog) throws IOException {
    this(bind(address, backlog), routes);
  }

  /** Serves {@code routes} on {@code server}, which {@link #bind} bound. */
  GatewayServer(HttpServer server, GatewayRoutes routes) {
    this(server, routes, () -> {});
  }

  /** Serves {@code routes} on {@code server}, and closes {@code closeWith} when it stops. */
  GatewayServer(HttpServer server, GatewayRoutes routes, AutoCloseable closeWith) {
    this.routes = routes;
    this.closeWith = closeWith;
    this.server = server;
    server.setExecutor(executor);
    server.createContext(API + "/chat", exchange -> handle(exchange, this::route));
    server.createContext(API + "/sessions", exchange -> handle(exchange, this::route));
    server.createContext(API + "/events", exchange -> handle(exchange, this::route));
    server.createContext(GatewayRoutes.WEBHOOK, exchange -> handle(exchange, this::webhook));
    server.createContext(GatewayRoutes.OPENAPI, exchange -> handle(exchange, GatewayServer::openApi));
    server.createContext("/", exchange -> handle(exchange, this::staticFile));
  }

  /**
   * Binds an {@code HttpServer} (not started) with TCP_NODELAY required.
   *
   * @param address where to listen (port 0 for any free port)
   * @param backlog the listen backlog; 0 or less for the system default
   * @return the bound server
   * @throws IOException if the address cannot be bound
   */
  static HttpServer bind(InetSocketAddress address, int backlog) throws IOException {
    requireNoDelay();
    return HttpServer.create(address, backlog);
  }

  /**
   * Sets {@value #NODELAY_PROPERTY} to {@code true} unless it is set, and warns when it is not
   * {@code true}. Setting it only helps while no {@code HttpServer} has been created in this JVM.
   */
  private static void requireNoDelay() {
    setNoDelayUnlessSet();
    if (!Boolean.getBoolean(NODELAY_PROPERTY)) {
      LOG.warn("{} is not true: every response will wait about 40 ms for the client's delayed ACK", NODELAY_PROPERTY);
    }
  }

  private static void setNoDelayUnlessSet() {
    if (System.getProperty(NODELAY_PROPERTY) == null) {
      System.setProperty(NODELAY_PROPERTY, "true");
    }
  }

  /** Adds a route, e.g. the demo's token endpoint or the sandbox's direct-stream service. */
  void addRoute(String path, Route route) {
    server.createContext(path, exchange -> handle(exchange, route));
  }

  /** @return the users' event subscriptions of background answers, or null when the routes have none */
  @Nullable ChatEventHub events() {
    return routes.events();
  }

  /** Starts serving. */
  public void start() {
    server.start();
  }

  /** @return the port the server listens on */
  public int port() {
    return server.getAddress().getPort();
  }

  /** @return the host's end-user authentication (signs users in, e.g. in a test) */
  public UserTokens users() {
    return routes.users();
  }

  /**
   * Stops serving at once, ending open streams, and stops the request threads; a server that
   * {@link GatewayExample.Builder#start} started then closes its {@link ChatGateway} and what it
   * opened from the environment (Redis, the database pool). What a host passed in (the client, a
   * ledger, a connection, a data source, the gateway given to a constructor) stays open.
   * Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    server.stop(0);
    executor.shutdownNow();
    try {
      closeWith.close();
    } catch (Exception e) {
      LOG.warn("Closing the gateway failed", e);
    }
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
      send(exchange, routes.error(e));
    } finally {
      exchange.close();
    }
  }

  private void route(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String method = exchange.getRequestMethod();
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    // The connection's remote end; X-Forwarded-For is not read: any client can write it (GatewayRoutes).
    Caller caller = Caller.of(exchange.getRemoteAddress());
    if (path.equals(API + "/chat") || path.equals(API + "/chat/stream") || path.equals(API + "/chat/init")
        || path.equals(API + "/chat/background")) {
      if (!method.equals("POST")) {
        send(exchange, GatewayRoutes.methodNotAllowed());
      } else if (path.endsWith("/chat")) {
        send(exchange, routes.chat(authorization, caller, readBody(exchange)));
      } else if (path.endsWith("/init")) {
        send(exchange, routes.initDirectStream(authorization, caller, readBody(exchange)));
      } else if (path.endsWith("/background")) {
        send(exchange, routes.chatInBackground(authorization, caller, readBody(exchange)));
      } else {
        routes.stream(authorization, caller, readBody(exchange), eventStream(exchange))
            .ifPresent(refused -> send(exchange, refused));
      }
    } else if (path.equals(API + "/events")) {
      if (method.equals("GET")) {
        routes.events(authorization, eventStream(exchange)).ifPresent(refused -> send(exchange, refused));
      } else {
        send(exchange, GatewayRoutes.methodNotAllowed());
      }
    } else if (path.equals(API + "/sessions")) {
      send(exchange, method.equals("GET")
          ? routes.listSessions(authorization, caller, query(exchange.getRequestURI().getRawQuery()))
          : GatewayRoutes.methodNotAllowed());
    } else if (path.startsWith(API + "/sessions/")) {
      String id = path.substring((API + "/sessions/").length());
      if (method.equals("GET")) {
        send(exchange, routes.getSession(authorization, caller, id));
      } else if (method.equals("DELETE")) {
        send(exchange, routes.deleteSession(authorization, caller, id));
      } else {
        send(exchange, GatewayRoutes.methodNotAllowed());
      }
    } else {
      send(exchange, GatewayRoutes.notFound());
    }
  }

  /** Starts {@code exchange}'s response as an event stream (status 200, chunked). */
  private static ChatGateway.SseResponse eventStream(HttpExchange exchange) {
    return headers -> {
      headers.forEach(exchange.getResponseHeaders()::set);
      exchange.sendResponseHeaders(200, 0);
      return exchange.getResponseBody();
    };
  }

  private void webhook(HttpExchange exchange) throws IOException {
    if (!exchange.getRequestMethod().equals("POST")) {
      send(exchange, GatewayRoutes.methodNotAllowed());
      return;
    }
    byte[] body = readBody(exchange);
    send(exchange, routes.webhook(exchange.getRequestHeaders(), body)); // every value, not getFirst
  }

  private void staticFile(HttpExchange exchange) throws IOException {
    Optional<GatewayRoutes.StaticFile> file = GatewayRoutes.staticFile(exchange.getRequestURI().getPath());
    if (file.isEmpty()) {
      send(exchange, GatewayRoutes.notFound());
      return;
    }
    sendFile(exchange, file.get());
  }

  /** {@code GET /api/openapi.json}: the routes' OpenAPI document (the context also matches longer paths: 404). */
  private static void openApi(HttpExchange exchange) throws IOException {
    if (!exchange.getRequestURI().getPath().equals(GatewayRoutes.OPENAPI)) {
      send(exchange, GatewayRoutes.notFound());
    } else if (!exchange.getRequestMethod().equals("GET")) {
      send(exchange, GatewayRoutes.methodNotAllowed());
    } else {
      sendFile(exchange, GatewayRoutes.openApi());
    }
  }

  private static void sendFile(HttpExchange exchange, GatewayRoutes.StaticFile file) throws IOException {
    byte[] bytes = file.bytes();
    exchange.getResponseHeaders().set("Content-Type", file.contentType());
    exchange.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  static byte[] readBody(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      return GatewayRoutes.readBody(in, declaredLength(exchange));
    }
  }

  /**
   * The body's {@code Content-Length}, as the server framed the body by it: -1 when the body is
   * chunked ({@code Transfer-Encoding} wins) or the header is missing or not one whole number.
   */
  static long declaredLength(HttpExchange exchange) {
    var headers = exchange.getRequestHeaders();
    List<String> lengths = headers.get("Content-Length");
    if (headers.containsKey("Transfer-Encoding") || lengths == null || lengths.size() != 1) {
      return -1;
    }
    try {
      return Long.parseLong(lengths.get(0).strip());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * A raw query string's parameters, each with every value it was given, decoded as UTF-8 ({@code +}
   * is a space). A parameter without {@code =} has the value {@code ""}.
   *
   * @throws dev.llmgateway.ValidationException naming each parameter (or {@code query}, when even
   *     its name is) that is not properly %-encoded
   */
  static Map<String, List<String>> query(@Nullable String raw) {
    Map<String, List<String>> params = new LinkedHashMap<>();
    List<Violation> violations = new ArrayList<>();
    for (String pair : raw == null ? new String[0] : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (name == null || value == null) {
        violations.add(new Violation(name == null ? "query" : name, "is not properly %-encoded"));
      } else {
        params.computeIfAbsent(name, key -> new ArrayList<>()).add(value);
      }
    }
    RequestValidator.throwIfAny(violations, null);
    return params;
  }

  /** @return {@code s} %-decoded, or null when it holds a malformed escape */
  private static @Nullable String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException malformed) {
      return null;
    }
  }

  static void send(HttpExchange exchange, GatewayRoutes.Reply reply) {
    try {
      byte[] bytes = reply.body();
      reply.headers().forEach(exchange.getResponseHeaders()::set);
      exchange.getResponseHeaders().set("Content-Type", GatewayRoutes.Reply.CONTENT_TYPE);
      exchange.sendResponseHeaders(reply.status(), bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException browserGone) {
      // Nothing to answer to.
    }
  }
}
