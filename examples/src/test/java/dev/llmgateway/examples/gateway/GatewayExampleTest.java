package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import dev.llmgateway.AuditSink;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.StreamTokenVerifier;
import dev.llmgateway.auth.VerifiedStreamToken;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.redis.RedisRateLimiter;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.StandardSocketOptions;
import java.net.URLDecoder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The example started in-process with its configuration in code ({@link GatewayExample#builder()}). */
class GatewayExampleTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final UserContext ADA = UserContext.builder().userId("ada").companyId("c1").role("recruiter").build();
  private static final UserContext GRACE = UserContext.builder().userId("grace").companyId("c2").role("recruiter").build();
  private static final String STREAM_SECRET = "stream-token-secret-shared-with-the-service-0123";
  private static final WebhookSecret WEBHOOK_SECRET =
      WebhookSecret.ofBytes("webhook-secret-shared-with-the-service".getBytes(StandardCharsets.UTF_8));

  private final MockWebServer service = new MockWebServer();
  private final OkHttpClient browser = new OkHttpClient();
  private LlmGatewayClient client;

  @BeforeEach
  void setUp() throws IOException {
    service.start();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("svc-token")
        .environment(name -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
  }

  @AfterEach
  void tearDown() {
    client.close();
    service.close();
    browser.dispatcher().executorService().shutdown();
    browser.connectionPool().evictAll();
  }

  @Test
  void anEmbeddedGatewayRunsOnTheKeysUsersLedgerAndSettingsGivenInCode() throws Exception {
    InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
    ledger.deposit(ADA.userId(), 100);
    ledger.deposit(GRACE.userId(), 100);
    BlockingQueue<Settlement> settlements = new LinkedBlockingQueue<>();
    try (GatewayServer gateway = GatewayExample.builder()
        .client(client)
        .users(List.of(ADA, GRACE))
        .streamTokenKeys(JwtKeySet.of("2026-11", STREAM_SECRET))
        .webhookSecret(WEBHOOK_SECRET)
        .ledger(ledger)
        .settlementListener(e -> settlements.add(e.settlement()))
        .gateway(settings -> settings.estimate(request -> 7))
        .port(0)
        .start()) {
      JsonNode init = post(gateway, "/chat/init", gateway.users().issue(GRACE.userId()), "{\"query\":\"hi\"}");
      String token = URLDecoder.decode(init.get("url").asText().replaceFirst(".*[?&]token=", ""), StandardCharsets.UTF_8);
      VerifiedStreamToken verified =
          StreamTokenVerifier.builder().keys(JwtKeySet.of("2026-11", STREAM_SECRET)).build().verify(token);
      assertThat(verified.user()).isEqualTo(GRACE);
      assertThat(init.get("url").asText()).startsWith(service.url("/").toString());
      assertThat(ledger.balance(GRACE.userId())).as("the customizer's estimate is held").isEqualTo(93);
      assertThat(ledger.balance(ADA.userId())).isEqualTo(100);

      byte[] webhook = ("{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"" + verified.requestId()
          + "\",\"session_id\":\"s\",\"message_id\":\"m\",\"user_id\":\"grace\",\"company_id\":\"c2\","
          + "\"status\":\"completed\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":1000,"
          + "\"completion_tokens\":1000,\"total_tokens\":2000},\"completed_at\":\"2026-11-28T12:00:00Z\"}}")
          .getBytes(StandardCharsets.UTF_8);
      Request.Builder delivery = new Request.Builder().url(url(gateway, GatewayRoutes.WEBHOOK))
          .post(RequestBody.create(webhook, MediaType.get("application/json")));
      WebhookSigner.of(WEBHOOK_SECRET).headers("msg_1", Instant.now(), webhook).forEach(delivery::header);
      try (Response response = browser.newCall(delivery.build()).execute()) {
        assertThat(response.code()).isEqualTo(200);
      }
      assertThat(settlements.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(Settlement.COMMITTED);
      assertThat(ledger.balance(GRACE.userId())).isEqualTo(97);

      try (Response demo = browser.newCall(new Request.Builder().url(url(gateway, "/demo/token")).build()).execute()) {
        String demoToken = JSON.readTree(demo.body().string()).get("data").get("token").asText();
        assertThat(gateway.users().authenticate("Bearer " + demoToken)).as("the first user signs in").contains(ADA);
      }
    }
  }

  @Test
  void gatewaySettingsAreAppliedAfterTheExamplesOwn() throws Exception {
    RateLimiter closed = (key, operation) -> RateLimiter.Decision.deny("test", Duration.ofSeconds(42));
    try (GatewayServer gateway = GatewayExample.builder().client(client).port(0)
        .gateway(settings -> settings.rateLimiter(closed)).start();
        Response response = browser.newCall(new Request.Builder()
            .url(url(gateway, GatewayRoutes.API + "/sessions"))
            .header("Authorization", "Bearer " + gateway.users().issue(DemoGateway.demoUser().userId())).build())
            .execute()) {
      assertThat(response.code()).isEqualTo(429);
      assertThat(response.header("Retry-After")).isEqualTo("42");
    }
    assertThat(service.getRequestCount()).isZero();
  }

  @Test
  void withPortZeroTheSandboxDirectStreamUrlNamesThePortBound() throws Exception {
    try (LlmGatewayClient sandbox = LlmGatewayClient.builder().sandbox(true).environment(name -> null)
            .auditSink(AuditSink.none()).build();
        GatewayServer gateway = GatewayExample.builder().client(sandbox).port(0).start()) {
      JsonNode init = post(gateway, "/chat/init", gateway.users().issue(DemoGateway.demoUser().userId()),
          "{\"query\":\"hi\"}");
      assertThat(gateway.port()).isPositive();
      assertThat(init.get("url").asText())
          .startsWith("http://localhost:" + gateway.port() + DemoGateway.SANDBOX_SERVICE);
    }
  }

  @Test
  void acceptedConnectionsHaveTcpNoDelay() throws Exception {
    try (GatewayServer gateway = GatewayExample.builder().client(client).port(0).start()) {
      CompletableFuture<Boolean> noDelay = new CompletableFuture<>();
      gateway.addRoute("/probe", exchange -> {
        noDelay.complete(tcpNoDelay(exchange));
        GatewayServer.send(exchange, GatewayRoutes.notFound());
      });
      try (Response response = browser.newCall(new Request.Builder().url(url(gateway, "/probe")).build()).execute()) {
        assertThat(response.code()).isEqualTo(404);
      }
      assertThat(noDelay.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
          .as("TCP_NODELAY on the connection the JDK's HttpServer accepted").isTrue();
    }
    assertThat(System.getProperty(GatewayServer.NODELAY_PROPERTY)).isEqualTo("true");
  }

  /**
   * TCP_NODELAY of the socket behind a JDK {@code HttpServer} exchange: {@code HttpExchangeImpl.impl}
   * (an {@code ExchangeImpl}), its {@code connection}, and that connection's {@code chan}. The
   * examples' tests run with {@code --add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED}.
   */
  private static boolean tcpNoDelay(HttpExchange exchange) throws IOException {
    Object impl = field(exchange, "impl");
    Object connection = field(impl, "connection");
    return ((SocketChannel) field(connection, "chan")).getOption(StandardSocketOptions.TCP_NODELAY);
  }

  private static Object field(Object owner, String name) {
    try {
      Field field = owner.getClass().getDeclaredField(name);
      field.setAccessible(true);
      return field.get(owner);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("the JDK's HttpServer has changed: no " + owner.getClass().getName() + "." + name, e);
    }
  }

  @Test
  void fromEnvironmentReadsThePortAndTheKeysSharedWithARealService() throws Exception {
    Map<String, String> env = Map.of(
        GatewayExample.ENV_PORT, "0",
        LlmGatewayClient.ENV_BASE_URL, service.url("/").toString(),
        LlmGatewayClient.ENV_SERVICE_TOKEN, "svc-token",
        DemoGateway.ENV_STREAM_TOKEN_KEYS, "{\"2026-11\": \"" + STREAM_SECRET + "\"}");
    GatewayExample.Builder builder = GatewayExample.fromEnvironment(env::get);
    try (LlmGatewayClient real = builder.client(); GatewayServer gateway = builder.start()) {
      assertThat(real.isSandbox()).isFalse();
      assertThat(builder.port()).isZero();
      JsonNode init = post(gateway, "/chat/init", gateway.users().issue(DemoGateway.demoUser().userId()),
          "{\"query\":\"hi\"}");
      String token = URLDecoder.decode(init.get("url").asText().replaceFirst(".*[?&]token=", ""), StandardCharsets.UTF_8);
      assertThat(StreamTokenVerifier.builder().keys(JwtKeySet.of("2026-11", STREAM_SECRET)).build().verify(token)
          .user()).isEqualTo(DemoGateway.demoUser());
    }
  }

  @Test
  void fromEnvironmentWithoutTheServiceIsTheSandboxOnPort8080() {
    GatewayExample.Builder builder = GatewayExample.fromEnvironment(name -> null);
    try (LlmGatewayClient sandbox = builder.client()) {
      assertThat(sandbox.isSandbox()).isTrue();
      assertThat(builder.port()).isEqualTo(GatewayExample.DEFAULT_PORT);
    }
  }

  @Test
  void fromEnvironmentReadsTheRelaySettings() throws Exception {
    Map<String, String> env = Map.of(
        GatewayExample.ENV_PORT, "0",
        GatewayExample.ENV_RELAY_HEARTBEAT, "50ms",
        GatewayExample.ENV_RELAY_RECONNECT_DELAY, "PT2S");
    GatewayExample.Builder builder = GatewayExample.fromEnvironment(env::get);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    try (LlmGatewayClient sandbox = builder.client(); GatewayServer gateway = builder.client(client).start()) {
      service.enqueue(dev.llmgateway.testkit.SseResponses.paused(
          "data: {\"type\":\"session\",\"session_id\":\"s\",\"message_id\":\"m\"}\n\n", release,
          "data: {\"type\":\"done\",\"finish_reason\":\"stop\"}\n\ndata: [DONE]\n\n", 1,
          new java.util.concurrent.CountDownLatch(1)));
      Request ask = new Request.Builder().url(url(gateway, GatewayRoutes.API + "/chat/stream"))
          .header("Authorization", "Bearer " + gateway.users().issue(DemoGateway.demoUser().userId()))
          .post(RequestBody.create("{\"query\":\"hi\"}", MediaType.get("application/json"))).build();
      List<String> lines = new java.util.ArrayList<>();
      try (Response response = browser.newCall(ask).execute()) {
        okio.BufferedSource body = response.body().source();
        for (String line = body.readUtf8Line(); line != null; line = body.readUtf8Line()) {
          lines.add(line);
          if (line.equals(": ping")) {
            break; // the service is still quiet: the heartbeat came first
          }
        }
      } finally {
        release.countDown();
      }
      assertThat(lines).first().isEqualTo("retry: 2000");
      assertThat(lines).last().isEqualTo(": ping");
    }
  }

  @Test
  void malformedRelaySettingsAreRefusedNamingTheVariable() {
    for (String name : new String[] {GatewayExample.ENV_RELAY_HEARTBEAT, GatewayExample.ENV_RELAY_FIRST_EVENT_TIMEOUT}) {
      for (String value : new String[] {"abc", "0s", "-1s", "15", "PT-1S", "1h"}) {
        assertThat(catchThrowable(() -> GatewayExample.fromEnvironment(Map.of(name, value)::get).client().close()))
            .as("%s=%s", name, value).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(name);
      }
    }
    assertThatThrownBy(() -> GatewayExample.fromEnvironment(Map.of(GatewayExample.ENV_RELAY_RECONNECT_DELAY, "-5ms")::get))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(GatewayExample.ENV_RELAY_RECONNECT_DELAY);
  }

  @Test
  void aMalformedPortIsRefusedNamingTheVariable() {
    for (String port : new String[] {"abc", "-1", "65536", "99999999999", ""}) {
      assertThatThrownBy(() -> GatewayExample.fromEnvironment(Map.of(GatewayExample.ENV_PORT, port)::get))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(GatewayExample.ENV_PORT);
    }
  }

  @Test
  void malformedSharedStateVariablesAreRefusedNamingTheVariableNeverItsCredentials() {
    String secret = "hunter2-0123";
    Map<String, List<String>> bad = Map.of(
        GatewayExample.ENV_REDIS_URL, List.of("garbage", "http://127.0.0.1:6379", "redis://", "redis://:" + secret + "@",
            "redis://user:" + secret + "@host:99999", "redis://:" + secret + "@host:abc", "redis://:" + secret + "@h:6379/db"),
        GatewayExample.ENV_RATE_LIMIT_FAILURE, List.of("", "opened", "fail-open", secret),
        GatewayExample.ENV_USER_TOKEN_SECRET, List.of("", secret),
        GatewayExample.ENV_DATABASE_URL, List.of("", "postgresql://u:" + secret + "@h/db",
            "jdbc:mysql://h/db?password=" + secret, "jdbc:postgresql://h:port/db?password=" + secret));
    bad.forEach((name, values) -> {
      for (String value : values) {
        assertThat(catchThrowable(() -> GatewayExample.fromEnvironment(Map.of(name, value)::get).client().close()))
            .as("%s=%s", name, value).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining(name).hasMessageNotContaining(secret).hasNoCause();
      }
    });
    for (String alone : List.of(GatewayExample.ENV_DATABASE_USER, GatewayExample.ENV_DATABASE_PASSWORD)) {
      assertThatThrownBy(() -> GatewayExample.fromEnvironment(Map.of(alone, secret)::get))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(alone)
          .hasMessageContaining(GatewayExample.ENV_DATABASE_URL).hasMessageNotContaining(secret);
    }
  }

  @Test
  void wellFormedSharedStateVariablesAreRead() {
    assertThat(GatewayExample.failurePolicy(" Closed ")).isEqualTo(RedisRateLimiter.FailurePolicy.FAIL_CLOSED);
    assertThat(GatewayExample.failurePolicy("open")).isEqualTo(RedisRateLimiter.FailurePolicy.FAIL_OPEN);
    assertThat(GatewayExample.redisUri("redis://:pw@127.0.0.1:6380/2").getPort()).isEqualTo(6380);
    assertThat(GatewayExample.redisUri("rediss://redis.internal").isSsl()).isTrue();
    GatewayExample.Builder builder = GatewayExample.fromEnvironment(Map.of(
        GatewayExample.ENV_DATABASE_URL, "jdbc:postgresql://127.0.0.1:5432/llm_gateway",
        GatewayExample.ENV_DATABASE_USER, "gateway", GatewayExample.ENV_DATABASE_PASSWORD, "hunter2-0123")::get);
    builder.client().close();
  }

  @Test
  void unreachableSharedStateFailsTheStartNamingTheVariableNeverThePassword() throws Exception {
    String secret = "hunter2-0123";
    int closedPort;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = probe.getLocalPort(); // nothing listens there once the probe is closed
    }
    Map<String, String> redis = Map.of(GatewayExample.ENV_PORT, "0",
        GatewayExample.ENV_REDIS_URL, "redis://:" + secret + "@127.0.0.1:" + closedPort);
    Map<String, String> database = Map.of(GatewayExample.ENV_PORT, "0",
        GatewayExample.ENV_DATABASE_URL, "jdbc:postgresql://127.0.0.1:" + closedPort + "/db?password=" + secret,
        GatewayExample.ENV_DATABASE_USER, "gateway", GatewayExample.ENV_DATABASE_PASSWORD, secret);
    for (Map<String, String> env : List.of(redis, database)) {
      GatewayExample.Builder builder = GatewayExample.fromEnvironment(env::get);
      try (LlmGatewayClient sandbox = builder.client()) {
        Throwable failure = catchThrowable(builder::start);
        assertThat(failure).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining(env.containsKey(GatewayExample.ENV_REDIS_URL)
                ? GatewayExample.ENV_REDIS_URL : GatewayExample.ENV_DATABASE_URL);
        for (Throwable t = failure; t != null; t = t.getCause()) {
          assertThat(String.valueOf(t.getMessage())).doesNotContain(secret);
        }
      }
    }
  }

  @Test
  void theBuilderRefusesBadSettingsNamingThem() {
    GatewayExample.Builder builder = GatewayExample.builder();
    assertThatThrownBy(builder::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("client");
    assertThatThrownBy(() -> builder.port(65_536)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
    assertThatThrownBy(() -> builder.port(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
    assertThatThrownBy(() -> builder.users(List.of())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("users");
    assertThatThrownBy(() -> builder.users(List.of(ADA, ADA))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("users");
    assertThatThrownBy(() -> builder.userTokenSecret(new byte[31])).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("secret");
    assertThatThrownBy(() -> builder.client(null)).isInstanceOf(NullPointerException.class).hasMessageContaining("client");
  }

  @Test
  void aGivenUserTokenSecretSignsTheUsersTokens() throws Exception {
    byte[] secret = "the-host's-own-user-token-secret-0123456789".getBytes(StandardCharsets.UTF_8);
    try (GatewayServer gateway = GatewayExample.builder().client(client).users(List.of(ADA)).userTokenSecret(secret)
        .port(0).start()) {
      UserTokens hostSignIn = new UserTokens(secret, java.time.Clock.systemUTC(), Map.of(ADA.userId(), ADA));
      assertThat(gateway.users().authenticate("Bearer " + hostSignIn.issue(ADA.userId()))).contains(ADA);
    }
  }

  private String url(GatewayServer gateway, String path) {
    return "http://127.0.0.1:" + gateway.port() + path;
  }

  private JsonNode post(GatewayServer gateway, String route, String userToken, String json) throws IOException {
    Request request = new Request.Builder().url(url(gateway, GatewayRoutes.API + route))
        .header("Authorization", "Bearer " + userToken)
        .post(RequestBody.create(json, MediaType.get("application/json"))).build();
    try (Response response = browser.newCall(request).execute()) {
      String body = response.body().string();
      assertThat(response.code()).as(body).isEqualTo(200);
      return JSON.readTree(body).get("data");
    }
  }
}
