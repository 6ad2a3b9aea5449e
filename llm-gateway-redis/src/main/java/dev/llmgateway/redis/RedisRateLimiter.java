package dev.llmgateway.redis;

import dev.llmgateway.Operation;
import dev.llmgateway.Ticker;
import dev.llmgateway.TransportException;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.host.internal.Keys;
import dev.llmgateway.host.internal.NamespacedLimits;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * <p><b>Several keys, all or nothing.</b> A call counted against several keys ({@link
 * #tryAcquireAll}, e.g. {@code user:123} and {@code ip:192.0.2.1}) is decided by one script over
 * every bucket of every key, in one round trip: the script checks all of them first and writes
 * none unless all allow the call, so a call refused by one key takes nothing from the others. The
 * refusal names the limit with the longest wait over all the keys, as {@link
 * InMemoryRateLimiter#tryAcquireAll} does.
 *
 * <p><b>Namespaces.</b> {@link Builder#limits(String, RateLimits)} gives the keys of one namespace
 * (a prefix ending with {@code :}, such as {@code ip:}; see {@link dev.llmgateway.host.RateLimitKeys})
 * their own limits, as {@link InMemoryRateLimiter.Builder#limits(String, RateLimits)} does: a key
 * takes the limits of the longest namespace it starts with, else {@link Builder#limits(RateLimits)}.
 *
 * <p><b>Redis Cluster.</b> A script may only touch keys of one hash slot, and the buckets of
 * different keys (different users, an address) usually lie in different slots. On a cluster
 * connection a call whose keys all lie in one slot is still one script; otherwise this limiter
 * decides key by key, one script per key in the given order, stopping at the first refusal (the
 * semantics of {@link RateLimiter#tryAcquireAll}'s default): each key's decision is exact and
 * atomic, but <b>not all or nothing</b> across keys, since a refusal by a later key leaves the
 * permits of the earlier keys taken. List the key most likely to refuse first, or use a standalone
 * (or Sentinel, or master/replica) connection where every guarantee above holds.
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
  /** The script's arguments by namespace. */
  private final NamespacedLimits<Args> byNamespace;
  private final boolean cluster;
  private final String keyPrefix;
  private final Duration timeout;
  private final FailurePolicy failurePolicy;
  private final Ticker ticker;
  private final long warnIntervalNanos;
  private final String sha;
  private final AtomicLong failOpen = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong unlogged = new AtomicLong();
  private final AtomicLong nextWarn;

  private RedisRateLimiter(Builder b) {
    this.redis = b.commands;
    this.cluster = b.cluster;
    this.byNamespace = new NamespacedLimits<>(b.limits, b.namespaceLimits, Args::new);
    this.keyPrefix = b.keyPrefix;
    this.timeout = b.timeout;
    this.failurePolicy = b.failurePolicy;
    this.ticker = b.ticker;
    this.warnIntervalNanos = b.warnInterval.toNanos();
    this.nextWarn = new AtomicLong(ticker.read());
    this.sha = redis.digest(SCRIPT);
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
    return new Builder(Objects.requireNonNull(connection, "connection").async(), false);
  }

  /**
   * Starts a builder for a Redis Cluster, holding the defaults ({@link RateLimits#ofDefaults()}).
   * A key's two buckets share a hash tag, so each decision runs on one node; a call counted
   * against keys in different slots is decided key by key, not all or nothing (see the class
   * documentation).
   *
   * @param connection the host's cluster connection; shared, never closed by the limiter
   * @return a new builder
   */
  public static Builder builder(StatefulRedisClusterConnection<String, String> connection) {
    return new Builder(Objects.requireNonNull(connection, "connection").async(), true);
  }

  /**
   * Returns the limits this limiter applies to keys of no namespace given its own.
   *
   * @return the limits
   */
  public RateLimits limits() {
    return byNamespace.limits();
  }

  /**
   * Returns the limits of the namespaces given their own ({@link Builder#limits(String,
   * RateLimits)}).
   *
   * @return an unmodifiable map from namespace (e.g. {@code ip:}) to its limits
   */
  public Map<String, RateLimits> namespaceLimits() {
    return byNamespace.namespaceLimits();
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
    return tryAcquireAllAsync(List.of(key), operation);
  }

  /**
   * Decides one call counted against every key in {@code keys}, all or nothing, waiting at most
   * about the {@linkplain Builder#timeout timeout} for Redis (then the failure policy decides and
   * the command is cancelled, so it never runs later). One script, one round trip: every bucket
   * of every key is checked before any is written, and none is written unless all allow the call.
   * On a Redis Cluster connection, keys in different hash slots are decided key by key instead
   * (see the class documentation).
   *
   * @param keys whom to count the call against; duplicates count once; empty allows the call
   * @param operation the call; {@link Operation#CHAT_STREAM} also counts as a stream start
   * @return the decision; a refusal names the limit with the longest wait over all keys and took
   *     nothing; under {@link FailurePolicy#FAIL_OPEN} an allowing one when Redis failed
   * @throws TransportException (retryable) under {@link FailurePolicy#FAIL_CLOSED} when Redis
   *     failed or did not answer in time
   * @throws NullPointerException if {@code keys}, a key or {@code operation} is null
   */
  @Override
  public Decision tryAcquireAll(List<String> keys, Operation operation) {
    return RedisCalls.await(tryAcquireAllAsync(keys, operation), timeout.multipliedBy(2).plusSeconds(1), WHAT);
  }

  /**
   * Decides one call counted against every key in {@code keys} without blocking, as {@link
   * #tryAcquireAll} does. The stage completes on Lettuce's I/O thread (or, after the {@linkplain
   * Builder#timeout timeout}, on the JDK's timer thread): do not block in what is chained on it.
   *
   * @param keys whom to count the call against; duplicates count once; empty allows the call
   * @param operation the call; {@link Operation#CHAT_STREAM} also counts as a stream start
   * @return the decision; under {@link FailurePolicy#FAIL_OPEN} an allowing one when Redis failed;
   *     under {@link FailurePolicy#FAIL_CLOSED} it completes exceptionally with a retryable {@link
   *     TransportException} when Redis failed or did not answer in time
   * @throws NullPointerException if {@code keys}, a key or {@code operation} is null
   */
  public CompletionStage<Decision> tryAcquireAllAsync(List<String> keys, Operation operation) {
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(operation, "operation");
    List<String> distinct = Keys.distinct(keys);
    boolean stream = RateLimits.isStreamStart(operation);
    int n = distinct.size();
    // Per key: the index of its calls bucket and of its stream bucket in the script's KEYS, or -1.
    int[] callsAt = new int[n];
    int[] streamsAt = new int[n];
    List<String> bucketKeys = new ArrayList<>(2 * n);
    List<String> args = new ArrayList<>(4 * n);
    for (int k = 0; k < n; k++) {
      String key = distinct.get(k);
      Args a = byNamespace.forKey(key);
      String tag = keyPrefix + "{" + key + "}:";
      callsAt[k] = a.calls == null ? -1 : add(bucketKeys, args, tag + RateLimits.CALLS, a.calls);
      String[] streams = a.streams;
      streamsAt[k] = stream && streams != null ? add(bucketKeys, args, tag + RateLimits.STREAM_STARTS, streams) : -1;
    }
    if (bucketKeys.isEmpty()) {
      return CompletableFuture.completedFuture(Decision.allow());
    }
    if (cluster && n > 1 && !oneSlot(bucketKeys)) {
      return oneByOne(distinct, 0, operation);
    }
    String[] keyArray = bucketKeys.toArray(new String[0]);
    String[] argArray = args.toArray(new String[0]);
    // The command in flight, cancelled when the decision fails: a script that timed out while
    // Lettuce was reconnecting must not run later and take a permit for a call already decided.
    AtomicReference<CompletableFuture<List<Object>>> inFlight = new AtomicReference<>();
    CompletableFuture<List<Object>> first =
        redis.<List<Object>>evalsha(sha, ScriptOutputType.MULTI, keyArray, argArray).toCompletableFuture();
    inFlight.set(first);
    return first
        .exceptionallyCompose(error -> {
          if (!(RedisCalls.unwrap(error) instanceof RedisNoScriptException)) {
            return CompletableFuture.failedFuture(error);
          }
          CompletableFuture<List<Object>> again =
              redis.<List<Object>>eval(SCRIPT, ScriptOutputType.MULTI, keyArray, argArray).toCompletableFuture();
          inFlight.set(again);
          return again;
        })
        .thenApply(reply -> decision(reply, callsAt, streamsAt))
        .orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
        .exceptionally(e -> {
          CompletableFuture<List<Object>> command = inFlight.get();
          if (command != null) {
            command.cancel(false);
          }
          return failed(RedisCalls.failure(WHAT, timeout, e));
        });
  }

  /** Cluster, keys in several slots: one script per key, from {@code from}, up to the first refusal. */
  private CompletionStage<Decision> oneByOne(List<String> keys, int from, Operation operation) {
    if (from == keys.size()) {
      return CompletableFuture.completedFuture(Decision.allow());
    }
    return tryAcquireAllAsync(List.of(keys.get(from)), operation)
        .thenCompose(d -> d.allowed() ? oneByOne(keys, from + 1, operation) : CompletableFuture.completedFuture(d));
  }

  private static boolean oneSlot(List<String> bucketKeys) {
    int slot = SlotHash.getSlot(bucketKeys.get(0));
    for (int i = 1; i < bucketKeys.size(); i++) {
      if (SlotHash.getSlot(bucketKeys.get(i)) != slot) {
        return false;
      }
    }
    return true;
  }

  private static int add(List<String> bucketKeys, List<String> args, String bucketKey, String[] bucketArgs) {
    bucketKeys.add(bucketKey);
    args.add(bucketArgs[0]);
    args.add(bucketArgs[1]);
    return bucketKeys.size() - 1;
  }

  @Override
  public String toString() {
    return "RedisRateLimiter{" + byNamespace + ", keyPrefix=" + keyPrefix + ", failurePolicy=" + failurePolicy + "}";
  }

  /**
   * The decision from the script's reply ({@code allowed}, then each bucket's wait in µs): per key
   * as {@link InMemoryRateLimiter} decides (stream starts on a tie), then the longest wait over the
   * keys (the first such key on a tie).
   */
  private static Decision decision(List<Object> reply, int[] callsAt, int[] streamsAt) {
    if (number(reply, 0) == 1) {
      return Decision.allow();
    }
    @Nullable Decision worst = null;
    for (int k = 0; k < callsAt.length; k++) {
      long callsWait = callsAt[k] < 0 ? 0 : number(reply, callsAt[k] + 1);
      long streamsWait = streamsAt[k] < 0 ? 0 : number(reply, streamsAt[k] + 1);
      worst = NamespacedLimits.longer(worst,
          NamespacedLimits.refusal(Math.multiplyExact(callsWait, 1000L), Math.multiplyExact(streamsWait, 1000L)));
    }
    if (worst == null) {
      throw new IllegalStateException("unexpected reply from the rate limit script: " + reply);
    }
    return worst;
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

  /** The script's arguments for the buckets of one {@link RateLimits}. */
  private static final class Args {
    final String @Nullable [] calls;
    final String @Nullable [] streams;

    Args(RateLimits limits) {
      RateLimit callLimit = limits.calls();
      RateLimit streamLimit = limits.streamStarts();
      this.calls = callLimit == null ? null : args(callLimit);
      this.streams = streamLimit == null ? null : args(streamLimit);
    }
  }

  private static String[] args(RateLimit limit) {
    long intervalMicros = Math.max(1, limit.period().toNanos() / limit.permits() / 1000);
    long tolerance = Math.multiplyExact(intervalMicros, (long) limit.burst() - 1);
    return new String[] {Long.toString(intervalMicros), Long.toString(tolerance)};
  }

  /** Builds a {@link RedisRateLimiter}. Not thread-safe. */
  public static final class Builder {
    private final RedisClusterAsyncCommands<String, String> commands;
    private final boolean cluster;
    private RateLimits limits = RateLimits.ofDefaults();
    private final Map<String, RateLimits> namespaceLimits = new LinkedHashMap<>();
    private String keyPrefix = DEFAULT_KEY_PREFIX;
    private Duration timeout = DEFAULT_TIMEOUT;
    private FailurePolicy failurePolicy = DEFAULT_FAILURE_POLICY;
    private Duration warnInterval = DEFAULT_WARN_INTERVAL;
    private Ticker ticker = Ticker.system();

    private Builder(RedisClusterAsyncCommands<String, String> commands, boolean cluster) {
      this.commands = commands;
      this.cluster = cluster;
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
     * Sets other limits for the keys of one namespace, e.g. stream starts per client address
     * ({@link dev.llmgateway.host.RateLimitKeys#CLIENT_ADDRESS}) or calls per company ({@link
     * dev.llmgateway.host.RateLimitKeys#COMPANY}), as {@link InMemoryRateLimiter.Builder#limits(String,
     * RateLimits)} does. A key takes the limits of the longest namespace it starts with, else those
     * of {@link #limits(RateLimits)}. Setting a namespace again replaces its limits.
     *
     * @param namespace the keys' prefix, ending with {@code :}
     * @param limits the limits of its keys
     * @return this builder
     * @throws IllegalArgumentException if {@code namespace} is only {@code :} or does not end with one
     */
    public Builder limits(String namespace, RateLimits limits) {
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(limits, "limits");
      namespaceLimits.put(NamespacedLimits.checkNamespace(namespace), limits);
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
