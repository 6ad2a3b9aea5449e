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
  /** Where the sandbox plays the service's direct-stream endpoint. */
  public static final String SANDBOX_SERVICE = "/sandbox-service/";
  /** Against a real service: the secret it signs completion webhooks with, {@code whsec_<base64>}. */
  public static final String ENV_WEBHOOK_SECRET = "LLM_WEBHOOK_SECRET";
  /** Against a real service: the stream-token keys shared with it, {@code {"kid": "secret"}}. */
  public static final String ENV_STREAM_TOKEN_KEYS = "LLM_STREAM_TOKEN_KEYS";
  static final UserContext DEMO_USER =
      UserContext.builder().userId("123").companyId("456").role("recruiter").companyRole("owner").build();
  private static final ObjectMapper JSON = new ObjectMapper();
  /** How long the sandbox waits for the host to take its completion webhook. */
  private static final Duration WEBHOOK_TIMEOUT = Duration.ofSeconds(10);

  private final LlmGatewayClient client;
  private final ChatGateway gateway;
  private final Owned owned;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final UserTokens users;
  private final String signInUserId;
  private final GatewayRoutes routes;
  private final @Nullable StreamTokenVerifier sandboxVerifier;
  private final @Nullable WebhookSigner sandboxSigner;
  /** The sandbox's one client for its webhooks (a client per webhook would set up a connection pool each time). */
  private final @Nullable HttpClient webhookClient;

  private DemoGateway(LlmGatewayClient client, ChatGateway gateway, Owned owned, UserTokens users,
      String signInUserId, GatewayRoutes routes,
      @Nullable StreamTokenVerifier sandboxVerifier, @Nullable WebhookSigner sandboxSigner) {
    this.client = client;
    this.gateway = gateway;
    this.owned = owned;
    this.users = users;
    this.signInUserId = signInUserId;
    this.routes = routes;
    this.sandboxVerifier = sandboxVerifier;
    this.sandboxSigner = sandboxSigner;
    this.webhookClient = sandboxSigner == null ? null : HttpClient.newBuilder().connectTimeout(WEBHOOK_TIMEOUT).build();
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
   * @param customizer applied to the {@link ChatGateway.Builder} last
   * @return the wiring
   */
  static DemoGateway create(LlmGatewayClient client, Stores stores, UserTokens users, String signInUserId,
      JwtKeySet streamKeys,
      WebhookSecret webhookSecret, int port, SettlementListener settled,
      Consumer<ChatGateway.Builder> customizer) {
    boolean sandbox = client.isSandbox();
    StreamTokenIssuer issuer = StreamTokenIssuer.builder().keys(streamKeys)
        .serviceBaseUrl(sandbox ? "http://localhost:" + port + SANDBOX_SERVICE : client.baseUrl().toString())
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
        .settlementListener(settled);
    customizer.accept(settings);
    StreamTokenVerifier verifier = null;
    if (sandbox) {
      StreamTokenVerifier.Builder verifying = StreamTokenVerifier.builder().keys(streamKeys);
      if (stores.streamTokenStore() != null) {
        verifying.replayStore(stores.streamTokenStore());
      }
      verifier = verifying.build();
    }
    ChatGateway gateway = settings.build();
    return new DemoGateway(client, gateway, stores.owned(), users, signInUserId, new GatewayRoutes(gateway, users),
        verifier, sandbox ? WebhookSigner.of(webhookSecret) : null);
  }

  /**
   * Closes the {@link ChatGateway} (settlements still waiting for a retry are left to the ledger's
   * reaper), then what the wiring opened itself, newest first: the database ledger's reaper, the
   * Redis connection and client, the database pool. The client, and a ledger, connection or data
   * source the host gave, stay open. Idempotent.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
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
    return new GatewayRoutes.Reply(200, Map.of(), Envelope.ok(Map.of("token", users.issue(signInUserId)), Map.of()));
  }

  /** @return whether this demo plays the service's direct-stream endpoint */
  public boolean playsService() {
    return sandboxVerifier != null;
  }

  /**
   * The service's side of direct streaming, played by the sandbox: verifies the stream token,
   * streams the answer through {@code response}, then posts the signed completion webhook to the
   * host at {@code hostPort}.
   *
   * @param rawQuery the request's raw query ({@code token=...})
   * @param hostPort the port of the host that receives the webhook
   * @param response starts the response
   * @return empty when the stream was sent, else the refusal to send instead
   * @throws IllegalStateException if the demo talks to a real service
   */
  public Optional<GatewayRoutes.Reply> playDirectStream(@Nullable String rawQuery, int hostPort,
      ChatGateway.SseResponse response) {
    StreamTokenVerifier verifier = sandboxVerifier;
    if (verifier == null) {
      throw new IllegalStateException("A real service streams itself");
    }
    String token = rawQuery == null || !rawQuery.startsWith("token=") ? "" : rawQuery.substring("token=".length());
    VerifiedStreamToken verified;
    try {
      verified = verifier.verify(URLDecoder.decode(token, StandardCharsets.UTF_8));
    } catch (TransportException storeDown) {
      // The replay store could not say whether the token was used: refused, retryable (503).
      return Optional.of(routes.error(storeDown));
    } catch (RuntimeException refused) {
      return Optional.of(new GatewayRoutes.Reply(401, Map.of(), Envelope.error("Invalid stream token", Map.of())));
    }
    ChatStream stream;
    try {
      stream = client.chatStream(verified.request(), verified.user());
    } catch (RuntimeException e) {
      sendWebhook(hostPort, verified, "failed", null);
      return Optional.of(routes.error(e));
    }
    String status = "completed";
    StreamCompletion done = null;
    try (stream;
        OutputStream out = response.start(Map.of("Content-Type", "text/event-stream", "Cache-Control", "no-cache"))) {
      for (StreamEvent event : stream) {
        out.write(("data: " + event.json() + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
      done = stream.completion();
      out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
    } catch (RuntimeException | IOException e) {
      status = e instanceof IOException ? "cancelled" : "failed";
    }
    sendWebhook(hostPort, verified, status, done);
    return Optional.empty();
  }

  private void sendWebhook(int hostPort, VerifiedStreamToken verified, String status, @Nullable StreamCompletion done) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("request_id", verified.requestId());
    data.put("session_id", done == null ? null : done.sessionId());
    data.put("message_id", done == null ? null : done.messageId());
    data.put("user_id", verified.user().userId());
    data.put("company_id", verified.user().companyId());
    data.put("status", status);
    data.put("finish_reason", done == null ? null : done.finishReason());
    data.put("usage", done == null || done.usage() == null ? null : Map.of(
        "prompt_tokens", done.usage().promptTokens(),
        "completion_tokens", done.usage().completionTokens(),
        "total_tokens", done.usage().totalTokens()));
    data.put("completed_at", Instant.now().toString());
    try {
      byte[] body = JSON.writeValueAsBytes(Map.of("type", "chat.completed", "data", data));
      String id = "msg_" + UUID.randomUUID().toString().replace("-", "");
      HttpRequest.Builder request = HttpRequest.newBuilder(
              URI.create("http://localhost:" + hostPort + GatewayRoutes.WEBHOOK))
          .timeout(WEBHOOK_TIMEOUT)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body))
          .header("Content-Type", "application/json");
      // Only the demo that plays the service (and so has both) sends webhooks.
      Objects.requireNonNull(sandboxSigner).headers(id, Instant.now(), body).forEach(request::header);
      Objects.requireNonNull(webhookClient).send(request.build(), HttpResponse.BodyHandlers.discarding());
    } catch (IOException e) {
      // A real service would redeliver; the demo gives up.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
    try {
      return JwtKeySet.of(first.getKey(), first.getValue());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(ENV_STREAM_TOKEN_KEYS + " holds an unusable key id or secret");
    }
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
