package dev.llmgateway.redis;

import dev.llmgateway.Operation;
import dev.llmgateway.Ticker;
import dev.llmgateway.TransportException;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.RateLimits;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RateLimiter} shared by every host instance that uses the same Redis: the token buckets
 * of {@link InMemoryRateLimiter} (the generic cell rate algorithm, same {@link RateLimits}, same
 * burst, same choice of refusing limit and same {@code Retry-After}) kept in Redis.
 *
 * <p><b>One round trip per decision.</b> Each decision is one Lua script, run atomically by Redis
 * ({@code EVALSHA}, falling back to {@code EVAL} when Redis answers {@code NOSCRIPT}, e.g. after a
 * restart). The script reads the clock with {@code TIME}, so instances whose clocks disagree still
 * agree on every bucket. Buckets are kept in microseconds of Redis server time (an interval shorter
 * than 1 µs counts as 1 µs).
 *
 * <p><b>Keys.</b> A key's buckets are {@code <prefix>{<key>}:calls} and {@code
 * <prefix>{<key>}:stream_starts} (prefix default {@link #DEFAULT_KEY_PREFIX}); the braces are a
 * Redis Cluster hash tag, so a key's two buckets live on one node. Each bucket key expires when the
 * bucket is full again (a full bucket and a missing key decide alike), so idle keys vanish.
 *
 * <p><b>Failures.</b> When Redis fails or does not answer within the {@linkplain
 * Builder#timeout timeout}, the {@link FailurePolicy} decides. The default is {@link
 * FailurePolicy#FAIL_OPEN}: a rate limit smooths load and stops abuse, while what a call costs is
 * bounded by the credit ledger, which fails closed on its own; refusing every call because Redis is
 * down would turn a Redis outage into a full outage. Each call let through that way is counted
 * ({@link #failOpenCount()}) and logged at WARN, at most one line per {@linkplain
 * Builder#warnInterval warn interval} (the line counts the ones not logged). Under {@link
 * FailurePolicy#FAIL_CLOSED} the call is refused with a retryable {@link TransportException}, which
 * {@code ErrorMapper} answers with {@code 503}.
 *
 * <p><b>Threads.</b> This class is thread-safe and holds no lock. {@link #tryAcquireAsync} never
 * blocks; {@link #tryAcquire} blocks the calling thread for at most the timeout. Lettuce's
 * connection is shared by every caller (commands are pipelined on it); this class never closes it.
 */
public final class RedisRateLimiter implements RateLimiter {
  /** Default prefix of every key this limiter writes. */
  public static final String DEFAULT_KEY_PREFIX = "llm-gateway:rl:";
  /** Default bound on waiting for Redis in {@link #tryAcquire}. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
  /** Default least time between two WARN lines about decisions made without Redis. */
  public static final Duration DEFAULT_WARN_INTERVAL = Duration.ofSeconds(10);
  /** Default failure policy: {@link FailurePolicy#FAIL_OPEN}. */
  public static final FailurePolicy DEFAULT_FAILURE_POLICY = FailurePolicy.FAIL_OPEN;

  private static final Logger LOG = LoggerFactory.getLogger(RedisRateLimiter.class);
  private static final String WHAT = "rate limit decision";

  /**
   * KEYS: the buckets; ARGV: per bucket its interval and tolerance in microseconds. Returns 1 and
   * takes a permit from every bucket when none has to wait, else 0 and takes nothing; then each
   * bucket's wait in microseconds.
   */
  static final String SCRIPT = """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
      local n = #KEYS
      local tats = {}
      local waits = {}
      local allowed = 1
      for i = 1, n do
        local tat = tonumber(redis.call('GET', KEYS[i]) or now) or now
        if tat < now then tat = now end
        local wait = tat - now - tonumber(ARGV[2 * i])
        if wait > 0 then allowed = 0 else wait = 0 end
        waits[i] = wait
        tats[i] = tat + tonumber(ARGV[2 * i - 1])
      end
      if allowed == 1 then
        for i = 1, n do
          local ttl = math.ceil((tats[i] - now) / 1000)
          redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', ttl)
        end
      end
      local out = {allowed}
      for i = 1, n do out[i + 1] = waits[i] end
      return out
      """;

  /** What to do when Redis cannot decide. */
  public enum FailurePolicy {
    /** Let the call through, count it and log it at WARN (rate-limited). */
    FAIL_OPEN,
    /** Refuse the call with a retryable {@link TransportException} ({@code 503}). */
    FAIL_CLOSED
  }

  private final RedisClusterAsyncCommands<String, String> redis;
  private final RateLimits limits;
  private final String keyPrefix;
  private final Duration timeout;
  private final FailurePolicy failurePolicy;
  private final Ticker ticker;
  private final long warnIntervalNanos;
  private final String sha;
  private final String @Nullable [] callArgs;
  private final String @Nullable [] streamArgs;
  private final AtomicLong failOpen = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong unlogged = new AtomicLong();
  private final AtomicLong nextWarn;

  private RedisRateLimiter(Builder b) {
    this.redis = b.commands;
    this.limits = b.limits;
    this.keyPrefix = b.keyPrefix;
    this.timeout = b.timeout;
    this.failurePolicy = b.failurePolicy;
    this.ticker = b.ticker;
    this.warnIntervalNanos = b.warnInterval.toNanos();
    this.nextWarn = new AtomicLong(ticker.read());
    this.sha = redis.digest(SCRIPT);
    RateLimit calls = limits.calls();
    RateLimit streams = limits.streamStarts();
    this.callArgs = calls == null ? null : args(calls);
    this.streamArgs = streams == null ? null : args(streams);
  }

  /**
   * Returns a limiter applying {@code limits} with the default settings.
   *
   * @param connection the host's connection; shared, never closed by the limiter
   * @param limits the limits
   * @return a new limiter
   */
  public static RedisRateLimiter create(StatefulRedisConnection<String, String> connection, RateLimits limits) {
    return builder(connection).limits(limits).build();
  }

  /**
   * Starts a builder holding the defaults ({@link RateLimits#ofDefaults()}).
   *
   * @param connection the host's connection; shared, never closed by the limiter
   * @return a new builder
   */
  public static Builder builder(StatefulRedisConnection<String, String> connection) {
    return new Builder(Objects.requireNonNull(connection, "connection").async());
  }

  /**
   * Starts a builder for a Redis Cluster, holding the defaults ({@link RateLimits#ofDefaults()}).
   * A key's two buckets share a hash tag, so each decision runs on one node.
   *
   * @param connection the host's cluster connection; shared, never closed by the limiter
   * @return a new builder
   */
  public static Builder builder(StatefulRedisClusterConnection<String, String> connection) {
    return new Builder(Objects.requireNonNull(connection, "connection").async());
  }

  /**
   * Returns the limits this limiter applies.
   *
   * @return the limits
   */
  public RateLimits limits() {
    return limits;
  }

  /**
   * Returns the failure policy.
   *
   * @return the policy
   */
  public FailurePolicy failurePolicy() {
    return failurePolicy;
  }

  /**
   * Returns how many calls were let through without a decision because Redis failed (only under
   * {@link FailurePolicy#FAIL_OPEN}). Thread-safe; export it as a metric.
   *
   * @return the count since this limiter was built
   */
  public long failOpenCount() {
    return failOpen.get();
  }

  /**
   * Returns how many decisions failed because Redis failed or did not answer in time, under either
   * policy. Thread-safe.
   *
   * @return the count since this limiter was built
   */
  public long failureCount() {
    return failures.get();
  }

  /**
   * Decides one call, waiting at most about the {@linkplain Builder#timeout timeout} for Redis
   * (then the failure policy decides and the command is cancelled, so it never runs later).
   *
   * @param key whom to count the call against; any string
   * @param operation the call; {@link Operation#CHAT_STREAM} also counts as a stream start
   * @return the decision; under {@link FailurePolicy#FAIL_OPEN} an allowing one when Redis failed
   * @throws TransportException (retryable) under {@link FailurePolicy#FAIL_CLOSED} when Redis
   *     failed or did not answer in time
   */
  @Override
  public Decision tryAcquire(String key, Operation operation) {
    // The stage is bounded by the timeout itself; the wait's own bound is only a safety net.
    return RedisCalls.await(tryAcquireAsync(key, operation), timeout.multipliedBy(2).plusSeconds(1), WHAT);
  }

  /**
   * Decides one call without blocking. The stage completes on Lettuce's I/O thread (or, after the
   * {@linkplain Builder#timeout timeout}, on the JDK's timer thread): do not block in what is
   * chained on it. The failure policy applies as in {@link #tryAcquire}.
   *
   * @param key whom to count the call against; any string
   * @param operation the call; {@link Operation#CHAT_STREAM} also counts as a stream start
   * @return the decision; under {@link FailurePolicy#FAIL_OPEN} an allowing one when Redis failed;
   *     under {@link FailurePolicy#FAIL_CLOSED} it completes exceptionally with a retryable {@link
   *     TransportException} when Redis failed or did not answer in time
   */
  public CompletionStage<Decision> tryAcquireAsync(String key, Operation operation) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(operation, "operation");
    String @Nullable [] streams = RateLimits.isStreamStart(operation) ? streamArgs : null;
    String @Nullable [] calls = callArgs;
    if (calls == null && streams == null) {
      return CompletableFuture.completedFuture(Decision.allow());
    }
    boolean both = calls != null && streams != null;
    String[] keys = new String[both ? 2 : 1];
    String[] args = new String[both ? 4 : 2];
    int i = 0;
    String tag = keyPrefix + "{" + key + "}:";
    if (calls != null) {
      keys[0] = tag + RateLimits.CALLS;
      args[0] = calls[0];
      args[1] = calls[1];
      i = 1;
    }
    if (streams != null) {
      keys[i] = tag + RateLimits.STREAM_STARTS;
      args[2 * i] = streams[0];
      args[2 * i + 1] = streams[1];
    }
    boolean hasCalls = calls != null;
    boolean hasStreams = streams != null;
    // The command in flight, cancelled when the decision fails: a script that timed out while
    // Lettuce was reconnecting must not run later and take a permit for a call already decided.
    AtomicReference<CompletableFuture<List<Object>>> inFlight = new AtomicReference<>();
    CompletableFuture<List<Object>> first =
        redis.<List<Object>>evalsha(sha, ScriptOutputType.MULTI, keys, args).toCompletableFuture();
    inFlight.set(first);
    return first
        .exceptionallyCompose(error -> {
          if (!(RedisCalls.unwrap(error) instanceof RedisNoScriptException)) {
            return CompletableFuture.failedFuture(error);
          }
          CompletableFuture<List<Object>> again =
              redis.<List<Object>>eval(SCRIPT, ScriptOutputType.MULTI, keys, args).toCompletableFuture();
          inFlight.set(again);
          return again;
        })
        .thenApply(reply -> decision(reply, hasCalls, hasStreams))
        .orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
        .exceptionally(e -> {
          CompletableFuture<List<Object>> command = inFlight.get();
          if (command != null) {
            command.cancel(false);
          }
          return failed(RedisCalls.failure(WHAT, timeout, e));
        });
  }

  @Override
  public String toString() {
    return "RedisRateLimiter{" + limits + ", keyPrefix=" + keyPrefix + ", failurePolicy=" + failurePolicy + "}";
  }

  private static Decision decision(List<Object> reply, boolean hasCalls, boolean hasStreams) {
    if (number(reply, 0) == 1) {
      return Decision.allow();
    }
    long callsWait = hasCalls ? number(reply, 1) : 0;
    long streamsWait = hasStreams ? number(reply, hasCalls ? 2 : 1) : 0;
    return streamsWait >= callsWait
        ? Decision.deny(RateLimits.STREAM_STARTS, Duration.ofNanos(Math.multiplyExact(streamsWait, 1000L)))
        : Decision.deny(RateLimits.CALLS, Duration.ofNanos(Math.multiplyExact(callsWait, 1000L)));
  }

  private static long number(List<Object> reply, int index) {
    if (reply.size() <= index || !(reply.get(index) instanceof Long)) {
      throw new IllegalStateException("unexpected reply from the rate limit script: " + reply);
    }
    return (Long) reply.get(index);
  }

  private Decision failed(TransportException e) {
    failures.incrementAndGet();
    if (failurePolicy == FailurePolicy.FAIL_CLOSED) {
      throw e;
    }
    failOpen.incrementAndGet();
    long now = ticker.read();
    long due = nextWarn.get();
    if (now - due >= 0 && nextWarn.compareAndSet(due, now + warnIntervalNanos)) {
      long skipped = unlogged.getAndSet(0);
      LOG.warn("Rate limit not applied: {} (calls let through without a decision: {} in all, {} since the last"
          + " line)", e.getMessage(), failOpen.get(), skipped + 1);
    } else {
      unlogged.incrementAndGet();
    }
    return Decision.allow();
  }

  private static String[] args(RateLimit limit) {
    long intervalMicros = Math.max(1, limit.period().toNanos() / limit.permits() / 1000);
    long tolerance = Math.multiplyExact(intervalMicros, (long) limit.burst() - 1);
    return new String[] {Long.toString(intervalMicros), Long.toString(tolerance)};
  }

  /** Builds a {@link RedisRateLimiter}. Not thread-safe. */
  public static final class Builder {
    private final RedisClusterAsyncCommands<String, String> commands;
    private RateLimits limits = RateLimits.ofDefaults();
    private String keyPrefix = DEFAULT_KEY_PREFIX;
    private Duration timeout = DEFAULT_TIMEOUT;
    private FailurePolicy failurePolicy = DEFAULT_FAILURE_POLICY;
    private Duration warnInterval = DEFAULT_WARN_INTERVAL;
    private Ticker ticker = Ticker.system();

    private Builder(RedisClusterAsyncCommands<String, String> commands) {
      this.commands = commands;
    }

    /**
     * Sets the limits. Default {@link RateLimits#ofDefaults()}.
     *
     * @param limits the limits
     * @return this builder
     */
    public Builder limits(RateLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /**
     * Sets the prefix of every key. Default {@link #DEFAULT_KEY_PREFIX}; give each deployment
     * sharing one Redis its own.
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
     * Sets how long {@link #tryAcquire} waits for Redis before the failure policy decides. Default
     * {@link #DEFAULT_TIMEOUT}.
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
     * Sets what happens when Redis cannot decide. Default {@link #DEFAULT_FAILURE_POLICY}.
     *
     * @param failurePolicy the policy
     * @return this builder
     */
    public Builder failurePolicy(FailurePolicy failurePolicy) {
      this.failurePolicy = Objects.requireNonNull(failurePolicy, "failurePolicy");
      return this;
    }

    /**
     * Sets the least time between two WARN lines about calls let through without Redis. Default
     * {@link #DEFAULT_WARN_INTERVAL}.
     *
     * @param warnInterval not negative; zero logs every such call
     * @return this builder
     * @throws IllegalArgumentException if {@code warnInterval} is negative
     */
    public Builder warnInterval(Duration warnInterval) {
      Objects.requireNonNull(warnInterval, "warnInterval");
      if (warnInterval.isNegative()) {
        throw new IllegalArgumentException("warnInterval must not be negative: " + warnInterval);
      }
      this.warnInterval = warnInterval;
      return this;
    }

    /**
     * Sets the time source of the WARN interval (Redis's own clock decides the buckets).
     *
     * @param ticker a monotonic nanosecond source; a fake one in tests
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Builds the limiter. Sends nothing to Redis.
     *
     * @return a new limiter
     */
    public RedisRateLimiter build() {
      return new RedisRateLimiter(this);
    }
  }
}
