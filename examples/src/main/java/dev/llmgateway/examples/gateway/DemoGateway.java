package dev.llmgateway.examples.gateway;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.auth.StreamTokenVerifier;
import dev.llmgateway.auth.VerifiedStreamToken;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.Envelope;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
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
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The example gateway's wiring, shared by its hosts ({@link GatewayExample} on the JDK's
 * {@code HttpServer}, and the Spring Boot example): the {@link ChatGateway} around a client and a
 * ledger, the demo user's sign-in, and, when the client is the sandbox, the service's side of
 * direct streaming (verify the stream token, stream, send the signed completion webhook) so the
 * whole flow runs on one machine. The secrets are made up at start, except that against a real
 * service the stream-token keys and the webhook secret come from {@value #ENV_STREAM_TOKEN_KEYS}
 * and {@value #ENV_WEBHOOK_SECRET} when set. Thread-safe.
 */
public final class DemoGateway {
  /** Where the sandbox plays the service's direct-stream endpoint. */
  public static final String SANDBOX_SERVICE = "/sandbox-service/";
  /** Against a real service: the secret it signs completion webhooks with, {@code whsec_<base64>}. */
  public static final String ENV_WEBHOOK_SECRET = "LLM_WEBHOOK_SECRET";
  /** Against a real service: the stream-token keys shared with it, {@code {"kid": "secret"}}. */
  public static final String ENV_STREAM_TOKEN_KEYS = "LLM_STREAM_TOKEN_KEYS";

  private final LlmGatewayClient client;
  private final UserTokens users;
  private final GatewayRoutes routes;
  private final StreamTokenVerifier sandboxVerifier;
  private final WebhookSigner sandboxSigner;

  private DemoGateway(LlmGatewayClient client, UserTokens users, GatewayRoutes routes,
      StreamTokenVerifier sandboxVerifier, WebhookSigner sandboxSigner) {
    this.client = client;
    this.users = users;
    this.routes = routes;
    this.sandboxVerifier = sandboxVerifier;
    this.sandboxSigner = sandboxSigner;
  }

  /**
   * Wires a gateway around {@code client}.
   *
   * @param client the service's client (the sandbox or a real service)
   * @param ledger the users' credits
   * @param realService whether {@code client} talks to a real service (else the demo plays its
   *     direct-stream endpoint under {@link #SANDBOX_SERVICE})
   * @param webhookSecret the secret the service signs completion webhooks with
   * @param port the port the host listens on (the browser's direct-stream URL in sandbox mode)
   * @param settled told of every commit and release
   * @return the wiring
   */
  public static DemoGateway create(LlmGatewayClient client, InMemoryCreditLedger ledger, boolean realService,
      WebhookSecret webhookSecret, int port, BiConsumer<Reservation, Settlement> settled) {
    SecureRandom random = new SecureRandom();
    UserTokens users = new UserTokens(secret(random), Clock.systemUTC(),
        Map.of(GatewayExample.DEMO_USER.userId(), GatewayExample.DEMO_USER));
    JwtKeySet streamKeys = realService ? streamKeys(System::getenv, random) : JwtKeySet.of("demo", secret(random));
    StreamTokenIssuer issuer = StreamTokenIssuer.builder().keys(streamKeys)
        .serviceBaseUrl(realService ? client.baseUrl().toString() : "http://localhost:" + port + SANDBOX_SERVICE)
        .environment(name -> null).build();
    ChatGateway gateway = ChatGateway.builder()
        .client(client)
        .ledger(ledger)
        .streamTokens(issuer)
        .webhooks(WebhookVerifier.builder().secret(webhookSecret).build())
        .settlementListener(settled)
        .build();
    return new DemoGateway(client, users, new GatewayRoutes(gateway, users),
        realService ? null : StreamTokenVerifier.builder().keys(streamKeys).build(),
        realService ? null : WebhookSigner.of(webhookSecret));
  }

  /** @return the demo's one user (user 123 of company 456), whom {@link #demoToken} signs in */
  public static UserContext demoUser() {
    return GatewayExample.DEMO_USER;
  }

  /** @return the host API */
  public GatewayRoutes routes() {
    return routes;
  }

  /** @return the host's end-user authentication */
  public UserTokens users() {
    return users;
  }

  /** @return a user token for the demo user, as the host's sign-in would hand out */
  public GatewayRoutes.Reply demoToken() {
    return new GatewayRoutes.Reply(200, Map.of(),
        Envelope.ok(Map.of("token", users.issue(GatewayExample.DEMO_USER.userId())), Map.of()));
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
  public Optional<GatewayRoutes.Reply> playDirectStream(String rawQuery, int hostPort,
      ChatGateway.SseResponse response) {
    if (!playsService()) {
      throw new IllegalStateException("A real service streams itself");
    }
    String token = rawQuery == null || !rawQuery.startsWith("token=") ? "" : rawQuery.substring("token=".length());
    VerifiedStreamToken verified;
    try {
      verified = sandboxVerifier.verify(URLDecoder.decode(token, StandardCharsets.UTF_8));
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

  private void sendWebhook(int hostPort, VerifiedStreamToken verified, String status, StreamCompletion done) {
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
      byte[] body = new ObjectMapper().writeValueAsBytes(Map.of("type", "chat.completed", "data", data));
      String id = "msg_" + UUID.randomUUID().toString().replace("-", "");
      HttpRequest.Builder request = HttpRequest.newBuilder(
              URI.create("http://localhost:" + hostPort + GatewayRoutes.WEBHOOK))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body))
          .header("Content-Type", "application/json");
      sandboxSigner.headers(id, Instant.now(), body).forEach(request::header);
      HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.discarding());
    } catch (IOException e) {
      // A real service would redeliver; the demo gives up.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The secret the service signs completion webhooks with: against a real service {@value
   * #ENV_WEBHOOK_SECRET} ({@code whsec_<base64>}), else one made up at start (the sandbox signs
   * with it too).
   *
   * @param realService whether the gateway talks to a real service
   * @return the secret
   * @throws IllegalArgumentException if the variable is set but not a valid secret
   */
  public static WebhookSecret webhookSecret(boolean realService) {
    return webhookSecret(realService, System::getenv);
  }

  static WebhookSecret webhookSecret(boolean realService, Function<String, String> environment) {
    String configured = realService ? environment.apply(ENV_WEBHOOK_SECRET) : null;
    return configured != null ? WebhookSecret.parse(configured) : WebhookSecret.ofBytes(secret(new SecureRandom()));
  }

  /**
   * The stream-token keys shared with a real service: {@value #ENV_STREAM_TOKEN_KEYS} as a JSON
   * object {@code {"kid": "secret"}} (its first key signs), else made up at start, when direct
   * streaming cannot work (the service cannot verify the tokens) but everything else does.
   */
  static JwtKeySet streamKeys(Function<String, String> environment, SecureRandom random) {
    String configured = environment.apply(ENV_STREAM_TOKEN_KEYS);
    if (configured == null) {
      return JwtKeySet.of("demo", secret(random));
    }
    Map<String, String> keys;
    try {
      keys = new ObjectMapper().readValue(configured,
          new TypeReference<LinkedHashMap<String, String>>() {});
    } catch (IOException e) {
      throw new IllegalArgumentException(ENV_STREAM_TOKEN_KEYS + " is not a JSON object of key ids to secrets");
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException(ENV_STREAM_TOKEN_KEYS + " holds no key");
    }
    Map.Entry<String, String> first = keys.entrySet().iterator().next();
    return JwtKeySet.of(first.getKey(), first.getValue());
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
