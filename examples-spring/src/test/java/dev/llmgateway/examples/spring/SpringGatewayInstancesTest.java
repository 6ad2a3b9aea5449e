package dev.llmgateway.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.examples.gateway.DemoGateway;
import dev.llmgateway.examples.gateway.Deployment;
import dev.llmgateway.examples.gateway.GatewayExample;
import dev.llmgateway.examples.gateway.GatewayServer;
import dev.llmgateway.examples.gateway.UserTokens;
import dev.llmgateway.host.CreditPricing;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.testkit.PostgresServer;
import dev.llmgateway.testkit.RedisServerExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The Spring example and a JDK-host instance of one deployment on a real PostgreSQL and Redis: the
 * Spring one configured only by {@code application.properties}, from the deployment's environment
 * variables under their usual names ({@code LLM_REDIS_URL}, {@code LLM_DATABASE_URL}...).
 */
class SpringGatewayInstancesTest {
  @RegisterExtension
  static final PostgresServer POSTGRES = new PostgresServer();

  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final ObjectMapper JSON = new ObjectMapper();

  private final OkHttpClient browser = new OkHttpClient();
  private final List<AutoCloseable> opened = new ArrayList<>();
  private Deployment deployment;

  @BeforeEach
  void sharedServers() throws Exception {
    deployment = Deployment.create(POSTGRES, REDIS);
  }

  @AfterEach
  void closeEverything() throws Exception {
    for (int i = opened.size() - 1; i >= 0; i--) {
      opened.get(i).close();
    }
    deployment.close();
    browser.dispatcher().executorService().shutdown();
    browser.connectionPool().evictAll();
  }

  /**
   * The Spring example with the deployment's variables. They are given as properties of the same
   * names (a test cannot set its own environment); {@code application.properties}' {@code
   * ${LLM_...:}} placeholders read an environment variable and such a property alike.
   */
  private ConfigurableApplicationContext spring(String... more) {
    Map<String, String> env = deployment.environment();
    List<String> args = new ArrayList<>();
    env.forEach((name, value) -> {
      if (!name.equals(GatewayExample.ENV_PORT)) {
        args.add("--" + name + "=" + value);
      }
    });
    // The sandbox's direct-stream URL names the port (http://localhost:${server.port}/...): not 0.
    args.add("--PORT=" + SpringHost.freePort());
    args.addAll(List.of(more));
    SpringApplication application = new SpringApplication(SpringGatewayApplication.class);
    application.setDefaultProperties(SpringGatewayApplication.defaults(env::get));
    ConfigurableApplicationContext context = application.run(args.toArray(String[]::new));
    opened.add(context);
    return context;
  }

  @Test
  void theSpringExampleSharesTheServersWithAnotherInstance() throws Exception {
    GatewayExample.Builder settings = GatewayExample.fromEnvironment(deployment.environment()::get)
        .rateLimits(RateLimits.builder().calls(RateLimit.perMinute(3)).build())
        .gateway(gateway -> gateway.pricing(CreditPricing.flat(1)));
    opened.add(settings.client());
    GatewayServer a = settings.start();
    opened.add(a);
    int redisClientsBefore = REDIS.clientCount();
    ConfigurableApplicationContext spring = spring("--llm-gateway.rate-limits.calls-per-minute=3",
        // 1 credit per started 1000 tokens: one credit for a sandbox chat, as the JDK host's flat(1).
        "--llm-gateway.credits.prompt-per-thousand=1", "--llm-gateway.credits.completion-per-thousand=1");
    assertThat(spring.getBean(LlmGatewayClient.class).isSandbox()).isTrue();
    int springPort = SpringGatewayApplication.port(spring);
    UserTokens springUsers = spring.getBean(UserTokens.class);

    assertThat(chat(springPort, springUsers).code()).isEqualTo(200);
    assertThat(chat(a.port(), springUsers).code()).as("one user-token secret: signed in on Spring, also on a")
        .isEqualTo(200);
    assertThat(chat(springPort, a.users()).code()).isEqualTo(200);
    Deployment.Reply refused = chat(a.port(), a.users());
    assertThat(refused.code()).as("three calls a minute across both: %s", refused.body()).isEqualTo(429);
    assertThat(JdbcCreditLedger.builder(deployment.database()).build().balance(Deployment.USER))
        .as("one account, opened once, charged by both").isEqualTo(GatewayExample.DEFAULT_CREDITS - 3);
    assertThat(deployment.gatewayConnections()).as("Boot's pool on LLM_DATABASE_URL as LLM_DATABASE_USER").isPositive();

    spring.close();
    assertThat(REDIS.clientCount()).as("the context's shutdown closed the Redis client it opened")
        .isEqualTo(redisClientsBefore);
  }


  @Test
  void aStreamTokenTheSpringExampleIssuedIsVerifiedByTheOtherInstanceAndThenUsedUp() throws Exception {
    GatewayExample.Builder settings = GatewayExample.fromEnvironment(deployment.environment()::get);
    opened.add(settings.client());
    GatewayServer a = settings.start();
    opened.add(a);
    ConfigurableApplicationContext spring = spring();
    int springPort = SpringGatewayApplication.port(spring);
    Deployment.Reply init = Deployment.post(browser, springPort, spring.getBean(UserTokens.class), "/chat/init");
    assertThat(init.code()).as(init.body()).isEqualTo(200);
    String url = JSON.readTree(init.body()).get("data").get("url").asText();
    assertThat(url).startsWith("http://localhost:" + springPort + DemoGateway.SANDBOX_SERVICE);
    String query = url.substring(url.indexOf('?'));

    try (Response used = get("http://localhost:" + a.port() + DemoGateway.SANDBOX_SERVICE + query)) {
      assertThat(used.code()).as("signed with LLM_STREAM_TOKEN_KEYS' key, which the JDK instance has too")
          .isEqualTo(200);
      assertThat(used.body().string()).contains("data: [DONE]");
    }
    try (Response replayed = get(url)) {
      assertThat(replayed.code()).as("the token's id is in the shared Redis").isEqualTo(401);
    }
  }

  private Response get(String url) throws java.io.IOException {
    return browser.newCall(new Request.Builder().url(url).build()).execute();
  }

  private Deployment.Reply chat(int port, UserTokens users) throws Exception {
    return Deployment.post(browser, port, users, "/chat");
  }
}
