package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.AuditSink;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import dev.llmgateway.testkit.SseResponses;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The example gateway's host API end to end, whichever server hosts it: the gateway in-process,
 * a real HTTP client as the browser, MockWebServer as the service. Each host's test starts its
 * server with {@link #start}.
 */
public abstract class GatewayApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final MediaType APPLICATION_JSON = MediaType.get("application/json");
  private static final String CHAT_JSON = "{\"session_id\":\"sess_1\",\"message_id\":\"msg_1\",\"intent\":\"search\","
      + "\"answer\":\"Three candidates\",\"candidates\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}";
  protected static final String STREAM = "data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_1\"}\n\n"
      + "data: {\"type\":\"token\",\"content\":\"Hello\"}\n\n"
      + "data: {\"type\":\"done\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}\n\n"
      + "data: [DONE]\n\n";

  protected final MockWebServer service = new MockWebServer();
  protected final OkHttpClient browser = new OkHttpClient();
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private final WebhookSecret webhookSecret = WebhookSecret.ofBytes("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8));
  private LlmGatewayClient client;
  private Host gateway;
  private String userToken;
  private final java.util.concurrent.BlockingQueue<dev.llmgateway.host.Settlement> settlements =
      new java.util.concurrent.LinkedBlockingQueue<>();

  @BeforeEach
  void setUp() throws IOException {
    service.start();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("svc-token")
        .environment(name -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
    ledger.deposit("123", 100);
    gateway = start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), client, ledger, webhookSecret,
        (reservation, settlement) -> settlements.add(settlement));
    userToken = gateway.users().issue("123");
  }

  /** A started gateway. */
  protected interface Host extends AutoCloseable {
    /** @return the port it listens on */
    int port();

    /** @return its user authentication, to sign the test's user in */
    UserTokens users();

    @Override
    void close();
  }

  /**
   * Starts the gateway in front of a real service ({@code client}), as {@code GatewayExample.start} does.
   *
   * @param address where to listen
   * @param client the service's client
   * @param ledger the users' credits
   * @param webhookSecret the completion webhooks' secret
   * @param settled told of every commit and release
   * @return the started gateway
   * @throws IOException if it cannot start
   */
  protected abstract Host start(InetSocketAddress address, LlmGatewayClient client, InMemoryCreditLedger ledger,
      WebhookSecret webhookSecret, BiConsumer<Reservation, Settlement> settled) throws IOException;

  @AfterEach
  void tearDown() {
    gateway.close();
    client.close();
    service.close();
    browser.dispatcher().executorService().shutdown();
    browser.connectionPool().evictAll();
  }

  private String url(String path) {
    return "http://127.0.0.1:" + gateway.port() + path;
  }

  protected Request.Builder post(String path, String json) {
    return new Request.Builder().url(url(path)).post(RequestBody.create(json, APPLICATION_JSON))
        .header("Authorization", "Bearer " + userToken);
  }

  private JsonNode envelope(Response response) throws IOException {
    return JSON.readTree(response.body().string());
  }

  @Test
  void requestsWithoutAUserTokenAreRefused() throws Exception {
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat", "{\"query\":\"hi\"}")
        .removeHeader("Authorization").build()).execute()) {
      assertThat(response.code()).isEqualTo(401);
      JsonNode body = envelope(response);
      assertThat(body.get("success").asBoolean()).isFalse();
      assertThat(body.has("message")).isTrue();
    }
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void aBodyOverTheLimitIs413AndNothingIsSent() throws Exception {
    String huge = "{\"query\":\"" + "x".repeat(70 * 1024) + "\"}";
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat", huge).build()).execute()) {
      assertThat(response.code()).isEqualTo(413);
      assertThat(envelope(response).get("success").asBoolean()).isFalse();
    }
    assertThat(service.getRequestCount()).isZero();
    assertThat(ledger.balance("123")).isEqualTo(100);
  }

  @Test
  void chatAnswersInTheEnvelopeAndCommitsCredits() throws Exception {
    service.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").body(CHAT_JSON).build());
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat", "{\"query\":\"Find engineers\"}").build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
      JsonNode body = envelope(response);
      assertThat(body.get("success").asBoolean()).isTrue();
      assertThat(body.get("data").get("answer").asText()).isEqualTo("Three candidates");
      assertThat(body.get("meta").get("request_id").asText()).isNotBlank();
    }
    assertThat(service.takeRequest().getHeaders().get("X-User-Id")).isEqualTo("123");
    assertThat(ledger.balance("123")).isEqualTo(97); // 1 credit per 1k prompt + 2 per 1k completion tokens
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void invalidInputIs422WithTheFieldsAndNothingIsSent() throws Exception {
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat", "{\"query\":\"  \",\"profile_id\":\"x\"}").build()).execute()) {
      assertThat(response.code()).isEqualTo(422);
      assertThat(envelope(response).toString()).contains("query").contains("profile_id");
    }
    assertThat(service.getRequestCount()).isZero();
    assertThat(ledger.balance("123")).isEqualTo(100);
  }

  @Test
  void aUserWithoutCreditsGets402AndNothingIsSent() throws Exception {
    ledger.reserve(GatewayExample.DEMO_USER, dev.llmgateway.Operation.CHAT, 100); // everything is held elsewhere
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat", "{\"query\":\"hi\"}").build()).execute()) {
      assertThat(response.code()).isEqualTo(402);
      assertThat(envelope(response).get("success").asBoolean()).isFalse();
    }
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void theEleventhStreamStartInAMinuteIs429WithRetryAfter() throws Exception {
    for (int i = 0; i < 10; i++) {
      try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat/init", "{\"query\":\"hi\"}").build()).execute()) {
        assertThat(response.code()).isEqualTo(200);
      }
    }
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat/init", "{\"query\":\"hi\"}").build()).execute()) {
      assertThat(response.code()).isEqualTo(429);
      assertThat(response.header("Retry-After")).matches("[1-9][0-9]*");
    }
  }

  @Test
  void upstreamFailureIsMappedWithoutInternals() throws Exception {
    service.enqueue(new MockResponse.Builder().code(503).body("<html>upstream at 10.1.2.3 is down</html>").build());
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat", "{\"query\":\"hi\"}").build()).execute()) {
      assertThat(response.code()).isEqualTo(503);
      String body = response.body().string();
      assertThat(body).doesNotContain("10.1.2.3").doesNotContain(service.url("/").toString()).doesNotContain("Exception");
    }
    assertThat(ledger.balance("123")).isEqualTo(100);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void streamRelaysServerSentEventsAndSettlesOnce() throws Exception {
    service.enqueue(SseResponses.sse(STREAM));
    List<String> types = new ArrayList<>();
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat/stream", "{\"query\":\"hi\"}").build()).execute()) {
      assertThat(response.header("Content-Type")).startsWith("text/event-stream");
      SseReader reader = SseReader.create(response.body().source());
      for (ServerSentEvent e = reader.next(); e != null; e = reader.next()) {
        types.add(e.type());
      }
    }
    assertThat(types).containsExactly("chunk", "chunk", "chunk", "complete");
    assertThat(ledger.balance("123")).isEqualTo(97);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void browserDisconnectCancelsUpstreamAndSettlesCreditsOnce() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch upstreamClosed = new CountDownLatch(1);
    String token = "data: {\"type\":\"token\",\"content\":\"" + "word ".repeat(200) + "\"}\n\n: " + "x".repeat(8192) + "\n\n";
    service.enqueue(SseResponses.paused("data: {\"type\":\"session\",\"session_id\":\"s\",\"message_id\":\"m\"}\n\n",
        release, token, 1000, upstreamClosed));
    Call call = browser.newCall(post(GatewayRoutes.API + "/chat/stream", "{\"query\":\"hi\"}").build());
    try (Response response = call.execute()) {
      assertThat(SseReader.create(response.body().source()).next()).isNotNull();
      call.cancel(); // the tab closes
    }
    release.countDown();

    assertThat(upstreamClosed.await(20, TimeUnit.SECONDS)).isTrue();
    // The relay settles right after cancelling upstream: exactly one settlement that took effect.
    dev.llmgateway.host.Settlement settlement = settlements.poll(20, TimeUnit.SECONDS);
    assertThat(settlement).isNotNull();
    assertThat(settlement.applied()).isTrue();
    assertThat(settlements).isEmpty();
    assertThat(ledger.pendingCount()).isZero();
    assertThat(ledger.balance("123")).isBetween(0L, 100L);
  }

  @Test
  void directStreamInitReservesAndTheWebhookCommitsOnceEvenWhenRedelivered() throws Exception {
    JsonNode init;
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat/init", "{\"query\":\"hi\"}").build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
      init = envelope(response).get("data");
    }
    assertThat(init.get("url").asText()).startsWith(service.url("/").toString()).contains("token=");
    assertThat(ledger.pendingCount()).isEqualTo(1);

    String body = "{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"" + init.get("request_id").asText()
        + "\",\"session_id\":\"s\",\"message_id\":\"m\",\"user_id\":\"123\",\"company_id\":\"456\",\"status\":\"completed\","
        + "\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000},"
        + "\"completed_at\":\"2026-11-28T12:00:00Z\"}}";
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    Request.Builder webhook = new Request.Builder().url(url("/webhooks/llm-chat/completion"))
        .post(RequestBody.create(bytes, APPLICATION_JSON));
    WebhookSigner.of(webhookSecret).headers("msg_1", Instant.now(), bytes).forEach(webhook::header);
    for (int delivery = 0; delivery < 2; delivery++) {
      try (Response response = browser.newCall(webhook.build()).execute()) {
        assertThat(response.code()).isEqualTo(200);
      }
    }
    assertThat(ledger.pendingCount()).isZero();
    assertThat(ledger.balance("123")).isEqualTo(97);

    Request forged = webhook.header("webhook-signature", "v1,AAAA").build();
    try (Response response = browser.newCall(forged).execute()) {
      assertThat(response.code()).isEqualTo(400);
    }
  }

  @Test
  void aWebhookWithARepeatedIdIsRefusedEvenWhenItsFirstValueIsTheSignedOne() throws Exception {
    byte[] bytes = "{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"req-x\",\"status\":\"completed\"}}"
        .getBytes(StandardCharsets.UTF_8);
    Request.Builder webhook = new Request.Builder().url(url("/webhooks/llm-chat/completion"))
        .post(RequestBody.create(bytes, APPLICATION_JSON));
    WebhookSigner.of(webhookSecret).headers("msg_1", Instant.now(), bytes).forEach(webhook::header);
    webhook.addHeader("webhook-id", "msg_2");

    try (Response response = browser.newCall(webhook.build()).execute()) {
      assertThat(response.code()).isEqualTo(400);
    }
  }

  @Test
  void sessionsAreListedReadAndDeletedForTheSignedInUser() throws Exception {
    String summary = "\"session_id\":\"sess_1\",\"title\":\"Rails engineers\",\"created_at\":\"2026-11-20T10:00:00Z\","
        + "\"last_activity_at\":\"2026-11-20T10:05:00Z\",\"message_count\":1";
    service.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
        .body("{\"sessions\":[{" + summary + "}],\"next_cursor\":null}").build());
    service.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
        .body("{" + summary + ",\"messages\":[{\"message_id\":\"msg_1\",\"role\":\"user\",\"content\":\"hi\","
            + "\"created_at\":\"2026-11-20T10:00:00Z\"}]}").build());
    service.enqueue(new MockResponse.Builder().code(204).build());
    Request.Builder signedIn = new Request.Builder().header("Authorization", "Bearer " + userToken);

    try (Response response = browser.newCall(signedIn.url(url(GatewayRoutes.API + "/sessions?limit=5")).get().build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
      assertThat(envelope(response).get("data").get("sessions").get(0).get("session_id").asText()).isEqualTo("sess_1");
    }
    try (Response response = browser.newCall(signedIn.url(url(GatewayRoutes.API + "/sessions/sess_1")).get().build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
      assertThat(envelope(response).get("data").get("messages").get(0).get("content").asText()).isEqualTo("hi");
    }
    try (Response response = browser.newCall(signedIn.url(url(GatewayRoutes.API + "/sessions/sess_1")).delete().build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
      assertThat(envelope(response).get("success").asBoolean()).isTrue();
    }
    assertThat(service.takeRequest().getUrl().queryParameter("limit")).isEqualTo("5");
    assertThat(service.takeRequest().getUrl().encodedPath()).endsWith("/sessions/sess_1");
    assertThat(service.takeRequest().getMethod()).isEqualTo("DELETE");
  }

  @Test
  void unknownRoutesAndMethodsAnswerInTheEnvelope() throws Exception {
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/nothing", "{}").build()).execute()) {
      assertThat(response.code()).isEqualTo(404);
      assertThat(envelope(response).get("success").asBoolean()).isFalse();
    }
    try (Response response = browser.newCall(new Request.Builder().url(url(GatewayRoutes.API + "/sessions/sess_1"))
        .put(RequestBody.create("{}", APPLICATION_JSON)).header("Authorization", "Bearer " + userToken).build()).execute()) {
      assertThat(response.code()).isEqualTo(405);
      assertThat(envelope(response).get("success").asBoolean()).isFalse();
    }
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void theChatPageIsServed() throws Exception {
    try (Response response = browser.newCall(new Request.Builder().url(url("/")).build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
      assertThat(response.header("Content-Type")).startsWith("text/html");
      assertThat(response.body().string()).contains("chat.js");
    }
    try (Response response = browser.newCall(new Request.Builder().url(url("/chat.js")).build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
      assertThat(response.header("Content-Type")).startsWith("text/javascript");
    }
  }
}
