package dev.llmgateway.examples.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.TransportException;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.ReplayStore;
import dev.llmgateway.auth.StreamTokenVerifier;
import dev.llmgateway.auth.VerifiedStreamToken;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.Envelope;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The service's side of direct streaming, played in-process when the client is the sandbox (the
 * sandbox answers chats, but a browser's direct stream needs an HTTP endpoint): verifies the stream
 * token, streams the sandbox's answer, then posts the signed completion webhook to the host, so the
 * whole flow runs on one machine. Both example hosts (the JDK {@code HttpServer} one and the Spring
 * Boot one) serve it at {@value #PATH}. Thread-safe.
 */
public final class SandboxService {
  /** Where the hosts serve the sandbox's direct-stream endpoint. */
  public static final String PATH = "/sandbox-service/";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** How long the sandbox waits for the host to take its completion webhook. */
  private static final Duration WEBHOOK_TIMEOUT = Duration.ofSeconds(10);

  private final LlmGatewayClient client;
  private final StreamTokenVerifier verifier;
  private final WebhookSigner signer;
  private final Function<Throwable, GatewayRoutes.Reply> errors;
  /** One client for every webhook (a client per webhook would set up a connection pool each time). */
  private final HttpClient webhookClient = HttpClient.newBuilder().connectTimeout(WEBHOOK_TIMEOUT).build();

  private SandboxService(LlmGatewayClient client, StreamTokenVerifier verifier, WebhookSigner signer,
      Function<Throwable, GatewayRoutes.Reply> errors) {
    this.client = client;
    this.verifier = verifier;
    this.signer = signer;
    this.errors = errors;
  }

  /**
   * Plays the service for {@code client}.
   *
   * @param client the sandbox's client
   * @param streamKeys the stream-token keys the host's issuer signs with
   * @param usedStreamTokens where used stream-token ids are recorded (shared by instances: Redis);
   *     null for in memory
   * @param webhookSecret the secret the host's webhook verifier checks
   * @param errors maps a failure to the host's reply ({@link GatewayRoutes#error})
   * @return the service
   * @throws IllegalArgumentException if {@code client} is not the sandbox
   */
  public static SandboxService create(LlmGatewayClient client, JwtKeySet streamKeys,
      @Nullable ReplayStore usedStreamTokens, WebhookSecret webhookSecret,
      Function<Throwable, GatewayRoutes.Reply> errors) {
    if (!client.isSandbox()) {
      throw new IllegalArgumentException("A real service streams itself: client must be the sandbox");
    }
    StreamTokenVerifier.Builder verifying = StreamTokenVerifier.builder().keys(streamKeys);
    if (usedStreamTokens != null) {
      verifying.replayStore(usedStreamTokens);
    }
    return new SandboxService(client, verifying.build(), WebhookSigner.of(webhookSecret),
        Objects.requireNonNull(errors, "errors"));
  }

  /**
   * The base URL the host's stream-token issuer hands browsers when the sandbox plays the service.
   *
   * @param port the port the host listens on
   * @return {@code http://localhost:<port>}{@value #PATH}
   */
  public static String baseUrl(int port) {
    return "http://localhost:" + port + PATH;
  }

  /**
   * Serves one direct stream: verifies the stream token, streams the answer through {@code
   * response}, then posts the signed completion webhook to the host at {@code hostPort}.
   *
   * @param rawQuery the request's raw query ({@code token=...})
   * @param hostPort the port of the host that receives the webhook
   * @param response starts the response
   * @return empty when the stream was sent, else the refusal to send instead
   */
  public Optional<GatewayRoutes.Reply> playDirectStream(@Nullable String rawQuery, int hostPort,
      ChatGateway.SseResponse response) {
    String token = rawQuery == null || !rawQuery.startsWith("token=") ? "" : rawQuery.substring("token=".length());
    VerifiedStreamToken verified;
    try {
      verified = verifier.verify(URLDecoder.decode(token, StandardCharsets.UTF_8));
    } catch (TransportException storeDown) {
      // The replay store could not say whether the token was used: refused, retryable (503).
      return Optional.of(errors.apply(storeDown));
    } catch (RuntimeException refused) {
      return Optional.of(new GatewayRoutes.Reply(401, Map.of(), Envelope.error("Invalid stream token", Map.of())));
    }
    ChatStream stream;
    try {
      stream = client.chatStream(verified.request(), verified.user());
    } catch (RuntimeException e) {
      sendWebhook(hostPort, verified, "failed", null);
      return Optional.of(errors.apply(e));
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
      signer.headers(id, Instant.now(), body).forEach(request::header);
      webhookClient.send(request.build(), HttpResponse.BodyHandlers.discarding());
    } catch (IOException e) {
      // A real service would redeliver; the demo gives up.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
