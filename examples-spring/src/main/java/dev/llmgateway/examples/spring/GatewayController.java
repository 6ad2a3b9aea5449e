package dev.llmgateway.examples.spring;

import static dev.llmgateway.examples.gateway.GatewayRoutes.API;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.ReplayStore;
import dev.llmgateway.examples.gateway.DemoGateway;
import dev.llmgateway.examples.gateway.GatewayRoutes;
import dev.llmgateway.examples.gateway.GatewayRoutes.Reply;
import dev.llmgateway.examples.gateway.SandboxService;
import dev.llmgateway.examples.gateway.UserTokens;
import dev.llmgateway.host.Caller;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.spring.boot.LlmGatewayProperties;
import dev.llmgateway.spring.boot.LlmGatewayRedisAutoConfiguration;
import dev.llmgateway.webhooks.WebhookSecret;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.task.AsyncTaskExecutor;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.util.MultiValueMap;
import org.springframework.util.StreamUtils;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.WebAsyncUtils;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

/**
 * The host API of the example gateway as Spring MVC routes: each one hands the request to {@link
 * GatewayRoutes} (shared with the JDK {@code HttpServer} host) and sends its {@link Reply}.
 * Streams are relayed through a {@link StreamingResponseBody}: the response is started (status 200,
 * event-stream headers) only once the stream's first event has arrived, so a refusal still gets its own
 * status, envelope and {@code Retry-After}, as does a stream that fails before its first event.
 *
 * <p>With the sandbox, the controller also plays the service's direct-stream endpoint ({@link
 * SandboxService}) with the starter's stream-token key and webhook secret, recording used stream
 * tokens in the starter's Redis store when there is one, so direct streaming runs on one machine.
 *
 * <p>Every request parameter names itself: the build does not compile with {@code -parameters},
 * and Spring 6.1+ no longer reads names from debug information.
 */
@RestController
class GatewayController {
  private static final String AUTHORIZATION = "Authorization";

  private final GatewayRoutes routes;
  private final UserTokens users;
  private final @Nullable SandboxService sandbox;
  private final AsyncTaskExecutor eventsExecutor;

  GatewayController(GatewayRoutes routes, UserTokens users, LlmGatewayClient client, LlmGatewayProperties properties,
      @Qualifier(LlmGatewayRedisAutoConfiguration.STREAM_TOKEN_REPLAY_STORE) ObjectProvider<ReplayStore> usedStreamTokens,
      @Qualifier(SpringGatewayApplication.EVENTS_EXECUTOR) AsyncTaskExecutor eventsExecutor) {
    this.routes = routes;
    this.users = users;
    this.eventsExecutor = eventsExecutor;
    String streamSecret = properties.getStreamTokens().getSecret();
    String webhookSecret = properties.getWebhooks().getSecret();
    this.sandbox = client.isSandbox() && streamSecret != null && webhookSecret != null
        ? SandboxService.create(client, JwtKeySet.of(properties.getStreamTokens().getKeyId(), streamSecret),
            usedStreamTokens.getIfAvailable(), WebhookSecret.parse(webhookSecret), routes::error)
        : null;
  }

  @PostMapping(API + "/chat")
  void chat(HttpServletRequest request, HttpServletResponse response) throws IOException {
    send(routes.chat(authorization(request), caller(request), body(request)), response);
  }

  @PostMapping(API + "/chat/stream")
  StreamingResponseBody stream(HttpServletRequest request, HttpServletResponse response) throws IOException {
    String authorization = authorization(request);
    byte[] body = body(request);
    Caller caller = caller(request);
    return sse(response, started -> routes.stream(authorization, caller, body, started));
  }

  @PostMapping(API + "/chat/background")
  void chatInBackground(HttpServletRequest request, HttpServletResponse response) throws IOException {
    send(routes.chatInBackground(authorization(request), caller(request), body(request)), response);
  }

  /**
   * The user's background answers as server-sent events, for as long as the browser stays (or until
   * Spring MVC's async timeout, {@link SpringGatewayApplication#RELAY_TIMEOUT}: the page subscribes
   * again), on a thread of the event subscriptions' own pool ({@link
   * SpringGatewayApplication#EVENTS_EXECUTOR}), not the relay's: open pages never hold the threads
   * streams are relayed on. (Spring MVC sets its default executor on the request's async manager
   * before calling a handler; a handler may set another for its own request.)
   */
  @GetMapping(API + "/events")
  StreamingResponseBody events(HttpServletRequest request, HttpServletResponse response) {
    WebAsyncUtils.getAsyncManager(request).setTaskExecutor(eventsExecutor);
    String authorization = authorization(request);
    return sse(response, started -> routes.events(authorization, started));
  }

  @PostMapping(API + "/chat/init")
  void init(HttpServletRequest request, HttpServletResponse response) throws IOException {
    send(routes.initDirectStream(authorization(request), caller(request), body(request)), response);
  }

  @GetMapping(API + "/sessions")
  void sessions(@RequestParam MultiValueMap<String, String> query, HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    send(routes.listSessions(authorization(request), caller(request), query), response);
  }

  @GetMapping(API + "/sessions/{id}")
  void session(@PathVariable("id") String id, HttpServletRequest request, HttpServletResponse response) throws IOException {
    send(routes.getSession(authorization(request), caller(request), id), response);
  }

  @DeleteMapping(API + "/sessions/{id}")
  void deleteSession(@PathVariable("id") String id, HttpServletRequest request, HttpServletResponse response) throws IOException {
    send(routes.deleteSession(authorization(request), caller(request), id), response);
  }

  @PostMapping(GatewayRoutes.WEBHOOK)
  void webhook(HttpServletRequest request, HttpServletResponse response) throws IOException {
    send(routes.webhook(headers(request), body(request)), response);
  }

  /**
   * The request's {@code Authorization} header, or null: read from the request, not bound with
   * {@code @RequestHeader}, whose resolver resolves placeholders and expressions in the header's
   * name and converts the value on every request.
   */
  private static String authorization(HttpServletRequest request) {
    return request.getHeader(AUTHORIZATION);
  }

  /** Every value of every header: {@code getHeader} gives the first only, hiding a repeated one. */
  private static Map<String, List<String>> headers(HttpServletRequest request) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String name : Collections.list(request.getHeaderNames())) {
      headers.put(name, Collections.list(request.getHeaders(name)));
    }
    return headers;
  }

  @RequestMapping("/demo/token")
  ResponseEntity<byte[]> demoToken() {
    return send(DemoGateway.demoToken(users, DemoGateway.demoUser().userId()));
  }

  @GetMapping(DemoGateway.SANDBOX_SERVICE + "**")
  StreamingResponseBody sandboxService(HttpServletRequest request, HttpServletResponse response) {
    String query = request.getQueryString();
    int port = request.getLocalPort();
    SandboxService service = sandbox;
    return sse(response, started -> service != null
        ? service.playDirectStream(query, port, started)
        : Optional.of(GatewayRoutes.notFound()));
  }

  @GetMapping(GatewayRoutes.OPENAPI)
  ResponseEntity<byte[]> openApi() throws IOException {
    GatewayRoutes.StaticFile file = GatewayRoutes.openApi();
    return ResponseEntity.ok().header(HttpHeaders.CONTENT_TYPE, file.contentType()).body(file.bytes());
  }

  @GetMapping({"/", "/{name:[a-z]+\\.(?:html|js)}"})
  ResponseEntity<byte[]> page(HttpServletRequest request) throws IOException {
    Optional<GatewayRoutes.StaticFile> file = GatewayRoutes.staticFile(request.getRequestURI());
    if (file.isEmpty()) {
      return send(GatewayRoutes.notFound());
    }
    return ResponseEntity.ok().header(HttpHeaders.CONTENT_TYPE, file.get().contentType()).body(file.get().bytes());
  }

  /**
   * A stream, or the refusal in its place: runs {@code relay} on the relay's thread, starting the
   * response when the relay asks to, else sending the reply it returns.
   */
  private StreamingResponseBody sse(HttpServletResponse response,
      Function<ChatGateway.SseResponse, Optional<Reply>> relay) {
    return out -> {
      // The relay does not own Tomcat's stream: Spring flushes it after this returns.
      OutputStream body = StreamUtils.nonClosing(out);
      Optional<Reply> refused;
      try {
        refused = relay.apply(headers -> {
          response.setStatus(200);
          headers.forEach(response::setHeader);
          response.flushBuffer(); // the browser sees the headers now; throws if it has gone
          return body;
        });
      } catch (RuntimeException e) {
        refused = Optional.of(routes.error(e));
      }
      if (refused.isPresent() && !response.isCommitted()) {
        send(refused.get(), response);
      }
    };
  }

  /**
   * Sends a reply on the servlet response itself: the routes' replies are bytes already, so Spring
   * MVC's return-value handling (content negotiation over the message converters, about a tenth
   * of the CPU of a sync chat's request once compiled) has nothing to add.
   */
  static void send(Reply reply, HttpServletResponse response) throws IOException {
    byte[] body = reply.body();
    response.setStatus(reply.status());
    reply.headers().forEach(response::setHeader);
    response.setContentType(Reply.CONTENT_TYPE);
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }

  /** A reply as a {@code ResponseEntity}, for {@link GatewayErrors}' handler. */
  static ResponseEntity<byte[]> send(Reply reply) {
    ResponseEntity.BodyBuilder response = ResponseEntity.status(reply.status())
        .header(HttpHeaders.CONTENT_TYPE, Reply.CONTENT_TYPE);
    reply.headers().forEach(response::header);
    return response.body(reply.body());
  }

  /**
   * The request's client address: the remote end of its connection. Not {@code X-Forwarded-For},
   * which any client can write; behind a proxy, configure Tomcat's {@code RemoteIpValve} (Spring
   * Boot: {@code server.forward-headers-strategy=native} with {@code
   * server.tomcat.remoteip.internal-proxies} naming only your proxies), and {@code getRemoteAddr()}
   * gives the address that proxy saw.
   */
  static Caller caller(HttpServletRequest request) {
    return Caller.ofAddress(request.getRemoteAddr());
  }

  private static byte[] body(HttpServletRequest request) throws IOException {
    try (InputStream in = request.getInputStream()) {
      // -1 when the request has no Content-Length (chunked): then read in 8 KiB steps.
      return GatewayRoutes.readBody(in, request.getContentLengthLong());
    }
  }
}
