package dev.llmgateway.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.auth.ReplayStore;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.redis.RedisRateLimiter;
import dev.llmgateway.redis.RedisReplayStore;
import dev.llmgateway.testkit.RedisServerExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The Redis beans against a real redis-server, with the Lettuce and Netty versions of Boot's BOM. */
class LlmGatewayRedisAutoConfigurationTest {
  @RegisterExtension
  static final RedisServerExtension REDIS = new RedisServerExtension();

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(LlmGatewayAutoConfiguration.class,
          LlmGatewayAuthAutoConfiguration.class, LlmGatewayRedisAutoConfiguration.class,
          LlmGatewayHostAutoConfiguration.class))
      .withPropertyValues("llm-gateway.sandbox=true");

  @Test
  void aRedisUrlGivesTheGatewayRedisRateLimitsAndTheWebhooksARedisIdStore() {
    runner.withPropertyValues("llm-gateway.redis.url=" + REDIS.uri(),
        "llm-gateway.webhooks.secret=" + LlmGatewayAutoConfigurationTest.WEBHOOK_SECRET).run(context -> {
          assertThat(context.getBean(RateLimiter.class)).isInstanceOf(RedisRateLimiter.class);
          assertThat(context).hasSingleBean(ChatGateway.class);
          ReplayStore webhooks = context.getBean(LlmGatewayRedisAutoConfiguration.WEBHOOK_REPLAY_STORE,
              ReplayStore.class);
          assertThat(webhooks.markUsed("msg_1", Instant.now().plusSeconds(60))).isTrue();
          assertThat(webhooks.markUsed("msg_1", Instant.now().plusSeconds(60))).isFalse();
          assertThat(REDIS.command("EXISTS " + RedisReplayStore.WEBHOOK_PREFIX + "msg_1")).contains("1");
        });
  }

  @Test
  void theStartersConnectionIsClosedWithTheContext() {
    int before = REDIS.clientCount();
    runner.withPropertyValues("llm-gateway.redis.url=" + REDIS.uri()).run(context ->
        assertThat(REDIS.clientCount()).isEqualTo(before + 1));

    assertThat(REDIS.clientCount()).isEqualTo(before);
  }

  @Test
  void aConnectionOfTheHostsOwnIsUsedInsteadOfAUrl() {
    RedisClient redis = RedisClient.create(REDIS.uri());
    try (StatefulRedisConnection<String, String> own = redis.connect()) {
      runner.withPropertyValues("llm-gateway.redis.url=redis://127.0.0.1:1")
          .withBean(StatefulRedisConnection.class, () -> own).run(context -> {
        assertThat(context).doesNotHaveBean(RedisClient.class);
        assertThat(context.getBean(RateLimiter.class)).isInstanceOf(RedisRateLimiter.class);
      });
    } finally {
      redis.shutdown();
    }
  }

  @Test
  void withoutRedisTheGatewayKeepsItsInMemoryLimiter() {
    runner.run(context -> assertThat(context).doesNotHaveBean(RateLimiter.class).hasSingleBean(ChatGateway.class));
  }

  @Test
  void theRateLimitsOfThePropertiesAreKeptInRedis() {
    runner.withPropertyValues("llm-gateway.redis.url=" + REDIS.uri(), "llm-gateway.rate-limits.calls-per-minute=1",
        "llm-gateway.rate-limits.failure=closed").run(context -> {
          RateLimiter limiter = context.getBean(RateLimiter.class);
          assertThat(limiter).isInstanceOf(RedisRateLimiter.class);
          assertThat(limiter.tryAcquire("user:rl-1", dev.llmgateway.Operation.CHAT).allowed()).isTrue();
          assertThat(limiter.tryAcquire("user:rl-1", dev.llmgateway.Operation.CHAT).allowed()).isFalse();
        });
  }

  @Test
  void aMalformedRedisUrlFailsTheStartNamingThePropertyNotThePassword() {
    for (String url : new String[] {"redis://:pa ss-SECRET@127.0.0.1:6379", "http://:pass-SECRET@127.0.0.1"}) {
      runner.withPropertyValues("llm-gateway.redis.url=" + url).run(context -> {
        assertThat(context).hasFailed();
        assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("llm-gateway.redis.url");
        for (Throwable e = context.getStartupFailure(); e != null; e = e.getCause()) {
          assertThat(String.valueOf(e.getMessage())).doesNotContain("SECRET");
        }
      });
    }
  }
}
