package dev.llmgateway.redis;

import dev.llmgateway.TransportException;
import dev.llmgateway.auth.ReplayStore;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A {@link ReplayStore} shared by every host instance that uses the same Redis: {@link #markUsed}
 * is one {@code SET <prefix><id> 1 NX PXAT <expiresAt>}, atomic across instances, and the id
 * vanishes by itself at {@code expiresAt} (Redis 6.2 or later).
 *
 * <p><b>Keys.</b> Use one store per kind of id, each with its own prefix: {@link
 * #forStreamTokens} ({@link #STREAM_TOKEN_PREFIX}, for {@code StreamTokenVerifier}, which passes
 * the token's {@code exp} plus its leeway) and {@link #forWebhooks} ({@link #WEBHOOK_PREFIX}, for
 * {@code WebhookVerifier}, which passes the end of its duplicate window). {@code expiresAt} is
 * read by Redis's clock; keep the hosts' and Redis's clocks in step (NTP).
 *
 * <p><b>Failures: closed.</b> When Redis fails or does not answer within the {@linkplain
 * Builder#timeout timeout}, {@link #markUsed} throws a retryable {@link TransportException} and
 * never answers {@code true}: a stream token is refused ({@code ErrorMapper} answers {@code 503})
 * and a webhook should be answered with a retryable status ({@code 503}) so the service delivers it
 * again. Accepting a replay would be a breach; a refused first use is retried.
 *
 * <p>This class is thread-safe and holds no lock; a call blocks the calling thread for at most the
 * timeout. The connection is the host's: shared by every caller and never closed here.
 */
public final class RedisReplayStore implements ReplayStore {
  /** Default key prefix of stream-token ids ({@code jti}). */
  public static final String STREAM_TOKEN_PREFIX = "llm-gateway:jti:";
  /** Default key prefix of webhook ids ({@code webhook-id}). */
  public static final String WEBHOOK_PREFIX = "llm-gateway:webhook:";
  /** Default bound on waiting for Redis. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);

  private static final String MARK = "replay check";
  private static final String FORGET = "replay forget";

  private final RedisClusterAsyncCommands<String, String> redis;
  private final String keyPrefix;
  private final Duration timeout;

  private RedisReplayStore(Builder b) {
    this.redis = b.commands;
    this.keyPrefix = b.keyPrefix;
    this.timeout = b.timeout;
  }

  /**
   * Returns a store for stream-token ids under {@link #STREAM_TOKEN_PREFIX}.
   *
   * @param connection the host's connection; shared, never closed by the store
   * @return a new store
   */
  public static RedisReplayStore forStreamTokens(StatefulRedisConnection<String, String> connection) {
    return builder(connection).keyPrefix(STREAM_TOKEN_PREFIX).build();
  }

  /**
   * Returns a store for webhook ids under {@link #WEBHOOK_PREFIX}.
   *
   * @param connection the host's connection; shared, never closed by the store
   * @return a new store
   */
  public static RedisReplayStore forWebhooks(StatefulRedisConnection<String, String> connection) {
    return builder(connection).keyPrefix(WEBHOOK_PREFIX).build();
  }

  /**
   * Starts a builder; its prefix has no default (say which kind of id the store holds).
   *
   * @param connection the host's connection; shared, never closed by the store
   * @return a new builder
   */
  public static Builder builder(StatefulRedisConnection<String, String> connection) {
    return new Builder(Objects.requireNonNull(connection, "connection").async());
  }

  /**
   * Starts a builder for a Redis Cluster; its prefix has no default (say which kind of id the store
   * holds).
   *
   * @param connection the host's cluster connection; shared, never closed by the store
   * @return a new builder
   */
  public static Builder builder(StatefulRedisClusterConnection<String, String> connection) {
    return new Builder(Objects.requireNonNull(connection, "connection").async());
  }

  /**
   * Records the first use of {@code id} until {@code expiresAt}.
   *
   * @param id the id; never logged
   * @param expiresAt when Redis may forget it; an instant already past records nothing lasting
   * @return {@code true} if this is the first use seen by any instance, {@code false} if the id is
   *     recorded and has not expired
   * @throws TransportException (retryable) if Redis failed or did not answer in time; the id may or
   *     may not be recorded then
   */
  @Override
  public boolean markUsed(String id, Instant expiresAt) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(expiresAt, "expiresAt");
    SetArgs args = SetArgs.Builder.nx().pxAt(Math.max(1, expiresAt.toEpochMilli()));
    String reply = RedisCalls.await(redis.set(keyPrefix + id, "1", args), timeout, MARK);
    return "OK".equals(reply);
  }

  /**
   * Forgets {@code id}, so that its next use is a first use again.
   *
   * @param id the id; unknown ids are ignored
   * @throws TransportException (retryable) if Redis failed or did not answer in time
   */
  @Override
  public void forget(String id) {
    Objects.requireNonNull(id, "id");
    RedisCalls.await(redis.del(keyPrefix + id), timeout, FORGET);
  }

  @Override
  public String toString() {
    return "RedisReplayStore{keyPrefix=" + keyPrefix + ", timeout=" + timeout + "}";
  }

  /** Builds a {@link RedisReplayStore}. Not thread-safe. */
  public static final class Builder {
    private final RedisClusterAsyncCommands<String, String> commands;
    private String keyPrefix = "";
    private Duration timeout = DEFAULT_TIMEOUT;

    private Builder(RedisClusterAsyncCommands<String, String> commands) {
      this.commands = commands;
    }

    /**
     * Sets the prefix of every key; required. Use {@link #STREAM_TOKEN_PREFIX} or {@link
     * #WEBHOOK_PREFIX} (or your own per deployment), one per kind of id.
     *
     * @param keyPrefix not empty
     * @return this builder
     * @throws IllegalArgumentException if {@code keyPrefix} is empty
     */
    public Builder keyPrefix(String keyPrefix) {
      this.keyPrefix = RedisCalls.checkPrefix(keyPrefix);
      return this;
    }

    /**
     * Sets how long a call waits for Redis. Default {@link #DEFAULT_TIMEOUT}.
     *
     * @param timeout positive
     * @return this builder
     * @throws IllegalArgumentException if {@code timeout} is not positive
     */
    public Builder timeout(Duration timeout) {
      this.timeout = RedisCalls.checkTimeout(timeout);
      return this;
    }

    /**
     * Builds the store. Sends nothing to Redis.
     *
     * @return a new store
     * @throws IllegalStateException if no key prefix was set
     */
    public RedisReplayStore build() {
      if (keyPrefix.isEmpty()) {
        throw new IllegalStateException("keyPrefix is required: one per kind of id");
      }
      return new RedisReplayStore(this);
    }
  }
}
