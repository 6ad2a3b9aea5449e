package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditPricing;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.testkit.PostgresServer;
import dev.llmgateway.testkit.RedisServerExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two example instances configured from the environment ({@link GatewayExample#fromEnvironment}),
 * on port 0, sharing one real PostgreSQL and one real Redis, as two instances of a deployment do.
 */
class GatewayInstancesTest {
  @RegisterExtension
  static final PostgresServer POSTGRES = new PostgresServer();

  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String USER = Deployment.USER;
  private static final RateLimits THREE_CALLS_A_MINUTE =
      RateLimits.builder().calls(RateLimit.perMinute(3)).build();

  private final OkHttpClient browser = new OkHttpClient();
  private final List<LlmGatewayClient> clients = new ArrayList<>();
  private final List<AutoCloseable> hosts = new ArrayList<>();
  private final Map<String, String> env = new java.util.HashMap<>();
  private Deployment deployment;
  private HikariDataSource database;

  @BeforeEach
  void sharedServers() throws SQLException {
    deployment = Deployment.create(POSTGRES, REDIS);
    env.putAll(deployment.environment());
    database = deployment.database();
  }

  @AfterEach
  void closeEverything() throws Exception {
    for (AutoCloseable host : hosts) {
      host.close();
    }
    clients.forEach(LlmGatewayClient::close);
    deployment.close();
    browser.dispatcher().executorService().shutdown();
    browser.connectionPool().evictAll();
  }

  /** An instance's settings, from the environment. */
  private GatewayExample.Builder settings() {
    GatewayExample.Builder settings = GatewayExample.fromEnvironment(env::get);
    clients.add(settings.client());
    return settings;
  }

  private GatewayServer start(GatewayExample.Builder settings) throws IOException {
    GatewayServer server = settings.start();
    hosts.add(server);
    return server;
  }

  @Test
  void aUsersRateLimitIsOneLimitAcrossBothInstances() throws Exception {
    GatewayServer a = start(settings().rateLimits(THREE_CALLS_A_MINUTE));
    GatewayServer b = start(settings().rateLimits(THREE_CALLS_A_MINUTE));

    assertThat(chat(a.port(), a.users()).code()).isEqualTo(200);
    assertThat(chat(b.port(), a.users()).code()).as("one user-token secret: signed in on a, also on b").isEqualTo(200);
    assertThat(chat(a.port(), b.users()).code()).isEqualTo(200);
    Deployment.Reply refused = chat(b.port(), b.users());

    assertThat(refused.code()).as(refused.body()).isEqualTo(429);
    assertThat(refused.retryAfter()).matches("[1-9][0-9]*");
    assertThat(chat(a.port(), a.users()).code()).isEqualTo(429);
  }

  @Test
  void creditsSpentOnOneInstanceAreGoneOnTheOtherAndTheDemoDepositIsMadeOnce() throws Exception {
    GatewayExample.Builder settingsA = settings().gateway(fourHundredCreditsAChat());
    GatewayExample.Builder settingsB = settings().gateway(fourHundredCreditsAChat());
    // Both instances start at once, each depositing the demo's credits unless the account exists.
    CompletableFuture<GatewayServer> startingA = CompletableFuture.supplyAsync(() -> startUnchecked(settingsA));
    CompletableFuture<GatewayServer> startingB = CompletableFuture.supplyAsync(() -> startUnchecked(settingsB));
    GatewayServer a = startingA.get(60, TimeUnit.SECONDS);
    GatewayServer b = startingB.get(60, TimeUnit.SECONDS);
    JdbcCreditLedger ledger = JdbcCreditLedger.builder(database).build();
    assertThat(ledger.balance(USER)).isEqualTo(GatewayExample.DEFAULT_CREDITS);

    assertThat(chat(a.port(), a.users()).code()).isEqualTo(200);
    assertThat(chat(b.port(), b.users()).code()).isEqualTo(200);
    Deployment.Reply broke = chat(a.port(), a.users());

    assertThat(broke.code()).as("400 + 400 of 1000 spent, 200 left: %s", broke.body()).isEqualTo(402);
    assertThat(ledger.balance(USER)).isEqualTo(GatewayExample.DEFAULT_CREDITS - 800);
    // A restarted instance does not give the demo's credits again.
    b.close();
    GatewayServer restarted = start(settings().gateway(fourHundredCreditsAChat()));
    assertThat(ledger.balance(USER)).isEqualTo(GatewayExample.DEFAULT_CREDITS - 800);
    assertThat(chat(restarted.port(), restarted.users()).code()).isEqualTo(402);
  }

  @Test
  void aStreamTokenUsedOnOneInstanceIsRefusedByTheOther() throws Exception {
    GatewayServer a = start(settings());
    GatewayServer b = start(settings());
    String url = JSON.readTree(post(a.port(), a.users(), "/chat/init").body()).get("data").get("url").asText();
    String query = url.substring(url.indexOf('?'));

    try (Response used = get("http://localhost:" + a.port() + DemoGateway.SANDBOX_SERVICE + query)) {
      assertThat(used.code()).isEqualTo(200);
      assertThat(used.body().string()).contains("data: [DONE]");
    }
    try (Response replayed = get("http://localhost:" + b.port() + DemoGateway.SANDBOX_SERVICE + query)) {
      assertThat(replayed.code()).as("the token's id is in the shared Redis").isEqualTo(401);
    }
  }

  @Test
  void aStreamTokenIsRefusedWithARetryableStatusWhileRedisIsDown() throws Exception {
    GatewayServer a = start(settings());
    String url = JSON.readTree(post(a.port(), a.users(), "/chat/init").body()).get("data").get("url").asText();
    REDIS.stop(); // the next test's REDIS.beforeEach starts it again

    try (Response refused = get("http://localhost:" + a.port() + DemoGateway.SANDBOX_SERVICE + url.substring(url.indexOf('?')))) {
      assertThat(refused.code()).as("the replay store fails closed: not a replay (401), try again (503)").isEqualTo(503);
    }
  }

  @Test
  void closingAnInstanceClosesTheRedisClientAndThePoolItOpened() throws Exception {
    int redisClientsBefore = REDIS.clientCount();
    GatewayServer a = start(settings());
    assertThat(REDIS.clientCount()).isGreaterThan(redisClientsBefore);
    assertThat(gatewayConnections()).isPositive();

    a.close();

    assertThat(REDIS.clientCount()).isEqualTo(redisClientsBefore);
    assertThat(gatewayConnections()).isZero();
  }

  /** Reserves and charges 400 credits a chat: two of the demo's 1000 fit, a third does not. */
  private static Consumer<ChatGateway.Builder> fourHundredCreditsAChat() {
    return gateway -> gateway.estimate(request -> 400).pricing(CreditPricing.flat(400));
  }

  private GatewayServer startUnchecked(GatewayExample.Builder settings) {
    try {
      GatewayServer server = settings.start();
      synchronized (hosts) {
        hosts.add(server);
      }
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private long gatewayConnections() throws SQLException {
    return deployment.gatewayConnections();
  }

  private Deployment.Reply chat(int port, UserTokens users) throws IOException {
    return post(port, users, "/chat");
  }

  private Deployment.Reply post(int port, UserTokens users, String route) throws IOException {
    return Deployment.post(browser, port, users, route);
  }

  private Response get(String url) throws IOException {
    return browser.newCall(new Request.Builder().url(url).build()).execute();
  }
}
