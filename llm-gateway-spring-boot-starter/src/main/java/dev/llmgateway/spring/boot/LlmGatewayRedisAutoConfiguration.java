package dev.llmgateway.spring.boot;

import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.redis.RedisRateLimiter;
import dev.llmgateway.redis.RedisReplayStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.util.Objects;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * When {@code llm-gateway-redis} is on the classpath: rate limits and replay stores shared by every
 * instance, in Redis. They run on a Lettuce {@code StatefulRedisConnection<String, String>} bean:
 * the host's, or else one the starter opens from {@code llm-gateway.redis.url} (and closes). Spring
 * Data Redis's {@code LettuceConnectionFactory} is not used: its connections speak bytes through
 * Spring's own API, while the SDK runs its scripts on one shared, multiplexed String connection.
 */
@AutoConfiguration(before = LlmGatewayHostAutoConfiguration.class)
@ConditionalOnClass(RedisRateLimiter.class)
public class LlmGatewayRedisAutoConfiguration {
  /** The bean name of the store of seen webhook ids. */
  public static final String WEBHOOK_REPLAY_STORE = "llmGatewayWebhookReplayStore";
  /** The bean name of the store of used stream-token ids. */
  public static final String STREAM_TOKEN_REPLAY_STORE = "llmGatewayStreamTokenReplayStore";

  /** Creates the configuration; Spring calls it. */
  public LlmGatewayRedisAutoConfiguration() {}

  /**
   * The Lettuce client behind the starter's own connection; shut down with the context.
   *
   * @param properties the properties ({@code redis.url})
   * @return the client
   * @throws IllegalArgumentException if the URL is not a Redis URI; the message names the property,
   *     never the URL, which may hold a password (Lettuce's own message quotes it, so it is not kept
   *     as the cause)
   */
  @Bean(destroyMethod = "shutdown")
  @ConditionalOnMissingBean(StatefulRedisConnection.class)
  @ConditionalOnPropertyText("llm-gateway.redis.url")
  public RedisClient llmGatewayRedisClient(LlmGatewayProperties properties) {
    RedisURI uri;
    try {
      uri = RedisURI.create(Objects.requireNonNull(properties.getRedis().getUrl()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("llm-gateway.redis.url must be a Redis URI such as redis://127.0.0.1:6379");
    }
    return RedisClient.create(uri);
  }

  /**
   * The starter's connection, opened at startup (so a Redis that cannot be reached fails the start).
   *
   * @param redis the client
   * @return the connection, closed with the context
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(StatefulRedisConnection.class)
  @ConditionalOnBean(name = "llmGatewayRedisClient")
  public StatefulRedisConnection<String, String> llmGatewayRedisConnection(RedisClient redis) {
    return redis.connect();
  }

  /**
   * Rate limits in Redis, at {@code llm-gateway.rate-limits.*} (default {@link
   * RateLimits#ofDefaults()}), failing open or closed as {@code rate-limits.failure} says; define a
   * {@link RateLimiter} bean for other limits.
   *
   * @param connection the connection
   * @param properties the properties ({@code rate-limits})
   * @return the limiter the auto-configured {@code ChatGateway} uses
   */
  @Bean
  @ConditionalOnMissingBean(RateLimiter.class)
  @ConditionalOnBean(StatefulRedisConnection.class)
  public RedisRateLimiter llmGatewayRateLimiter(StatefulRedisConnection<String, String> connection,
      LlmGatewayProperties properties) {
    LlmGatewayProperties.Limits limits = properties.getRateLimits();
    return RedisRateLimiter.builder(connection)
        .limits(LlmGatewayHostAutoConfiguration.rateLimits(limits))
        .failurePolicy(limits.getFailure() == LlmGatewayProperties.RateLimitFailure.CLOSED
            ? RedisRateLimiter.FailurePolicy.FAIL_CLOSED : RedisRateLimiter.FailurePolicy.FAIL_OPEN)
        .build();
  }

  /**
   * Seen webhook ids, shared by every instance (the webhook verifier's id store).
   *
   * @param connection the connection
   * @return the store
   */
  @Bean(WEBHOOK_REPLAY_STORE)
  @ConditionalOnMissingBean(name = WEBHOOK_REPLAY_STORE)
  @ConditionalOnBean(StatefulRedisConnection.class)
  public RedisReplayStore llmGatewayWebhookReplayStore(StatefulRedisConnection<String, String> connection) {
    return RedisReplayStore.forWebhooks(connection);
  }

  /**
   * Used stream-token ids, shared by every instance (for a host that verifies stream tokens).
   *
   * @param connection the connection
   * @return the store
   */
  @Bean(STREAM_TOKEN_REPLAY_STORE)
  @ConditionalOnMissingBean(name = STREAM_TOKEN_REPLAY_STORE)
  @ConditionalOnBean(StatefulRedisConnection.class)
  public RedisReplayStore llmGatewayStreamTokenReplayStore(StatefulRedisConnection<String, String> connection) {
    return RedisReplayStore.forStreamTokens(connection);
  }
}
