package dev.llmgateway.examples.gateway;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.Envelope;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

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
 * GET    /api/v1/llm-chat/recruiter/sessions        the user's sessions (?limit=&amp;cursor=)
 * GET    /api/v1/llm-chat/recruiter/sessions/{id}   one session with its messages
 * DELETE /api/v1/llm-chat/recruiter/sessions/{id}   delete it
 * POST   /webhooks/llm-chat/completion              the service's signed completion webhook
 * GET    /                                          the chat page
 * </pre>
 */
public final class GatewayServer implements AutoCloseable {
  static final String API = GatewayRoutes.API;

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final GatewayRoutes routes;
  /** The host's user authentication (visible to the example's tests, which sign users in). */
  final UserTokens users;

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
    this.routes = routes;
    this.users = routes.users();
    this.server = HttpServer.create(address, backlog);
    server.setExecutor(executor);
    server.createContext(API + "/chat", exchange -> handle(exchange, this::route));
    server.createContext(API + "/sessions", exchange -> handle(exchange, this::route));
    server.createContext(GatewayRoutes.WEBHOOK, exchange -> handle(exchange, this::webhook));
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
      send(exchange, routes.error(e));
    } finally {
      exchange.close();
    }
  }

  private void route(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String method = exchange.getRequestMethod();
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    if (method.equals("POST") && path.equals(API + "/chat")) {
      send(exchange, routes.chat(authorization, readBody(exchange)));
    } else if (method.equals("POST") && path.equals(API + "/chat/stream")) {
      routes.stream(authorization, readBody(exchange), headers -> {
        headers.forEach(exchange.getResponseHeaders()::set);
        exchange.sendResponseHeaders(200, 0);
        return exchange.getResponseBody();
      }).ifPresent(refused -> send(exchange, refused));
    } else if (method.equals("POST") && path.equals(API + "/chat/init")) {
      send(exchange, routes.initDirectStream(authorization, readBody(exchange)));
    } else if (method.equals("GET") && path.equals(API + "/sessions")) {
      Map<String, String> query = query(exchange);
      send(exchange, routes.listSessions(authorization, query.get("limit"), query.get("cursor")));
    } else if (path.startsWith(API + "/sessions/")) {
      String id = path.substring((API + "/sessions/").length());
      if (method.equals("GET")) {
        send(exchange, routes.getSession(authorization, id));
      } else if (method.equals("DELETE")) {
        send(exchange, routes.deleteSession(authorization, id));
      } else {
        send(exchange, GatewayRoutes.methodNotAllowed());
      }
    } else {
      send(exchange, GatewayRoutes.notFound());
    }
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
    byte[] bytes = file.get().bytes();
    exchange.getResponseHeaders().set("Content-Type", file.get().contentType());
    exchange.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  static byte[] readBody(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      return GatewayRoutes.readBody(in);
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
    send(exchange, new GatewayRoutes.Reply(status, Map.of(), envelope));
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
