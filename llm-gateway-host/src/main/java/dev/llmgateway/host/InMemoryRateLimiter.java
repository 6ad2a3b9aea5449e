package dev.llmgateway.host;

import dev.llmgateway.Operation;
import dev.llmgateway.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RateLimiter} in this JVM's memory applying {@link RateLimits} with token buckets, one
 * pair per key.
 *
 * <p>This class is thread-safe and takes no lock on the hot path. Each bucket is kept as its
 * "theoretical arrival time" (the generic cell rate algorithm, exact in integer nanoseconds of the
 * {@link Ticker}); a key's buckets are one immutable value swapped by compare-and-set, so a stream
 * start takes a permit from both of its buckets or from neither.
 *
 * <p><b>Memory.</b> At most about {@code maxKeys} keys are held. A bucket that has refilled
 * completely behaves exactly like a new one, so it can be dropped without changing any decision:
 * {@link #evictIdle()} does so, and runs by itself whenever a new key would exceed {@code
 * maxKeys}. If more than {@code maxKeys} keys are all active at once, the ones closest to full are
 * dropped too, which grants them a fresh burst: raise {@code maxKeys} above the number of users
 * active within one refill period.
 */
public final class InMemoryRateLimiter implements RateLimiter {
  /** Default bound on the number of keys held. */
  public static final int DEFAULT_MAX_KEYS = 100_000;

  private static final State FRESH = new State(Long.MIN_VALUE, Long.MIN_VALUE);
  /** Marks a bucket pair being dropped; compared by identity. */
  private static final State EVICTED = new State(Long.MIN_VALUE, Long.MIN_VALUE);

  private final RateLimits limits;
  private final Ticker ticker;
  private final int maxKeys;
  private final @Nullable Bucket calls;
  private final @Nullable Bucket streamStarts;
  private final ConcurrentHashMap<String, AtomicReference<State>> buckets = new ConcurrentHashMap<>();
  private final Object sweepLock = new Object();

  private InMemoryRateLimiter(Builder b) {
    this.limits = b.limits;
    this.ticker = b.ticker;
    this.maxKeys = b.maxKeys;
    RateLimit callLimit = limits.calls();
    RateLimit streamLimit = limits.streamStarts();
    this.calls = callLimit == null ? null : new Bucket(callLimit);
    this.streamStarts = streamLimit == null ? null : new Bucket(streamLimit);
  }

  /**
   * Returns a limiter applying {@link RateLimits#ofDefaults()} on the system ticker.
   *
   * @return a new limiter
   */
  public static InMemoryRateLimiter create() {
    return builder().build();
  }

  /**
   * Returns a limiter applying {@code limits} on the system ticker.
   *
   * @param limits the limits
   * @return a new limiter
   */
  public static InMemoryRateLimiter create(RateLimits limits) {
    return builder().limits(limits).build();
  }

  /**
   * Starts a builder holding the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the limits this limiter applies.
   *
   * @return the limits
   */
  public RateLimits limits() {
    return limits;
  }

  @Override
  public Decision tryAcquire(String key, Operation operation) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(operation, "operation");
    Bucket callBucket = calls;
    Bucket streamBucket = RateLimits.isStreamStart(operation) ? streamStarts : null;
    if (callBucket == null && streamBucket == null) {
      return Decision.allow();
    }
    while (true) {
      AtomicReference<State> ref = slot(key);
      State state;
      while ((state = current(ref)) != EVICTED) {
        long now = ticker.read();
        long callsTat = state.callsTat;
        long streamsTat = state.streamsTat;
        long callsWait = 0;
        long streamsWait = 0;
        if (callBucket != null) {
          long tat = Math.max(state.callsTat, now);
          callsWait = callBucket.wait(tat, now);
          callsTat = tat + callBucket.interval;
        }
        if (streamBucket != null) {
          long tat = Math.max(state.streamsTat, now);
          streamsWait = streamBucket.wait(tat, now);
          streamsTat = tat + streamBucket.interval;
        }
        if (callsWait > 0 || streamsWait > 0) {
          return streamsWait >= callsWait
              ? Decision.deny(RateLimits.STREAM_STARTS, Duration.ofNanos(streamsWait))
              : Decision.deny(RateLimits.CALLS, Duration.ofNanos(callsWait));
        }
        if (ref.compareAndSet(state, new State(callsTat, streamsTat))) {
          return Decision.allow();
        }
      }
      buckets.remove(key, ref); // dropped by eviction just now: help remove it, then start afresh
    }
  }

  /**
   * Drops every key whose buckets have refilled completely; such a key's next call is decided
   * exactly as if it had been kept. Safe to call from any thread at any time, e.g. on a schedule.
   *
   * @return the number of keys dropped
   */
  public int evictIdle() {
    long now = ticker.read();
    int dropped = 0;
    for (Map.Entry<String, AtomicReference<State>> entry : buckets.entrySet()) {
      State state = current(entry.getValue());
      if (state != EVICTED && untilFull(state, now) <= 0 && drop(entry, state)) {
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * Returns the number of keys held.
   *
   * @return the count, idle keys not yet dropped included
   */
  public int size() {
    return buckets.size();
  }

  @Override
  public String toString() {
    return "InMemoryRateLimiter{" + limits + ", keys=" + buckets.size() + ", maxKeys=" + maxKeys + "}";
  }

  private AtomicReference<State> slot(String key) {
    AtomicReference<State> ref = buckets.get(key);
    if (ref != null) {
      return ref;
    }
    if (buckets.size() >= maxKeys) {
      makeRoom();
    }
    return buckets.computeIfAbsent(key, k -> new AtomicReference<>(FRESH));
  }

  /** A key's state: never null (a slot starts {@link #FRESH} and is only ever swapped). */
  private static State current(AtomicReference<State> ref) {
    return Objects.requireNonNull(ref.get());
  }

  /** Nanoseconds until both buckets of {@code state} are full again; 0 when they are. */
  private long untilFull(State state, long now) {
    long until = 0;
    if (calls != null && state.callsTat > now) {
      until = state.callsTat - now;
    }
    if (streamStarts != null && state.streamsTat > now) {
      until = Math.max(until, state.streamsTat - now);
    }
    return until;
  }

  private boolean drop(Map.Entry<String, AtomicReference<State>> entry, State seen) {
    AtomicReference<State> ref = entry.getValue();
    if (!ref.compareAndSet(seen, EVICTED)) {
      return false; // used meanwhile: keep it
    }
    buckets.remove(entry.getKey(), ref);
    return true;
  }

  private void makeRoom() {
    synchronized (sweepLock) {
      if (buckets.size() < maxKeys) {
        return;
      }
      evictIdle();
      if (buckets.size() < maxKeys) {
        return;
      }
      long now = ticker.read();
      List<Candidate> live = new ArrayList<>(buckets.size());
      for (Map.Entry<String, AtomicReference<State>> entry : buckets.entrySet()) {
        State state = current(entry.getValue());
        if (state != EVICTED) {
          live.add(new Candidate(entry, state, untilFull(state, now)));
        }
      }
      live.sort((a, b) -> Long.compare(a.untilFull, b.untilFull));
      // Drop a tenth at once so that a full limiter does not sort on every new key.
      int drop = Math.max(1, buckets.size() - maxKeys + 1 + maxKeys / 10);
      for (int i = 0; i < drop && i < live.size(); i++) {
        drop(live.get(i).entry, live.get(i).state);
      }
    }
  }

  private record Candidate(Map.Entry<String, AtomicReference<State>> entry, State state, long untilFull) {}

  /**
   * The theoretical arrival times of a key's two buckets, in ticker nanoseconds: a bucket is full
   * when its time is not after now, and each permit taken moves it one interval later. A class,
   * not a record: states are compared by identity, and {@link #EVICTED} holds the same times as
   * {@link #FRESH}.
   */
  private static final class State {
    final long callsTat;
    final long streamsTat;

    State(long callsTat, long streamsTat) {
      this.callsTat = callsTat;
      this.streamsTat = streamsTat;
    }
  }

  /** One limit as GCRA parameters. */
  private static final class Bucket {
    final long interval;
    final long tolerance;

    Bucket(RateLimit limit) {
      this.interval = limit.period().toNanos() / limit.permits();
      this.tolerance = Math.multiplyExact(interval, (long) limit.burst() - 1);
    }

    /** Nanoseconds to wait before a permit is free, given the bucket's time {@code tat >= now}. */
    long wait(long tat, long now) {
      long wait = tat - now - tolerance;
      return Math.max(0, wait);
    }
  }

  /** Builds an {@link InMemoryRateLimiter}. Not thread-safe. */
  public static final class Builder {
    private RateLimits limits = RateLimits.ofDefaults();
    private Ticker ticker = Ticker.system();
    private int maxKeys = DEFAULT_MAX_KEYS;

    private Builder() {}

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
     * Sets the time source that refills the buckets.
     *
     * @param ticker a monotonic nanosecond source; a fake one in tests
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets about how many keys are held at most. Default {@link #DEFAULT_MAX_KEYS}.
     *
     * @param maxKeys at least 1
     * @return this builder
     * @throws IllegalArgumentException if {@code maxKeys < 1}
     */
    public Builder maxKeys(int maxKeys) {
      if (maxKeys < 1) {
        throw new IllegalArgumentException("maxKeys < 1: " + maxKeys);
      }
      this.maxKeys = maxKeys;
      return this;
    }

    /**
     * Builds the limiter.
     *
     * @return a new limiter holding no key
     */
    public InMemoryRateLimiter build() {
      return new InMemoryRateLimiter(this);
    }
  }
}
