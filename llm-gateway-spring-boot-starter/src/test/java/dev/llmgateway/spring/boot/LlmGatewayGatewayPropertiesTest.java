package dev.llmgateway.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.CreditPricing;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.InsufficientCreditsException;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimitExceededException;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.redis.RedisRateLimiter;
import dev.llmgateway.webhooks.WebhookVerifier;
import io.lettuce.core.RedisClient;
import java.io.IOException;
import java.net.ServerSocket;
import javax.sql.DataSource;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The {@code ChatGateway}'s settings as properties: {@code rate-limits}, {@code credits}, {@code
 * relay}, {@code jdbc.reaper-interval}; {@link ChatGatewayBuilderCustomizer} beans; and blank values
 * read as unset (what {@code ${LLM_REDIS_URL:}} gives while the variable is unset).
 */
class LlmGatewayGatewayPropertiesTest {
  private static final String CHAT_WITH_USAGE = "{\"session_id\":\"sess_1\",\"message_id\":\"msg_1\",\"intent\":\"search\","
      + "\"answer\":\"hi\",\"candidates\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}";

  private final MockWebServer server = new MockWebServer();
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private ApplicationContextRunner runner;

  @BeforeEach
  void start() throws IOException {
    server.start();
    ledger.deposit(LlmGatewayAutoConfigurationTest.USER.userId(), 400);
    runner = new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(LlmGatewayAutoConfiguration.class,
            LlmGatewayAuthAutoConfiguration.class, LlmGatewayRedisAutoConfiguration.class,
            LlmGatewayJdbcAutoConfiguration.class, LlmGatewayHostAutoConfiguration.class))
        .withPropertyValues("llm-gateway.base-url=" + server.url("/"), "llm-gateway.service-token=svc-token",
            "llm-gateway.retry.max-retries=0")
        .withBean(CreditLedger.class, () -> ledger);
  }

  @AfterEach
  void stop() {
    server.close();
    ledger.close();
  }

  private void answerWithUsage() {
    server.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
        .body(CHAT_WITH_USAGE).build());
  }

  private static void chat(ChatGateway gateway) {
    gateway.chat(LlmGatewayAutoConfigurationTest.USER, ChatRequest.of("hi"));
  }

  @Test
  void theRateLimitDefaultsAreTheSdks() {
    LlmGatewayProperties.Limits limits = new LlmGatewayProperties().getRateLimits();
    assertThat(LlmGatewayHostAutoConfiguration.rateLimits(limits)).isEqualTo(RateLimits.ofDefaults());
    assertThat(limits.getFailure().name()).isEqualTo(
        RedisRateLimiter.DEFAULT_FAILURE_POLICY == RedisRateLimiter.FailurePolicy.FAIL_OPEN ? "OPEN" : "CLOSED");
  }

  @Test
  void callsPerMinuteLimitTheAutoConfiguredGatewayInMemory() {
    answerWithUsage();
    runner.withPropertyValues("llm-gateway.rate-limits.calls-per-minute=1").run(context -> {
      ChatGateway gateway = context.getBean(ChatGateway.class);
      chat(gateway);
      assertThatThrownBy(() -> chat(gateway)).isInstanceOf(RateLimitExceededException.class);
      assertThat(server.getRequestCount()).isEqualTo(1);
    });
  }

  @Test
  void zeroMeansNoLimitAndANegativeLimitFailsTheStartNamingTheProperty() {
    assertThat(LlmGatewayHostAutoConfiguration.rateLimits(limits(0, 0)))
        .isEqualTo(RateLimits.builder().calls(null).streamStarts(null).build());
    assertThat(LlmGatewayHostAutoConfiguration.rateLimits(limits(3, 1)))
        .isEqualTo(RateLimits.builder().calls(RateLimit.perMinute(3)).streamStarts(RateLimit.perMinute(1)).build());
    runner.withPropertyValues("llm-gateway.rate-limits.stream-starts-per-minute=-1").run(context ->
        assertThat(context).getFailure().rootCause()
            .hasMessageContaining("llm-gateway.rate-limits.stream-starts-per-minute"));
  }

  private static LlmGatewayProperties.Limits limits(int calls, int streamStarts) {
    LlmGatewayProperties.Limits limits = new LlmGatewayProperties.Limits();
    limits.setCallsPerMinute(calls);
    limits.setStreamStartsPerMinute(streamStarts);
    return limits;
  }

  @Test
  void theGatewayChargesAtThePricingOfTheProperties() {
    answerWithUsage();
    runner.withPropertyValues("llm-gateway.credits.prompt-per-thousand=5",
        "llm-gateway.credits.completion-per-thousand=7").run(context -> {
          chat(context.getBean(ChatGateway.class));
          assertThat(ledger.balance(LlmGatewayAutoConfigurationTest.USER.userId())).isEqualTo(400 - 12);
        });
  }

  @Test
  void theEstimateIsWhatIsReservedBeforeTheCall() {
    runner.withPropertyValues("llm-gateway.credits.estimate=401").run(context -> {
      assertThatThrownBy(() -> chat(context.getBean(ChatGateway.class)))
          .isInstanceOf(InsufficientCreditsException.class);
      assertThat(server.getRequestCount()).isZero();
    });
  }

  @Test
  void halfAPricingOrANegativeOneFailsTheStartNamingTheProperties() {
    runner.withPropertyValues("llm-gateway.credits.prompt-per-thousand=5").run(context ->
        assertThat(context).getFailure().rootCause().hasMessageContaining("llm-gateway.credits.prompt-per-thousand")
            .hasMessageContaining("llm-gateway.credits.completion-per-thousand"));
    runner.withPropertyValues("llm-gateway.credits.prompt-per-thousand=-1",
        "llm-gateway.credits.completion-per-thousand=1").run(context ->
        assertThat(context).getFailure().rootCause().hasMessageContaining("llm-gateway.credits"));
    runner.withPropertyValues("llm-gateway.credits.estimate=-1").run(context ->
        assertThat(context).getFailure().rootCause().hasMessageContaining("llm-gateway.credits.estimate"));
  }

  @Test
  void theRelaySettingsReachTheGateway() {
    // The gateway's own setters check them: an invalid value from the properties fails the start.
    runner.withPropertyValues("llm-gateway.relay.heartbeat=0s").run(context ->
        assertThat(context).getFailure().rootCause().hasMessageContaining("heartbeat"));
    runner.withPropertyValues("llm-gateway.relay.reconnect-delay=-1s").run(context ->
        assertThat(context).getFailure().rootCause().hasMessageContaining("reconnectDelay"));
    runner.withPropertyValues("llm-gateway.relay.first-event-timeout=0s").run(context ->
        assertThat(context).getFailure().rootCause().hasMessageContaining("streamFirstEventTimeout"));
    runner.withPropertyValues("llm-gateway.relay.heartbeat=50ms", "llm-gateway.relay.reconnect-delay=0s",
        "llm-gateway.relay.first-event-timeout=5s").run(context -> assertThat(context).hasNotFailed());
  }

  @Test
  void aCustomizerRunsAfterTheProperties() {
    answerWithUsage();
    runner.withPropertyValues("llm-gateway.credits.prompt-per-thousand=5",
            "llm-gateway.credits.completion-per-thousand=7")
        .withBean(ChatGatewayBuilderCustomizer.class, () -> gateway -> gateway.pricing(CreditPricing.flat(3)))
        .run(context -> {
          chat(context.getBean(ChatGateway.class));
          assertThat(ledger.balance(LlmGatewayAutoConfigurationTest.USER.userId())).isEqualTo(400 - 3);
        });
  }

  @Test
  void blankValuesAreUnsetSoAnEmptyVariableTurnsAFeatureOff() {
    runner.withPropertyValues("llm-gateway.redis.url=", "llm-gateway.webhooks.secret= ",
        "llm-gateway.stream-tokens.secret=", "llm-gateway.auth.jwt-secret=", "llm-gateway.base-url=").run(context -> {
          assertThat(context).hasNotFailed().doesNotHaveBean(RedisClient.class).doesNotHaveBean(WebhookVerifier.class)
              .doesNotHaveBean(StreamTokenIssuer.class).hasSingleBean(ChatGateway.class);
          LlmGatewayProperties properties = context.getBean(LlmGatewayProperties.class);
          assertThat(properties.getBaseUrl()).isNull();
          assertThat(properties.getRedis().getUrl()).isNull();
          assertThat(properties.getWebhooks().getSecret()).isNull();
        });
  }

  @Test
  void theJdbcLedgerRunsAReaperWhenAnIntervalIsSet() throws IOException {
    PGSimpleDataSource refusing = new PGSimpleDataSource();
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    refusing.setURL("jdbc:postgresql://127.0.0.1:" + port + "/none?connectTimeout=2");
    ApplicationContextRunner jdbc = new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(LlmGatewayAutoConfiguration.class,
            LlmGatewayJdbcAutoConfiguration.class, LlmGatewayHostAutoConfiguration.class))
        .withPropertyValues("llm-gateway.sandbox=true")
        .withBean(DataSource.class, () -> refusing);
    jdbc.run(context -> {
      assertThat(context.getBean(CreditLedger.class)).isInstanceOf(JdbcCreditLedger.class);
      assertThat(reaperThreads()).isZero();
    });
    jdbc.withPropertyValues("llm-gateway.jdbc.reaper-interval=30s").run(context ->
        assertThat(reaperThreads()).isEqualTo(1));
  }

  private static long reaperThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.isAlive() && thread.getName().startsWith("llm-gateway-jdbc-credit-reaper")).count();
  }
}
