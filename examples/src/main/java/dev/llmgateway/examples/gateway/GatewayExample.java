package dev.llmgateway.examples.gateway;

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
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
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
import java.util.UUID;

/**
 * The example gateway: the host API on the JDK's {@code HttpServer} with a chat page. Runs against
 * the embedded sandbox unless {@code LLM_SERVICE_BASE_URL} and {@code LLM_SERVICE_TOKEN} point at a
 * real service. In sandbox mode it also plays the service's direct-stream endpoint and sends
 * itself the signed completion webhook, so the whole direct-streaming flow runs on one machine.
 *
 * <p>{@code mvn -q -pl examples -am compile exec:java -Dexec.mainClass=dev.llmgateway.examples.gateway.GatewayExample}
 * then open http://localhost:8080/.
 */
public final class GatewayExample {
  static final UserContext DEMO_USER =
      UserContext.builder().userId("123").companyId("456").role("recruiter").companyRole("owner").build();

  private GatewayExample() {}

  /**
   * Starts the gateway.
   *
   * @param args unused
   * @throws Exception if it cannot start
   */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
    boolean real = System.getenv(LlmGatewayClient.ENV_BASE_URL) != null
        && System.getenv(LlmGatewayClient.ENV_SERVICE_TOKEN) != null;
    LlmGatewayClient client = LlmGatewayClient.builder().sandbox(!real).build();
    InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
    ledger.deposit(DEMO_USER.userId(), 1_000);
    WebhookSecret webhookSecret = WebhookSecret.ofBytes(secret(new SecureRandom()));
    GatewayServer server = start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), client, ledger, real,
        webhookSecret);
    System.out.println("Gateway on http://localhost:" + server.port() + "/ ("
        + (client.isSandbox() ? "embedded sandbox" : client.baseUrl()) + ")");
  }

  /** Builds and starts a gateway around {@code client}, with demo secrets made up at start. */
  static GatewayServer start(InetSocketAddress address, LlmGatewayClient client, InMemoryCreditLedger ledger,
      boolean realService, WebhookSecret webhookSecret) throws java.io.IOException {
    return start(address, client, ledger, realService, webhookSecret, (reservation, settlement) -> {});
  }

  /** As above, telling {@code settled} of every commit and release. */
  static GatewayServer start(InetSocketAddress address, LlmGatewayClient client, InMemoryCreditLedger ledger,
      boolean realService, WebhookSecret webhookSecret,
      java.util.function.BiConsumer<dev.llmgateway.host.Reservation, dev.llmgateway.host.Settlement> settled)
      throws java.io.IOException {
    SecureRandom random = new SecureRandom();
    UserTokens users = new UserTokens(secret(random), Clock.systemUTC(), Map.of(DEMO_USER.userId(), DEMO_USER));
    JwtKeySet streamKeys = JwtKeySet.of("demo", secret(random));
    String publicBase = "http://localhost:" + address.getPort();
    StreamTokenIssuer issuer = StreamTokenIssuer.builder().keys(streamKeys)
        .serviceBaseUrl(realService ? client.baseUrl().toString() : publicBase + "/sandbox-service/")
        .environment(name -> null).build();
    ChatGateway gateway = ChatGateway.builder()
        .client(client)
        .ledger(ledger)
        .streamTokens(issuer)
        .webhooks(WebhookVerifier.builder().secret(webhookSecret).build())
        .settlementListener(settled)
        .build();
    GatewayServer server = new GatewayServer(address, gateway, users);
    server.addRoute("/demo/token", exchange ->
        GatewayServer.send(exchange, 200, Envelope.ok(Map.of("token", users.issue(DEMO_USER.userId())), Map.of())));
    if (!realService) {
      StreamTokenVerifier verifier = StreamTokenVerifier.builder().keys(streamKeys).build();
      WebhookSigner signer = WebhookSigner.of(webhookSecret);
      server.addRoute("/sandbox-service/", exchange -> playDirectStream(exchange, client, verifier, signer));
    }
    server.start();
    return server;
  }

  /** The service's side of direct streaming, played by the sandbox: verify, stream, then the webhook. */
  private static void playDirectStream(com.sun.net.httpserver.HttpExchange exchange, LlmGatewayClient client,
      StreamTokenVerifier verifier, WebhookSigner signer) throws java.io.IOException {
    String query = exchange.getRequestURI().getRawQuery();
    String token = query == null || !query.startsWith("token=") ? "" : query.substring("token=".length());
    VerifiedStreamToken verified;
    try {
      verified = verifier.verify(java.net.URLDecoder.decode(token, StandardCharsets.UTF_8));
    } catch (RuntimeException refused) {
      GatewayServer.send(exchange, 401, Envelope.error("Invalid stream token", Map.of()));
      return;
    }
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
    exchange.sendResponseHeaders(200, 0);
    String status = "completed";
    StreamCompletion done = null;
    try (ChatStream stream = client.chatStream(verified.request(), verified.user());
        OutputStream out = exchange.getResponseBody()) {
      for (StreamEvent event : stream) {
        out.write(("data: " + event.json() + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
      done = stream.completion();
      out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
    } catch (RuntimeException | java.io.IOException e) {
      status = e instanceof java.io.IOException ? "cancelled" : "failed";
    }
    sendWebhook(exchange, signer, verified, status, done);
  }

  private static void sendWebhook(com.sun.net.httpserver.HttpExchange exchange, WebhookSigner signer,
      VerifiedStreamToken verified, String status, StreamCompletion done) {
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
      byte[] body = new com.fasterxml.jackson.databind.ObjectMapper()
          .writeValueAsBytes(Map.of("type", "chat.completed", "data", data));
      String id = "msg_" + UUID.randomUUID().toString().replace("-", "");
      Instant timestamp = Instant.now();
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(
              "http://localhost:" + exchange.getLocalAddress().getPort() + "/webhooks/llm-chat/completion"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body))
          .header("Content-Type", "application/json");
      signer.headers(id, timestamp, body).forEach(request::header);
      HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.discarding());
    } catch (java.io.IOException | InterruptedException e) {
      // A real service would redeliver; the demo gives up.
    }
  }

  private static byte[] secret(SecureRandom random) {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getEncoder().encode(bytes);
  }
}
