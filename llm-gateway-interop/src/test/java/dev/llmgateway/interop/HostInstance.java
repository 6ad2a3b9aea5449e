package dev.llmgateway.interop;

import com.zaxxer.hikari.HikariDataSource;
import dev.llmgateway.AuditSink;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.auth.StreamTokenVerifier;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditPricing;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.redis.RedisRateLimiter;
import dev.llmgateway.redis.RedisReplayStore;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerifier;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One host instance, as a separate host would have it: its own HikariCP pool, its own Lettuce
 * client and connection, its own {@link JdbcCreditLedger}, {@link RedisRateLimiter} and {@link
 * RedisReplayStore}s, its own SDK client and {@link ChatGateway}, and a {@link StreamTokenVerifier}
 * as the host's own stream endpoint would use. The instances share only the database, Redis and the
 * secrets.
 */
final class HostInstance implements AutoCloseable {
  static final JwtKeySet KEYS = JwtKeySet.of("k1", "stream-token-secret-of-32-bytes-at-least");
  static final WebhookSecret SECRET =
      WebhookSecret.ofBytes("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8));
  static final WebhookSigner SIGNER = WebhookSigner.of(SECRET);
  /** What every chat costs: flat pricing, and as much reserved before the call. */
  static final long PRICE = 10;
  /** How long the instance's Lettuce client waits between attempts to reconnect. */
  static final Duration RECONNECT_DELAY = Duration.ofMillis(100);
  /**
   * How long a rate-limit decision or replay check may wait for Redis: generous, since a decision
   * that timed out under load would fail open and blur the counts (an unreachable Redis fails at
   * once: see the client's options).
   */
  static final Duration REDIS_TIMEOUT = Duration.ofSeconds(5);

  /** What a test may change before the instance is built. */
  static final class Settings {
    final String upstream;
    RateLimits limits = RateLimits.builder().calls(RateLimit.of(10_000, Duration.ofDays(1)))
        .streamStarts(null).build();
    RedisRateLimiter.FailurePolicy failurePolicy = RedisRateLimiter.DEFAULT_FAILURE_POLICY;
    Duration connectionTimeout = Duration.ofSeconds(10);
    Clock clock = Clock.systemUTC();
    Duration statementTimeout = JdbcCreditLedger.DEFAULT_STATEMENT_TIMEOUT;
    @Nullable ScheduledExecutorService settlementScheduler;

    Settings(String upstream) {
      this.upstream = upstream;
    }
  }

  final Settings settings;
  final HikariDataSource pool;
  final ClientResources redisResources;
  final RedisClient redisClient;
  final StatefulRedisConnection<String, String> redis;
  final JdbcCreditLedger ledger;
  final RedisRateLimiter limiter;
  final StreamTokenVerifier streamTokens;
  final LlmGatewayClient client;
  final ChatGateway gateway;
  /** Reservations this instance's reaper released. */
  final List<Reservation> expired = new CopyOnWriteArrayList<>();

  HostInstance(SharedStores stores, Settings s) {
    this.settings = s;
    this.pool = stores.pool(s.connectionTimeout);
    // As a host may configure its client: a short reconnect delay (after a Redis restart the instance
    // is back within a fraction of a second, not after Lettuce's back-off of up to 30 s), and commands
    // refused at once while disconnected rather than held until the caller's timeout, so that an
    // unreachable Redis fails each decision at once and no answer from a live one is ever late.
    this.redisResources = DefaultClientResources.builder().reconnectDelay(Delay.constant(RECONNECT_DELAY)).build();
    this.redisClient = RedisClient.create(redisResources, stores.redis.uri());
    redisClient.setOptions(ClientOptions.builder()
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
    this.redis = redisClient.connect();
    this.ledger = JdbcCreditLedger.builder(pool).clock(s.clock)
        .statementTimeout(s.statementTimeout).expiryListener(expired::add).build();
    this.limiter = RedisRateLimiter.builder(redis).limits(s.limits).failurePolicy(s.failurePolicy)
        .timeout(REDIS_TIMEOUT).build();
    this.streamTokens = StreamTokenVerifier.builder().keys(KEYS)
        .replayStore(RedisReplayStore.builder(redis).keyPrefix(RedisReplayStore.STREAM_TOKEN_PREFIX)
            .timeout(REDIS_TIMEOUT).build())
        .build();
    this.client = LlmGatewayClient.builder().baseUrl(s.upstream).serviceToken("svc-token")
        .environment(n -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
    ChatGateway.Builder gateway = ChatGateway.builder().client(client).ledger(ledger).rateLimiter(limiter)
        .pricing(CreditPricing.flat(PRICE)).estimate(request -> PRICE)
        .streamTokens(StreamTokenIssuer.builder().keys(KEYS).serviceBaseUrl(s.upstream).environment(n -> null)
            .build())
        .webhooks(WebhookVerifier.builder().secret(SECRET)
            .idStore(RedisReplayStore.builder(redis).keyPrefix(RedisReplayStore.WEBHOOK_PREFIX)
                .timeout(REDIS_TIMEOUT).build())
            .build());
    if (s.settlementScheduler != null) {
      gateway.settlementScheduler(s.settlementScheduler);
    }
    this.gateway = gateway.build();
  }

  /**
   * Waits (bounded, generously) until this instance's Lettuce connection has reconnected to a
   * restarted Redis: until then its commands are refused at once.
   */
  void awaitRedisReconnected() {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!redis.isOpen() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    if (!redis.isOpen()) {
      throw new AssertionError("not reconnected to Redis within 30 s");
    }
  }

  /** Delivers a signed completion webhook to this instance, as the service would. */
  ChatGateway.WebhookOutcome deliver(String webhookId, byte[] body) {
    Map<String, String> headers = SIGNER.headers(webhookId, Instant.now(), body);
    return gateway.handleCompletionWebhook(headers::get, body);
  }

  /** A {@code chat.completed} webhook body for a request (CONTRACT section 5). */
  static byte[] completion(String requestId, String status, String userId) {
    return ("{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"" + requestId + "\","
        + "\"session_id\":\"sess_1\",\"message_id\":\"msg_1\",\"user_id\":\"" + userId + "\",\"company_id\":\"c1\","
        + "\"status\":\"" + status + "\",\"finish_reason\":\"stop\","
        + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000},"
        + "\"completed_at\":\"2026-11-20T10:05:00Z\"}}").getBytes(StandardCharsets.UTF_8);
  }

  /** Closes what a host closes on shutdown: gateway, ledger's reaper, SDK client, Redis, pool. */
  @Override
  public void close() {
    gateway.close();
    ledger.close();
    client.close();
    redis.close();
    redisClient.shutdown();
    redisResources.shutdown(0, 10, TimeUnit.SECONDS).awaitUninterruptibly(); // no quiet period
    pool.close();
  }
}
