package dev.llmgateway.host;

import dev.llmgateway.Operation;
import dev.llmgateway.Ticker;
import dev.llmgateway.host.internal.Keys;
import dev.llmgateway.host.internal.NamespacedLimits;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * start takes a permit from both of its buckets or from neither. A call counted against several
 * keys ({@link #tryAcquireAll}) takes a permit from every key or from none.
 *
 * <p><b>Namespaces.</b> Keys start with their namespace ({@link RateLimitKeys}); {@link
 * Builder#limits(String, RateLimits)} gives a namespace its own limits (say 30 stream starts a
 * minute per client address, 1,000 calls per company), the others share {@link
 * Builder#limits(RateLimits)}.
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

  /** The buckets' parameters by namespace. */
  private final NamespacedLimits<Limits> byNamespace;
  private final Ticker ticker;
  private final int maxKeys;
  private final ConcurrentHashMap<String, AtomicReference<State>> buckets = new ConcurrentHashMap<>();
  private final Object sweepLock = new Object();

  private InMemoryRateLimiter(Builder b) {
    this.byNamespace = new NamespacedLimits<>(b.limits, b.namespaceLimits, Limits::new);
    this.ticker = b.ticker;
    this.maxKeys = b.maxKeys;
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

  @Override
  public Decision tryAcquire(String key, Operation operation) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(operation, "operation");
    Limits limits = byNamespace.forKey(key);
    boolean stream = RateLimits.isStreamStart(operation);
    if (!limits.applyTo(stream)) {
      return Decision.allow();
    }
    while (true) {
      AtomicReference<State> ref = slot(key);
      State state;
      while ((state = current(ref)) != EVICTED) {
        long now = ticker.read();
        Decision refused = limits.refusal(state, stream, now);
        if (refused != null) {
          return refused;
        }
        if (ref.compareAndSet(state, limits.advance(state, stream, now))) {
          return Decision.allow();
        }
      }
      buckets.remove(key, ref); // dropped by eviction just now: help remove it, then start afresh
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>All or nothing, without a lock: every key is checked, and only when all allow the call are
   * their permits taken, one compare-and-set each. When another call changed a key meanwhile, the
   * permits already taken are given back and the whole decision is made again; so a refused call
   * takes nothing, and a call that passes takes exactly one permit per key. (While a permit is
   * given back, a concurrent call on that key may see it as taken for that moment.) A refusal
   * names the limit with the longest wait over all the keys.
   */
  @Override
  public Decision tryAcquireAll(List<String> keys, Operation operation) {
    Objects.requireNonNull(operation, "operation");
    List<String> distinct = Keys.distinct(keys);
    if (distinct.size() <= 1) {
      return distinct.isEmpty() ? Decision.allow() : tryAcquire(distinct.get(0), operation);
    }
    boolean stream = RateLimits.isStreamStart(operation);
    int n = distinct.size();
    @SuppressWarnings({"unchecked", "rawtypes"}) // an array of a generic type; holds only such references
    @Nullable AtomicReference<State>[] refs = new AtomicReference[n];
    State[] seen = new State[n];
    Limits[] limits = new Limits[n];
    attempt:
    while (true) {
      long now = ticker.read();
      Decision worst = null;
      for (int i = 0; i < n; i++) {
        String key = distinct.get(i);
        limits[i] = byNamespace.forKey(key);
        if (!limits[i].applyTo(stream)) {
          refs[i] = null;
          continue;
        }
        AtomicReference<State> ref = slot(key);
        refs[i] = ref;
        seen[i] = current(ref);
        if (seen[i] == EVICTED) {
          buckets.remove(key, ref);
          continue attempt;
        }
        worst = NamespacedLimits.longer(worst, limits[i].refusal(seen[i], stream, now));
      }
      if (worst != null) {
        return worst;
      }
      for (int i = 0; i < n; i++) {
        if (refs[i] != null && !refs[i].compareAndSet(seen[i], limits[i].advance(seen[i], stream, now))) {
          for (int j = 0; j < i; j++) {
            if (refs[j] != null) {
              giveBack(refs[j], limits[j], stream);
            }
          }
          continue attempt;
        }
      }
      return Decision.allow();
    }
  }

  /** Returns the permit {@link Limits#advance} took from a key's buckets. */
  private static void giveBack(AtomicReference<State> ref, Limits limits, boolean stream) {
    State state;
    while ((state = current(ref)) != EVICTED) {
      if (ref.compareAndSet(state, limits.retreat(state, stream))) {
        return;
      }
    }
    // Dropped as full meanwhile: nothing is left to give back.
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
      if (state != EVICTED && byNamespace.forKey(entry.getKey()).untilFull(state, now) <= 0 && drop(entry, state)) {
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
    return "InMemoryRateLimiter{" + byNamespace + ", keys=" + buckets.size() + ", maxKeys=" + maxKeys + "}";
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
          live.add(new Candidate(entry, state, byNamespace.forKey(entry.getKey()).untilFull(state, now)));
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

  /** The buckets of one {@link RateLimits}: what a key of its namespace is checked against. */
  private static final class Limits {
    final @Nullable Bucket calls;
    final @Nullable Bucket streams;

    Limits(RateLimits limits) {
      RateLimit callLimit = limits.calls();
      RateLimit streamLimit = limits.streamStarts();
      this.calls = callLimit == null ? null : new Bucket(callLimit);
      this.streams = streamLimit == null ? null : new Bucket(streamLimit);
    }

    /** Whether a call (a stream start or not) is limited at all. */
    boolean applyTo(boolean stream) {
      return calls != null || (stream && streams != null);
    }

    /** The refusal of a call by {@code state} at {@code now}, or null when it may pass. */
    @Nullable Decision refusal(State state, boolean stream, long now) {
      long callsWait = calls == null ? 0 : calls.wait(Math.max(state.callsTat, now), now);
      long streamsWait = stream && streams != null ? streams.wait(Math.max(state.streamsTat, now), now) : 0;
      return NamespacedLimits.refusal(callsWait, streamsWait);
    }

    /** {@code state} with one permit taken at {@code now} from each bucket the call counts in. */
    State advance(State state, boolean stream, long now) {
      long callsTat = calls == null ? state.callsTat : Math.max(state.callsTat, now) + calls.interval;
      long streamsTat = stream && streams != null ? Math.max(state.streamsTat, now) + streams.interval : state.streamsTat;
      return new State(callsTat, streamsTat);
    }

    /** {@code state} with the permit {@link #advance} took given back. */
    State retreat(State state, boolean stream) {
      long callsTat = calls == null ? state.callsTat : state.callsTat - calls.interval;
      long streamsTat = stream && streams != null ? state.streamsTat - streams.interval : state.streamsTat;
      return new State(callsTat, streamsTat);
    }

    /** Nanoseconds until both buckets of {@code state} are full again; 0 when they are. */
    long untilFull(State state, long now) {
      long until = 0;
      if (calls != null && state.callsTat > now) {
        until = state.callsTat - now;
      }
      if (streams != null && state.streamsTat > now) {
        until = Math.max(until, state.streamsTat - now);
      }
      return until;
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
    private final Map<String, RateLimits> namespaceLimits = new LinkedHashMap<>();
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
     * Sets other limits for the keys of one namespace, e.g. stream starts per client address
     * ({@link RateLimitKeys#CLIENT_ADDRESS}) or calls per company ({@link RateLimitKeys#COMPANY}).
     * A key takes the limits of the longest namespace it starts with, else those of {@link
     * #limits(RateLimits)}. Setting a namespace again replaces its limits.
     *
     * <pre>{@code
     * InMemoryRateLimiter.builder()
     *     .limits(RateLimits.ofDefaults())                              // user:…
     *     .limits(RateLimitKeys.CLIENT_ADDRESS, RateLimits.builder()
     *         .calls(null).streamStarts(RateLimit.perMinute(30)).build())
     *     .build();
     * }</pre>
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
