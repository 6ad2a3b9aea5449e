package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.AuditSink;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.UserContext;
import dev.llmgateway.Operation;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.ErrorMapper;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimitKeys;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.host.StateStoreException;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import dev.llmgateway.testkit.LogCapture;
import dev.llmgateway.testkit.SseResponses;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
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
import org.jspecify.annotations.Nullable;
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
  /** The webhook secret, {@code whsec_<base64>}, as a host's configuration takes it. */
  private static final String WHSEC = "whsec_" + java.util.Base64.getEncoder()
      .encodeToString("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8));
  private final WebhookSecret webhookSecret = WebhookSecret.parse(WHSEC);
  private LlmGatewayClient client;

  /** @return the client of the test's service */
  protected LlmGatewayClient client() {
    return client;
  }

  /** @return the test's ledger (user 123 holds 100 credits) */
  protected InMemoryCreditLedger ledger() {
    return ledger;
  }
  private GatewayHost gateway;
  private String userToken;
  private final java.util.concurrent.BlockingQueue<dev.llmgateway.host.Settlement> settlements =
      new java.util.concurrent.LinkedBlockingQueue<>();
  /** The thread of each settlement, in order. */
  protected final java.util.concurrent.BlockingQueue<String> settlingThreads = new java.util.concurrent.LinkedBlockingQueue<>();

  @BeforeEach
  void setUp() throws IOException {
    service.start();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("svc-token")
        .environment(name -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
    ledger.deposit("123", 100);
    gateway = start(HostSettings.builder().client(client).ledger(ledger).webhookSecret(WHSEC)
        .settlementListener(e -> {
          settlingThreads.add(Thread.currentThread().getName());
          settlements.add(e.settlement());
        }));
    userToken = gateway.users().issue("123");
  }

  /**
   * Starts the gateway in front of a real service (the settings' client) on this test's host.
   *
   * @param settings what the test varies (the host listens on a free port)
   * @return the started gateway
   * @throws IOException if it cannot start
   */
  protected abstract GatewayHost start(HostSettings settings) throws IOException;

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

  private Request events(String bearerToken) {
    return new Request.Builder().url(url(GatewayRoutes.API + "/events")).get()
        .header("Authorization", "Bearer " + bearerToken).build();
  }

  /** Starts a background chat on {@code host} for a user: 202, its chat id also the request id. */
  private String chatInBackground(GatewayHost host, String bearerToken) throws IOException {
    Request start = new Request.Builder().url("http://127.0.0.1:" + host.port() + GatewayRoutes.API + "/chat/background")
        .post(RequestBody.create("{\"query\":\"hi\"}", APPLICATION_JSON)).header("Authorization", "Bearer " + bearerToken).build();
    try (Response response = browser.newCall(start).execute()) {
      assertThat(response.code()).isEqualTo(202);
      JsonNode body = envelope(response);
      String chatId = body.get("data").get("chat_id").asText();
      assertThat(chatId).isNotBlank();
      assertThat(body.get("meta").get("request_id").asText()).isEqualTo(chatId);
      return chatId;
    }
  }

  /**
   * Reads a subscription's events up to and including the first {@code completed} or {@code
   * failed}: each as its name and its data's JSON, whose {@code type} is the name.
   */
  private static List<Map.Entry<String, JsonNode>> untilAnswered(SseReader subscription) throws IOException {
    List<Map.Entry<String, JsonNode>> events = new ArrayList<>();
    for (ServerSentEvent e = subscription.next(); e != null; e = subscription.next()) {
      JsonNode data = JSON.readTree(e.data());
      assertThat(data.get("type").asText()).as("the type of " + e.data()).isEqualTo(e.type());
      events.add(Map.entry(e.type(), data));
      if (e.type().equals("completed") || e.type().equals("failed")) {
        return events;
      }
    }
    throw new AssertionError("the subscription ended before the answer: " + events);
  }

  @Test
  void aBackgroundAnswerReachesTheUsersSubscriptionInOrderAndIsChargedOnce() throws Exception {
    service.enqueue(SseResponses.sse(STREAM));
    try (Response subscription = browser.newCall(events(userToken)).execute()) {
      assertThat(subscription.code()).isEqualTo(200);
      assertThat(subscription.header("Content-Type")).startsWith("text/event-stream");
      try (Response refused = browser.newCall(post(GatewayRoutes.API + "/chat/background", "{\"query\":\" \"}").build()).execute()) {
        assertThat(refused.code()).as("a refused chat publishes nothing").isEqualTo(422);
      }

      String chatId = chatInBackground(gateway, userToken);

      List<Map.Entry<String, JsonNode>> events = untilAnswered(SseReader.create(subscription.body().source()));
      assertThat(events).extracting(Map.Entry::getKey).containsExactly("started", "token", "completed");
      assertThat(events).allSatisfy(e -> assertThat(e.getValue().get("chat_id").asText()).isEqualTo(chatId));
      assertThat(events.get(1).getValue().get("text").asText()).isEqualTo("Hello");
      JsonNode completed = events.get(2).getValue();
      assertThat(completed.get("answer").asText()).isEqualTo("Hello");
      assertThat(completed.get("session_id").asText()).isEqualTo("sess_1");
      assertThat(completed.get("credits").asLong()).isEqualTo(3);
      assertThat(completed.has("user_id")).as("no user id in the JSON").isFalse();
    }
    assertThat(service.takeRequest().getHeaders().get("X-User-Id")).isEqualTo("123");
    assertThat(settlements.poll(20, TimeUnit.SECONDS)).isEqualTo(dev.llmgateway.host.Settlement.COMMITTED);
    assertThat(settlements).isEmpty();
    assertThat(ledger.balance("123")).isEqualTo(97);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void backgroundAnswersReachOnlyTheirOwnUsersSubscriptions() throws Exception {
    UserContext ann = GatewayExample.DEMO_USER;
    UserContext bob = ann.toBuilder().userId("124").build();
    ledger.deposit("124", 100);
    try (GatewayHost host = start(HostSettings.builder().client(client).ledger(ledger).users(List.of(ann, bob)))) {
      String annToken = host.users().issue(ann.userId());
      String bobToken = host.users().issue(bob.userId());
      Request.Builder subscribe = new Request.Builder().url("http://127.0.0.1:" + host.port() + GatewayRoutes.API + "/events");
      try (Response annEvents = browser.newCall(subscribe.header("Authorization", "Bearer " + annToken).build()).execute();
          Response bobEvents = browser.newCall(subscribe.header("Authorization", "Bearer " + bobToken).build()).execute()) {
        assertThat(annEvents.code()).isEqualTo(200);
        assertThat(bobEvents.code()).isEqualTo(200);
        SseReader annReader = SseReader.create(annEvents.body().source());
        SseReader bobReader = SseReader.create(bobEvents.body().source());

        service.enqueue(SseResponses.sse(STREAM));
        String bobsChat = chatInBackground(host, bobToken);
        assertThat(untilAnswered(bobReader)).allSatisfy(e -> assertThat(e.getValue().get("chat_id").asText()).isEqualTo(bobsChat));
        // Bob's events were queued for every subscription they reach before his subscription read
        // them: had they reached Ann's, they would come before the events of her own chat.
        service.enqueue(SseResponses.sse(STREAM));
        String annsChat = chatInBackground(host, annToken);
        List<Map.Entry<String, JsonNode>> annSaw = untilAnswered(annReader);
        assertThat(annSaw).extracting(Map.Entry::getKey).containsExactly("started", "token", "completed");
        assertThat(annSaw).allSatisfy(e -> assertThat(e.getValue().get("chat_id").asText()).isEqualTo(annsChat));
      }
    }
    assertThat(ledger.balance("123")).isEqualTo(97);
    assertThat(ledger.balance("124")).isEqualTo(97);
  }

  @Test
  void aBackgroundChatTheServiceRefusesEndsInAFailedEventWithoutInternalsAndIsReleased() throws Exception {
    service.enqueue(new MockResponse.Builder().code(503).body("<html>upstream at 10.1.2.3 is down</html>").build());
    try (Response subscription = browser.newCall(events(userToken)).execute()) {
      String chatId = chatInBackground(gateway, userToken);

      List<Map.Entry<String, JsonNode>> events = untilAnswered(SseReader.create(subscription.body().source()));
      assertThat(events.get(events.size() - 1).getKey()).isEqualTo("failed");
      JsonNode failed = events.get(events.size() - 1).getValue();
      assertThat(failed.get("chat_id").asText()).isEqualTo(chatId);
      assertThat(failed.get("code").asText()).isNotBlank();
      assertThat(failed.get("message").asText()).isNotBlank().doesNotContain("10.1.2.3");
      assertThat(failed.toString()).doesNotContain("10.1.2.3").doesNotContain(service.url("/").toString());
    }
    assertThat(settlements.poll(20, TimeUnit.SECONDS)).isEqualTo(dev.llmgateway.host.Settlement.RELEASED);
    assertThat(ledger.balance("123")).isEqualTo(100);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void theEventsSubscriptionNeedsAUserToken() throws Exception {
    try (Response response = browser.newCall(new Request.Builder().url(url(GatewayRoutes.API + "/events")).get().build()).execute()) {
      assertThat(response.code()).isEqualTo(401);
      assertThat(response.header("WWW-Authenticate")).isEqualTo("Bearer");
      assertThat(envelope(response).get("success").asBoolean()).isFalse();
    }
    try (Response response = browser.newCall(events("not-a-token")).execute()) {
      assertThat(response.code()).isEqualTo(401);
    }
    assertThat(gateway.events().subscriptions(GatewayExample.DEMO_USER)).isEmpty();
  }

  @Test
  void theEventsSubscriptionSendsHeartbeatsAndClosesWhenTheBrowserLeaves() throws Exception {
    try (GatewayHost quick = start(HostSettings.builder().client(client).ledger(ledger).webhookSecret(WHSEC)
        .relayHeartbeat(Duration.ofMillis(50)))) {
      Request subscribe = new Request.Builder().url("http://127.0.0.1:" + quick.port() + GatewayRoutes.API + "/events")
          .header("Authorization", "Bearer " + quick.users().issue("123")).build();
      Call call = browser.newCall(subscribe);
      try (Response response = call.execute()) {
        List<ChatEventHub.Subscription> open = quick.events().subscriptions(GatewayExample.DEMO_USER);
        assertThat(open).hasSize(1);
        okio.BufferedSource body = response.body().source();
        String line = body.readUtf8Line();
        while (line != null && !line.equals(": ping")) {
          line = body.readUtf8Line();
        }
        assertThat(line).as("a heartbeat").isEqualTo(": ping");

        call.cancel(); // the tab closes

        assertThat(open.get(0).closed().get(20, TimeUnit.SECONDS)).isEqualTo(ChatEventHub.Subscription.Reason.CLOSED);
        assertThat(quick.events().subscriptions(GatewayExample.DEMO_USER)).isEmpty();
      }
    }
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
  void stoppingTheHostClosesItsGatewayGivingUpTheSettlementsWaitingForARetry() throws Exception {
    CreditLedger failingCommits = new CreditLedger() {
      @Override
      public Reservation reserve(UserContext user, Operation operation, long credits, @Nullable String requestId) {
        return ledger.reserve(user, operation, credits, requestId);
      }

      @Override
      public Settlement commit(Reservation reservation, long credits) {
        throw new StateStoreException("the ledger's database is down", reservation.requestId(), null);
      }

      @Override
      public Settlement release(Reservation reservation, String reason) {
        return ledger.release(reservation, reason);
      }

      @Override
      public Optional<Reservation> findByRequestId(String requestId) {
        return ledger.findByRequestId(requestId);
      }
    };
    GatewayHost host = start(HostSettings.builder().client(client).ledger(failingCommits)
        .gateway(settings -> settings.settlementRetry(3, Duration.ofMinutes(1))));
    try (LogCapture logs = new LogCapture()) {
      service.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").body(CHAT_JSON).build());
      Request chat = new Request.Builder().url("http://127.0.0.1:" + host.port() + GatewayRoutes.API + "/chat")
          .header("Authorization", "Bearer " + host.users().issue("123"))
          .post(RequestBody.create("{\"query\":\"Find engineers\"}", APPLICATION_JSON)).build();
      try (Response response = browser.newCall(chat).execute()) {
        assertThat(response.code()).isEqualTo(200); // its commit failed and waits a minute for a retry
      }

      host.close();

      // SettlementListener.onSettlementAbandoned is not told of these (ChatGateway.close only logs and counts them).
      assertThat(logs.events("dev.llmgateway.host.SettlementRetries")).as("the closed gateway gave the retry up")
          .anySatisfy(event -> assertThat(event.getFormattedMessage()).contains("abandoned at close"));
    } finally {
      host.close();
    }
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
  void aStreamWhoseFirstEventIsAnErrorIsA502EnvelopeNotAnEventStream() throws Exception {
    service.enqueue(SseResponses.sse("data: {\"type\":\"error\",\"code\":\"model_overloaded\","
        + "\"message\":\"worker 10.1.2.3 overloaded\",\"retryable\":true}\n\n"));
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat/stream", "{\"query\":\"hi\"}").build()).execute()) {
      assertThat(response.code()).isEqualTo(502);
      assertThat(response.header("Content-Type")).startsWith("application/json");
      String body = response.body().string();
      JsonNode envelope = JSON.readTree(body);
      assertThat(envelope.get("success").asBoolean()).isFalse();
      assertThat(envelope.get("meta").get("error_code").asText()).isEqualTo("stream_failed");
      assertThat(envelope.get("data").get("code").asText()).isEqualTo("model_overloaded");
      assertThat(body).doesNotContain("10.1.2.3").doesNotContain("event:");
    }
    assertThat(settlements.poll(20, TimeUnit.SECONDS)).isEqualTo(dev.llmgateway.host.Settlement.RELEASED);
    assertThat(ledger.balance("123")).isEqualTo(100);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void aStreamThatFailsBeforeItsFirstEventAfterTheRetriesIs503WithRetryAfter() throws Exception {
    // The first attempt ends before its first event, the retry is refused with a wait: as for a sync chat.
    service.enqueue(SseResponses.sse(""));
    service.enqueue(new MockResponse.Builder().code(503).setHeader("Retry-After", "7").build());
    BlockingQueue<dev.llmgateway.host.Settlement> settled = new LinkedBlockingQueue<>();
    try (LlmGatewayClient retrying = LlmGatewayClient.builder().baseUrl(service.url("/").toString())
            .serviceToken("svc-token").environment(name -> null).auditSink(AuditSink.none())
            .retryPolicy(RetryPolicy.builder().maxRetries(1).initialBackoff(Duration.ZERO).build()).build();
        GatewayHost host = start(HostSettings.builder().client(retrying).ledger(ledger).webhookSecret(WHSEC)
            .settlementListener(e -> settled.add(e.settlement())))) {
      Request ask = new Request.Builder().url("http://127.0.0.1:" + host.port() + GatewayRoutes.API + "/chat/stream")
          .header("Authorization", "Bearer " + host.users().issue("123"))
          .post(RequestBody.create("{\"query\":\"hi\"}", APPLICATION_JSON)).build();
      try (Response response = browser.newCall(ask).execute()) {
        assertThat(response.code()).isEqualTo(503);
        assertThat(response.header("Retry-After")).isEqualTo("7");
        assertThat(response.header("Content-Type")).startsWith("application/json");
        JsonNode envelope = envelope(response);
        assertThat(envelope.get("success").asBoolean()).isFalse();
        assertThat(envelope.get("data").get(ErrorMapper.RETRY_AFTER_SECONDS).asInt()).isEqualTo(7);
      }
      assertThat(service.getRequestCount()).isEqualTo(2);
      assertThat(settled.poll(20, TimeUnit.SECONDS)).isEqualTo(dev.llmgateway.host.Settlement.RELEASED);
      assertThat(ledger.balance("123")).isEqualTo(100);
      assertThat(ledger.pendingCount()).isZero();
    }
  }

  @Test
  void theRelayHeartbeatIsASettingOfTheExample() throws Exception {
    try (GatewayHost quick = start(HostSettings.builder().client(client).ledger(ledger).webhookSecret(WHSEC)
        .relayHeartbeat(Duration.ofMillis(50)))) {
      assertThat(heartbeatArrives(quick)).isTrue();
    }
  }

  /**
   * Streams through {@code host} from a service that sends one event and then stays quiet, and
   * reads the raw response until a {@code : ping} comment (true) or its end (false).
   */
  protected boolean heartbeatArrives(GatewayHost host) throws IOException {
    CountDownLatch release = new CountDownLatch(1);
    service.enqueue(SseResponses.paused("data: {\"type\":\"session\",\"session_id\":\"s\",\"message_id\":\"m\"}\n\n",
        release, STREAM.substring(STREAM.indexOf("\n\n") + 2), 1, new CountDownLatch(1)));
    Request ask = new Request.Builder().url("http://127.0.0.1:" + host.port() + GatewayRoutes.API + "/chat/stream")
        .header("Authorization", "Bearer " + host.users().issue("123"))
        .post(RequestBody.create("{\"query\":\"hi\"}", APPLICATION_JSON)).build();
    try (Response response = browser.newCall(ask).execute()) {
      okio.BufferedSource body = response.body().source();
      for (String line = body.readUtf8Line(); line != null; line = body.readUtf8Line()) {
        if (line.equals(": ping")) {
          return true;
        }
      }
      return false;
    } finally {
      release.countDown();
    }
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
  void junkQueryParametersAre422NamingTheParameterAndNothingIsSent() throws Exception {
    Map<String, String> junk = new LinkedHashMap<>();
    junk.put("limit=abc", "limit");
    junk.put("limit=", "limit");
    junk.put("limit=-1", "limit");
    junk.put("limit=0", "limit");
    junk.put("limit=101", "limit");
    junk.put("limit=1.5", "limit");
    junk.put("limit=99999999999999999999", "limit");
    junk.put("limit=%EF%BC%95", "limit"); // a full-width digit
    junk.put("limit=5&limit=6", "limit");
    junk.put("cursor=" + "c".repeat(GatewayRoutes.MAX_CURSOR_LENGTH + 1), "cursor");
    junk.put("cursor=a%20b", "cursor");
    junk.put("cursor=%E2%82%AC", "cursor");
    junk.put("cursor=a&cursor=b", "cursor");
    for (Map.Entry<String, String> query : junk.entrySet()) {
      Request request = new Request.Builder().url(url(GatewayRoutes.API + "/sessions?" + query.getKey()))
          .header("Authorization", "Bearer " + userToken).build();
      try (Response response = browser.newCall(request).execute()) {
        assertThat(response.code()).as(query.getKey()).isEqualTo(422);
        assertThat(fields(envelope(response))).as(query.getKey()).containsExactly(query.getValue());
      }
    }
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void junkChatBodiesAre422NamingTheFieldAndNothingIsSentOrReserved() throws Exception {
    Map<String, String> junk = new LinkedHashMap<>();
    junk.put("not json", "body");
    junk.put("", "body");
    junk.put("[\"hi\"]", "body");
    junk.put("\"hi\"", "body");
    junk.put("{\"query\":\"hi\"", "body");
    junk.put("[".repeat(5000), "body");
    junk.put("{\"query\":5}", "query");
    junk.put("{\"query\":1e999999}", "query");
    junk.put("{\"query\":[\"hi\"]}", "query");
    junk.put("{\"query\":\"\\ud800 lone\"}", "query");
    junk.put("{\"query\":\"hi\",\"session_id\":{}}", "session_id");
    junk.put("{\"query\":\"hi\",\"session_id\":\"a/b\"}", "session_id");
    junk.put("{\"query\":\"hi\",\"user_intent\":true}", "user_intent");
    junk.put("{\"query\":\"hi\",\"profile_id\":12345678}", "profile_id");
    junk.put("{\"query\":\"hi\",\"profile_id\":\"\\udc00\"}", "profile_id");
    for (String route : List.of("/chat", "/chat/stream", "/chat/init", "/chat/background")) {
      for (Map.Entry<String, String> body : junk.entrySet()) {
        String what = route + " " + body.getKey().substring(0, Math.min(40, body.getKey().length()));
        try (Response response = browser.newCall(post(GatewayRoutes.API + route, body.getKey()).build()).execute()) {
          assertThat(response.code()).as(what).isEqualTo(422);
          assertThat(fields(envelope(response))).as(what).containsExactly(body.getValue());
        }
      }
      byte[] notUtf8 = {'{', '"', 'q', 'u', 'e', 'r', 'y', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
      try (Response response = browser.newCall(new Request.Builder().url(url(GatewayRoutes.API + route))
          .header("Authorization", "Bearer " + userToken).post(RequestBody.create(notUtf8, APPLICATION_JSON)).build())
          .execute()) {
        assertThat(response.code()).as(route + " invalid UTF-8").isEqualTo(422);
        assertThat(fields(envelope(response))).containsExactly("body");
      }
    }
    assertThat(service.getRequestCount()).isZero();
    assertThat(ledger.balance("123")).isEqualTo(100);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void anUnverifiableWebhookIs400NamingWhatFailed() throws Exception {
    byte[] body = "{\"type\":\"chat.completed\",\"data\":{}}".getBytes(StandardCharsets.UTF_8);
    Request.Builder unsigned = new Request.Builder().url(url(GatewayRoutes.WEBHOOK)).post(RequestBody.create(body, APPLICATION_JSON));
    try (Response response = browser.newCall(unsigned.build()).execute()) {
      assertThat(response.code()).isEqualTo(400);
      assertThat(fields(envelope(response))).containsExactly("headers");
    }
    Request.Builder forged = unsigned.header("webhook-id", "msg_1")
        .header("webhook-timestamp", Long.toString(Instant.now().getEpochSecond())).header("webhook-signature", "v1,AAAA");
    try (Response response = browser.newCall(forged.build()).execute()) {
      assertThat(response.code()).isEqualTo(400);
      assertThat(fields(envelope(response))).containsExactly("webhook-signature");
    }
  }

  private static List<String> fields(JsonNode envelope) {
    assertThat(envelope.get("success").asBoolean()).isFalse();
    List<String> fields = new ArrayList<>();
    envelope.get("data").forEach(violation -> fields.add(violation.get("field").asText()));
    return fields;
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

  @Test
  void theExamplePolicyRefusesOtherRolesAndDisabledCompaniesWith403BeforeAnythingIsSpent() throws Exception {
    UserContext recruiter = GatewayExample.DEMO_USER;
    UserContext candidate = recruiter.toBuilder().userId("124").role("client").build();
    UserContext adminOfDisabled = recruiter.toBuilder().userId("125").companyId("789").role("admin").build();
    ledger.deposit("124", 100);
    ledger.deposit("125", 100);
    try (GatewayHost host = start(HostSettings.builder().client(client).ledger(ledger).webhookSecret(WHSEC)
        .users(List.of(recruiter, candidate, adminOfDisabled)).disabledCompanies(" 789, 999 ,"))) {
      String api = "http://127.0.0.1:" + host.port() + GatewayRoutes.API;
      RequestBody hi = RequestBody.create("{\"query\":\"hi\"}", APPLICATION_JSON);
      for (UserContext refused : List.of(candidate, adminOfDisabled)) {
        String bearer = "Bearer " + host.users().issue(refused.userId());
        List<Request> requests = List.of(
            new Request.Builder().url(api + "/chat").post(hi).header("Authorization", bearer).build(),
            new Request.Builder().url(api + "/chat/stream").post(hi).header("Authorization", bearer).build(),
            new Request.Builder().url(api + "/chat/init").post(hi).header("Authorization", bearer).build(),
            new Request.Builder().url(api + "/chat/background").post(hi).header("Authorization", bearer).build(),
            new Request.Builder().url(api + "/sessions").get().header("Authorization", bearer).build(),
            new Request.Builder().url(api + "/sessions/sess_1").get().header("Authorization", bearer).build(),
            new Request.Builder().url(api + "/sessions/sess_1").delete().header("Authorization", bearer).build());
        for (Request request : requests) {
          try (Response response = browser.newCall(request).execute()) {
            String what = refused.role() + "@" + refused.companyId() + " " + request.method() + " " + request.url();
            assertThat(response.code()).as(what).isEqualTo(403);
            JsonNode body = envelope(response);
            assertThat(body.get("success").asBoolean()).as(what).isFalse();
            assertThat(body.get("meta").get("error_code").asText()).as(what).isEqualTo("forbidden");
          }
        }
      }
      assertThat(service.getRequestCount()).isZero();
      assertThat(ledger.balance("124")).isEqualTo(100);
      assertThat(ledger.balance("125")).isEqualTo(100);
      assertThat(ledger.pendingCount()).isZero();

      service.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").body(CHAT_JSON).build());
      try (Response response = browser.newCall(new Request.Builder().url(api + "/chat").post(hi)
          .header("Authorization", "Bearer " + host.users().issue(recruiter.userId())).build()).execute()) {
        assertThat(response.code()).as("a recruiter of a company that is not disabled").isEqualTo(200);
      }
    }
  }

  @Test
  void theHostCountsCallsAgainstTheConnectionsAddress() throws Exception {
    List<String> keys = new java.util.concurrent.CopyOnWriteArrayList<>();
    InMemoryRateLimiter limits = InMemoryRateLimiter.builder()
        .limits(RateLimits.builder().calls(null).streamStarts(null).build())
        .limits(RateLimitKeys.CLIENT_ADDRESS, RateLimits.builder().calls(null).streamStarts(RateLimit.perMinute(1)).build())
        .build();
    RateLimiter recording = new RateLimiter() {
      @Override
      public Decision tryAcquire(String key, dev.llmgateway.Operation operation) {
        keys.add(key);
        return limits.tryAcquire(key, operation);
      }

      @Override
      public Decision tryAcquireAll(List<String> all, dev.llmgateway.Operation operation) {
        keys.addAll(all);
        return limits.tryAcquireAll(all, operation);
      }
    };
    UserContext ann = GatewayExample.DEMO_USER;
    UserContext bob = ann.toBuilder().userId("124").build();
    ledger.deposit("124", 100);
    try (GatewayHost host = start(HostSettings.builder().client(client).ledger(ledger).users(List.of(ann, bob))
        .gateway(settings -> settings.rateLimiter(recording)
            .rateLimitKeys(RateLimitKeys.perUser().and(RateLimitKeys.perClientAddress())))
        )) {
      String url = "http://127.0.0.1:" + host.port() + GatewayRoutes.API + "/chat/init";
      RequestBody hi = RequestBody.create("{\"query\":\"hi\"}", APPLICATION_JSON);
      try (Response first = browser.newCall(new Request.Builder().url(url).post(hi)
              .header("Authorization", "Bearer " + host.users().issue(ann.userId())).build()).execute();
          Response second = browser.newCall(new Request.Builder().url(url).post(hi)
              .header("Authorization", "Bearer " + host.users().issue(bob.userId()))
              .header("X-Forwarded-For", "203.0.113.9").build()).execute()) {
        assertThat(first.code()).isEqualTo(200);
        assertThat(second.code()).as("another user from the same address, whatever X-Forwarded-For says").isEqualTo(429);
        assertThat(second.header("Retry-After")).matches("[1-9][0-9]*");
      }
    }
    assertThat(keys).containsExactly("user:123", "ip:127.0.0.1", "user:124", "ip:127.0.0.1");
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void theOpenApiDocumentDescribesEveryRealAnswerAndEveryDocumentedStatusAndFieldOccurs() throws Exception {
    UserContext recruiter = GatewayExample.DEMO_USER; // 123, 100 credits
    UserContext candidate = recruiter.toBuilder().userId("124").role("client").build(); // 403
    UserContext limited = recruiter.toBuilder().userId("125").build(); // 429
    UserContext broke = recruiter.toBuilder().userId("126").build(); // 402
    ledger.deposit("125", 100);
    ledger.deposit("126", 1);
    ledger.reserve(broke, dev.llmgateway.Operation.CHAT, 1);
    RateLimiter refusing125 = new RateLimiter() {
      @Override
      public Decision tryAcquire(String key, dev.llmgateway.Operation operation) {
        return key.equals("user:125") ? Decision.deny("calls", Duration.ofSeconds(7)) : Decision.allow();
      }

      @Override
      public Decision tryAcquireAll(List<String> keys, dev.llmgateway.Operation operation) {
        return keys.contains("user:125") ? Decision.deny("calls", Duration.ofSeconds(7)) : Decision.allow();
      }
    };
    try (LlmGatewayClient noBreaker = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("svc-token")
            .environment(name -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none())
            .circuitBreaker(dev.llmgateway.CircuitBreaker.disabled()).build();
        GatewayHost host = start(HostSettings.builder().client(noBreaker).ledger(ledger).webhookSecret(WHSEC)
            .users(List.of(recruiter, candidate, limited, broke))
            .gateway(settings -> settings.rateLimiter(refusing125)))) {
      String base = "http://127.0.0.1:" + host.port();
      Map<String, String> bearer = new LinkedHashMap<>();
      for (UserContext user : List.of(recruiter, candidate, limited, broke)) {
        bearer.put(user.userId(), "Bearer " + host.users().issue(user.userId()));
      }
      OpenApiDocument doc;
      try (Response response = browser.newCall(new Request.Builder().url(base + GatewayRoutes.OPENAPI).build()).execute()) {
        assertThat(response.code()).isEqualTo(200);
        assertThat(response.header("Content-Type")).startsWith("application/json");
        String text = response.body().string();
        doc = OpenApiDocument.parse(text);
        doc.checkJson("GET", GatewayRoutes.OPENAPI, 200, text);
      }
      assertThat(doc.tree().get("openapi").asText()).isEqualTo("3.1.0");
      OpenApiCalls calls = new OpenApiCalls(browser, base, doc);
      String api = GatewayRoutes.API;
      String hi = "{\"query\":\"hi\"}";
      List<String> chats = List.of(api + "/chat", api + "/chat/stream", api + "/chat/init", api + "/chat/background");
      List<String[]> sessionCalls = List.of(new String[] {"GET", api + "/sessions"},
          new String[] {"GET", api + "/sessions/sess_1"}, new String[] {"DELETE", api + "/sessions/sess_1"});

      // Successes.
      service.enqueue(json(200, CHAT_JSON.replace("\"candidates\":[]",
          "\"candidates\":[{\"profile_id\":\"p1\",\"name\":\"Ann\",\"headline\":\"Rails\",\"score\":0.9}]")));
      calls.call("POST", api + "/chat", hi, bearer.get("123"));
      service.enqueue(SseResponses.sse("data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_1\"}\n\n"
          + "data: {\"type\":\"intent\",\"intent\":\"search\"}\n\n"
          + "data: {\"type\":\"token\",\"content\":\"Hello\"}\n\n"
          + "data: {\"type\":\"candidates\",\"candidates\":[{\"profile_id\":\"p1\"}]}\n\n"
          + "data: {\"type\":\"action\",\"action\":{\"kind\":\"open_profile\"}}\n\n"
          + "data: {\"type\":\"done\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\n"
          + "data: [DONE]\n\n"));
      calls.call("POST", api + "/chat/stream", hi, bearer.get("123"));
      service.enqueue(SseResponses.sse("data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_1\"}\n\n"
          + "data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"busy\",\"retryable\":true}\n\n"));
      calls.call("POST", api + "/chat/stream", hi, bearer.get("123")); // chunk, then an error event
      service.enqueue(json(200, CHAT_JSON.replaceFirst(",\"usage\":\\{[^}]*}", ""))); // no usage reported
      calls.call("POST", api + "/chat", hi, bearer.get("123"));
      service.enqueue(SseResponses.sse("data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_1\"}\n\n"
          + "data: {\"type\":\"done\",\"finish_reason\":\"stop\"}\n\n"
          + "data: [DONE]\n\n"));
      calls.call("POST", api + "/chat/stream", hi, bearer.get("123")); // no usage reported
      JsonNode init = calls.call("POST", api + "/chat/init", hi, bearer.get("123"));
      String summary = "\"session_id\":\"sess_1\",\"title\":\"Rails engineers\",\"created_at\":\"2026-11-20T10:00:00Z\","
          + "\"last_activity_at\":\"2026-11-20T10:05:00Z\",\"message_count\":1";
      service.enqueue(json(200, "{\"sessions\":[{" + summary + "}],\"next_cursor\":\"c2\"}"));
      calls.call("GET", api + "/sessions", null, bearer.get("123"));
      service.enqueue(json(200, "{" + summary + ",\"messages\":[{\"message_id\":\"msg_1\",\"role\":\"user\","
          + "\"content\":\"hi\",\"created_at\":\"2026-11-20T10:00:00Z\"}]}"));
      calls.call("GET", api + "/sessions/sess_1", null, bearer.get("123"));
      service.enqueue(new MockResponse.Builder().code(204).build());
      calls.call("DELETE", api + "/sessions/sess_1", null, bearer.get("123"));
      byte[] completed = ("{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"" + init.get("data").get("request_id").asText()
          + "\",\"session_id\":\"s\",\"message_id\":\"m\",\"user_id\":\"123\",\"company_id\":\"456\",\"status\":\"completed\","
          + "\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2},"
          + "\"completed_at\":\"2026-11-28T12:00:00Z\"}}").getBytes(StandardCharsets.UTF_8);
      calls.webhook(WebhookSigner.of(webhookSecret).headers("msg_1", Instant.now(), completed), completed);
      calls.webhook(Map.of(), completed); // unsigned: 400

      // Background answers: one answered, one the service refuses, on a subscription of the user's.
      try (Response subscription = browser.newCall(new Request.Builder().url(base + api + "/events")
          .header("Authorization", bearer.get("123")).build()).execute()) {
        SseReader reader = SseReader.create(subscription.body().source());
        List<Map.Entry<String, String>> events = new ArrayList<>();
        service.enqueue(SseResponses.sse(STREAM));
        calls.call("POST", api + "/chat/background", hi, bearer.get("123"));
        untilAnswered(reader).forEach(e -> events.add(Map.entry(e.getKey(), e.getValue().toString())));
        service.enqueue(json(503, "{}"));
        calls.call("POST", api + "/chat/background", hi, bearer.get("123"));
        untilAnswered(reader).forEach(e -> events.add(Map.entry(e.getKey(), e.getValue().toString())));
        assertThat(events).extracting(Map.Entry::getKey).contains("started", "token", "completed", "failed");
        doc.checkEvents("GET", api + "/events", subscription.code(), events);
      }
      calls.call("GET", api + "/events", null, null);

      // Refusals before anything is sent.
      for (String path : chats) {
        calls.call("POST", path, hi, null);
        calls.call("POST", path, hi, bearer.get("124"));
        calls.call("POST", path, hi, bearer.get("125"));
        calls.call("POST", path, hi, bearer.get("126"));
        calls.call("POST", path, "{\"query\":\"" + "x".repeat(70 * 1024) + "\"}", bearer.get("123"));
        calls.call("POST", path, "{\"query\":\" \"}", bearer.get("123"));
      }
      for (String[] call : sessionCalls) {
        calls.call(call[0], call[1], null, null);
        calls.call(call[0], call[1], null, bearer.get("124"));
        calls.call(call[0], call[1], null, bearer.get("125"));
      }
      calls.call("GET", api + "/sessions?limit=0", null, bearer.get("123"));
      calls.call("GET", api + "/sessions/" + "x".repeat(300), null, bearer.get("123"));
      calls.call("DELETE", api + "/sessions/" + "x".repeat(300), null, bearer.get("123"));
      assertThat(service.getRequestCount()).as("requests that reached the service").isEqualTo(10);

      // The service's failures, as each route maps them.
      Map<String, List<Integer>> upstream = new LinkedHashMap<>();
      upstream.put("POST " + api + "/chat", List.of(400, 404, 409, 500, 503, 504));
      upstream.put("POST " + api + "/chat/stream", List.of(400, 404, 409, 500, 503, 504));
      upstream.put("GET " + api + "/sessions", List.of(500, 503, 504));
      upstream.put("GET " + api + "/sessions/sess_1", List.of(404, 500, 503, 504));
      upstream.put("DELETE " + api + "/sessions/sess_1", List.of(404, 409, 500, 503, 504));
      upstream.forEach((route, statuses) -> {
        String[] methodAndPath = route.split(" ");
        for (int status : statuses) {
          service.enqueue(json(status, status == 404 || status == 409 ? "{\"detail\":\"no\"}" : "{}"));
          try {
            calls.call(methodAndPath[0], methodAndPath[1], methodAndPath[0].equals("POST") ? hi : null, bearer.get("123"));
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      });
      service.enqueue(SseResponses.sse("data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"busy\",\"retryable\":true}\n\n"));
      calls.call("POST", api + "/chat/stream", hi, bearer.get("123")); // an error event first: 502 with {code, retryable}

      assertThat(doc.problems()).as("real answers the document does not describe").isEmpty();
      assertThat(doc.unseenStatuses()).as("documented statuses no real answer had").isEmpty();
      assertThat(doc.unseenMembers()).as("documented fields no real answer had").isEmpty();
    }
  }

  private static MockResponse json(int status, String body) {
    return new MockResponse.Builder().code(status).setHeader("Content-Type", "application/json").body(body).build();
  }

  /** Sends requests to a host and checks each answer against the OpenAPI document. */
  private static final class OpenApiCalls {
    private final OkHttpClient browser;
    private final String base;
    private final OpenApiDocument doc;

    OpenApiCalls(OkHttpClient browser, String base, OpenApiDocument doc) {
      this.browser = browser;
      this.base = base;
      this.doc = doc;
    }

    /** @return the JSON answer, or null for an event stream */
    @Nullable JsonNode call(String method, String pathAndQuery, @Nullable String json, @Nullable String authorization)
        throws IOException {
      Request.Builder request = new Request.Builder().url(base + pathAndQuery)
          .method(method, json == null ? null : RequestBody.create(json, APPLICATION_JSON));
      if (authorization != null) {
        request.header("Authorization", authorization);
      }
      return check(request.build());
    }

    void webhook(Map<String, String> headers, byte[] body) throws IOException {
      Request.Builder request = new Request.Builder().url(base + GatewayRoutes.WEBHOOK).post(RequestBody.create(body, APPLICATION_JSON));
      headers.forEach(request::header);
      check(request.build());
    }

    private @Nullable JsonNode check(Request request) throws IOException {
      String path = request.url().encodedPath();
      try (Response response = browser.newCall(request).execute()) {
        String contentType = String.valueOf(response.header("Content-Type"));
        if (contentType.startsWith("text/event-stream")) {
          List<Map.Entry<String, String>> events = new ArrayList<>();
          SseReader reader = SseReader.create(response.body().source());
          for (ServerSentEvent e = reader.next(); e != null; e = reader.next()) {
            events.add(Map.entry(e.type(), e.data()));
          }
          doc.checkEvents(request.method(), path, response.code(), events);
          return null;
        }
        assertThat(contentType).as(request.method() + " " + path).startsWith("application/json");
        String body = response.body().string();
        doc.checkJson(request.method(), path, response.code(), body);
        return JSON.readTree(body);
      }
    }
  }
}
