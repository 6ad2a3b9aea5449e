package dev.llmgateway.examples.gateway;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.UserContext;
import dev.llmgateway.TransportException;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.ReplayStore;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.auth.StreamTokenVerifier;
import dev.llmgateway.auth.VerifiedStreamToken;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.Envelope;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.SettlementListener;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The example gateway's wiring, shared by its hosts ({@link GatewayExample} on the JDK's
 * {@code HttpServer}, and the Spring Boot example): the {@link ChatGateway} around a client and a
 * ledger, the demo user's sign-in, and, when the client is the sandbox, the service's side of
 * direct streaming (verify the stream token, stream, send the signed completion webhook) so the
 * whole flow runs on one machine. {@link GatewayExample#builder()} makes one from its settings;
 * {@link GatewayExample#fromEnvironment} reads the stream-token keys and the webhook secret shared
 * with a real service from {@value #ENV_STREAM_TOKEN_KEYS} and {@value #ENV_WEBHOOK_SECRET}.
 * {@link #close()} closes the gateway and what the wiring opened itself (Redis, the database pool);
 * the Spring example closes it with its application context. Thread-safe.
 */
public final class DemoGateway implements AutoCloseable {
  /** Where the sandbox plays the service's direct-stream endpoint ({@link SandboxService#PATH}). */
  public static final String SANDBOX_SERVICE = SandboxService.PATH;
  /** Against a real service: the secret it signs completion webhooks with, {@code whsec_<base64>}. */
  public static final String ENV_WEBHOOK_SECRET = "LLM_WEBHOOK_SECRET";
  /** Against a real service: the stream-token keys shared with it, {@code {"kid": "secret"}}. */
  public static final String ENV_STREAM_TOKEN_KEYS = "LLM_STREAM_TOKEN_KEYS";
  static final UserContext DEMO_USER =
      UserContext.builder().userId("123").companyId("456").role("recruiter").companyRole("owner").build();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ChatGateway gateway;
  private final Owned owned;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final UserTokens users;
  private final String signInUserId;
  private final GatewayRoutes routes;
  /** The service's side of direct streaming, when the client is the sandbox. */
  private final @Nullable SandboxService sandbox;

  private DemoGateway(ChatGateway gateway, Owned owned, UserTokens users, String signInUserId, GatewayRoutes routes,
      @Nullable SandboxService sandbox) {
    this.gateway = gateway;
    this.owned = owned;
    this.users = users;
    this.signInUserId = signInUserId;
    this.routes = routes;
    this.sandbox = sandbox;
  }

  /**
   * The host-side state of one gateway, in memory or shared with other instances (Redis, a
   * database), and what of it the wiring opened itself.
   *
   * @param ledger the users' credits
   * @param rateLimiter the rate limiter
   * @param streamTokenStore where the sandbox's verifier records used stream tokens; null: in memory
   * @param webhookStore where the webhook verifier records delivered webhook ids; null: in memory
   * @param owned closed with the gateway
   */
  record Stores(CreditLedger ledger, RateLimiter rateLimiter, @Nullable ReplayStore streamTokenStore,
      @Nullable ReplayStore webhookStore, Owned owned) {}

  /**
   * Wires a gateway around {@code client}: the {@link ChatGateway} with the example's settings and
   * then {@code customizer}'s, and, when {@code client} is the sandbox, the service's side of direct
   * streaming. {@link GatewayExample.Builder} calls this with its settings.
   *
   * @param client the service's client (the sandbox or a real service)
   * @param stores the credits, rate limits and replay stores
   * @param users the host's end-user authentication
   * @param signInUserId whom {@link #demoToken} signs in
   * @param streamKeys the stream-token keys shared with the service (the sandbox verifies with them)
   * @param webhookSecret the secret the service signs completion webhooks with
   * @param port the port the host listens on (the browser's direct-stream URL in sandbox mode)
   * @param settled told of every commit and release
   * @param events where the gateway publishes its background chats' events (before {@code
   *     customizer}, which may replace it), served by the routes' {@code GET /events}
   * @param customizer applied to the {@link ChatGateway.Builder} last
   * @return the wiring
   */
  static DemoGateway create(LlmGatewayClient client, Stores stores, UserTokens users, String signInUserId,
      JwtKeySet streamKeys,
      WebhookSecret webhookSecret, int port, SettlementListener settled, ChatEventHub events,
      Consumer<ChatGateway.Builder> customizer) {
    boolean sandbox = client.isSandbox();
    StreamTokenIssuer issuer = StreamTokenIssuer.builder().keys(streamKeys)
        .serviceBaseUrl(sandbox ? SandboxService.baseUrl(port) : client.baseUrl().toString())
        .build();
    WebhookVerifier.Builder webhooks = WebhookVerifier.builder().secret(webhookSecret);
    if (stores.webhookStore() != null) {
      webhooks.idStore(stores.webhookStore());
    }
    ChatGateway.Builder settings = ChatGateway.builder()
        .client(client)
        .ledger(stores.ledger())
        .rateLimiter(stores.rateLimiter())
        .streamTokens(issuer)
        .webhooks(webhooks.build())
        .settlementListener(settled)
        .eventPublisher(events);
    customizer.accept(settings);
    ChatGateway gateway = settings.build();
    GatewayRoutes routes = new GatewayRoutes(gateway, users, events);
    return new DemoGateway(gateway, stores.owned(), users, signInUserId, routes, sandbox
        ? SandboxService.create(client, streamKeys, stores.streamTokenStore(), webhookSecret, routes::error)
        : null);
  }

  /**
   * Closes the users' event subscriptions (their responses end), the {@link ChatGateway}
   * (settlements still waiting for a retry are left to the ledger's reaper), then what the wiring
   * opened itself, newest first: the database ledger's reaper, the Redis connection and client, the
   * database pool. The client, and a ledger, connection or data source the host gave, stay open.
   * Idempotent.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        ChatEventHub events = routes.events();
        if (events != null) {
          events.close();
        }
        gateway.close();
      } finally {
        owned.close();
      }
    }
  }

  /** @return the demo's user (user 123 of company 456), the example's one user unless it is given others */
  public static UserContext demoUser() {
    return DEMO_USER;
  }

  /** @return the host API */
  public GatewayRoutes routes() {
    return routes;
  }

  /** @return the host's end-user authentication */
  public UserTokens users() {
    return users;
  }

  /**
   * The demo's sign-in ({@code /demo/token}): a user token for the first of the example's users, as
   * the host's own sign-in would hand out.
   *
   * @return the reply
   */
  public GatewayRoutes.Reply demoToken() {
    return demoToken(users, signInUserId);
  }

  /**
   * The demo's sign-in ({@code /demo/token}) of any host: a user token for {@code userId}, as the
   * host's own sign-in would hand out.
   *
   * @param users the host's user authentication
   * @param userId whom to sign in
   * @return the reply
   */
  public static GatewayRoutes.Reply demoToken(UserTokens users, String userId) {
    return new GatewayRoutes.Reply(200, Map.of(), Envelope.ok(Map.of("token", users.issue(userId)), Map.of()));
  }

  /** @return whether this demo plays the service's direct-stream endpoint */
  public boolean playsService() {
    return sandbox != null;
  }

  /**
   * The service's side of direct streaming, played by the sandbox ({@link
   * SandboxService#playDirectStream}).
   *
   * @param rawQuery the request's raw query ({@code token=...})
   * @param hostPort the port of the host that receives the webhook
   * @param response starts the response
   * @return empty when the stream was sent, else the refusal to send instead
   * @throws IllegalStateException if the demo talks to a real service
   */
  public Optional<GatewayRoutes.Reply> playDirectStream(@Nullable String rawQuery, int hostPort,
      ChatGateway.SseResponse response) {
    SandboxService service = sandbox;
    if (service == null) {
      throw new IllegalStateException("A real service streams itself");
    }
    return service.playDirectStream(rawQuery, hostPort, response);
  }

  /**
   * The webhook secret in {@value #ENV_WEBHOOK_SECRET} ({@code whsec_<base64>}).
   *
   * @param environment reads a variable
   * @return the secret, or null when the variable is unset
   * @throws IllegalArgumentException if it is set but not a valid secret (the message names the
   *     variable, never its value)
   */
  static @Nullable WebhookSecret webhookSecret(Function<String, @Nullable String> environment) {
    String configured = environment.apply(ENV_WEBHOOK_SECRET);
    if (configured == null) {
      return null;
    }
    try {
      return WebhookSecret.parse(configured);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(ENV_WEBHOOK_SECRET + " is not a webhook secret (whsec_<base64>)");
    }
  }

  /**
   * The stream-token keys in {@value #ENV_STREAM_TOKEN_KEYS}, a JSON object {@code {"kid":
   * "secret"}} whose first key signs.
   *
   * @param environment reads a variable
   * @return the keys, or null when the variable is unset
   * @throws IllegalArgumentException if it is set but malformed (the message names the variable,
   *     never its value)
   */
  static @Nullable JwtKeySet streamKeys(Function<String, @Nullable String> environment) {
    Map.Entry<String, String> first = signingStreamKey(environment);
    if (first == null) {
      return null;
    }
    try {
      return JwtKeySet.of(first.getKey(), first.getValue());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(ENV_STREAM_TOKEN_KEYS + " holds an unusable key id or secret");
    }
  }

  /**
   * The signing key of {@value #ENV_STREAM_TOKEN_KEYS} (its first), as key id and secret: the
   * Spring example hands it to the starter, which takes one key.
   *
   * @param environment reads a variable
   * @return the key id and secret, or null when the variable is unset
   * @throws IllegalArgumentException if it is set but not a non-empty JSON object of strings (the
   *     message names the variable, never its value)
   */
  public static Map.@Nullable Entry<String, String> signingStreamKey(Function<String, @Nullable String> environment) {
    String configured = environment.apply(ENV_STREAM_TOKEN_KEYS);
    if (configured == null) {
      return null;
    }
    Map<String, String> keys;
    try {
      keys = JSON.readValue(configured, new TypeReference<LinkedHashMap<String, String>>() {});
    } catch (IOException e) {
      throw new IllegalArgumentException(ENV_STREAM_TOKEN_KEYS + " is not a JSON object of key ids to secrets");
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException(ENV_STREAM_TOKEN_KEYS + " holds no key");
    }
    Map.Entry<String, String> first = keys.entrySet().iterator().next();
    if (first.getValue() == null) {
      throw new IllegalArgumentException(ENV_STREAM_TOKEN_KEYS + " holds an unusable key id or secret");
    }
    return first;
  }

  /**
   * Makes up a secret for the demo.
   *
   * @param random the source
   * @return 32 random bytes, Base64-encoded
   */
  public static byte[] secret(SecureRandom random) {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getEncoder().encode(bytes);
  }
}
