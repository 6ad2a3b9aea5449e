package dev.llmgateway.host.internal;

import dev.llmgateway.host.RateLimiter.Decision;
import dev.llmgateway.host.RateLimits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The limits of a rate limiter by key namespace, and what its decisions share: a key takes the
 * limits of the longest namespace it starts with, else the default ones; a refusal names the limit
 * with the longest wait. Not API. Immutable and thread-safe.
 *
 * @param <T> the limits compiled to what the limiter decides with (buckets, script arguments)
 */
public final class NamespacedLimits<T> {
  private final RateLimits limits;
  private final Map<String, RateLimits> namespaceLimits;
  private final T defaults;
  /** Namespaces with their own limits, longest first, and their compiled limits (parallel arrays). */
  private final String[] namespaces;
  private final Object[] compiled;

  /**
   * Compiles the limits.
   *
   * @param limits the limits of keys in no namespace given its own
   * @param namespaceLimits the namespaces given their own limits, each checked by {@link
   *     #checkNamespace}; copied
   * @param compile turns limits into what the limiter decides with
   */
  public NamespacedLimits(
      RateLimits limits, Map<String, RateLimits> namespaceLimits, Function<RateLimits, T> compile) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.namespaceLimits = Collections.unmodifiableMap(new LinkedHashMap<>(namespaceLimits));
    this.defaults = compile.apply(limits);
    List<String> names = new ArrayList<>(this.namespaceLimits.keySet());
    names.sort((x, y) -> Integer.compare(y.length(), x.length()));
    this.namespaces = names.toArray(new String[0]);
    this.compiled = new Object[namespaces.length];
    for (int i = 0; i < namespaces.length; i++) {
      compiled[i] = compile.apply(Objects.requireNonNull(this.namespaceLimits.get(namespaces[i])));
    }
  }

  /**
   * Checks a namespace given to a limiter's builder.
   *
   * @param namespace the keys' prefix
   * @return {@code namespace}
   * @throws IllegalArgumentException if it is only {@code :} or does not end with one
   */
  public static String checkNamespace(String namespace) {
    Objects.requireNonNull(namespace, "namespace");
    if (namespace.length() < 2 || !namespace.endsWith(":")) {
      throw new IllegalArgumentException("namespace must end with ':', e.g. \"ip:\": " + namespace);
    }
    return namespace;
  }

  /**
   * Returns the compiled limits of a key: those of the longest namespace it starts with, else the
   * defaults. Allocates nothing.
   *
   * @param key the key
   * @return its compiled limits
   */
  @SuppressWarnings("unchecked") // compiled holds only what compile returned
  public T forKey(String key) {
    for (int i = 0; i < namespaces.length; i++) {
      if (key.startsWith(namespaces[i])) {
        return (T) compiled[i];
      }
    }
    return defaults;
  }

  /**
   * Returns the limits of keys in no namespace given its own.
   *
   * @return the limits
   */
  public RateLimits limits() {
    return limits;
  }

  /**
   * Returns the namespaces given their own limits.
   *
   * @return an unmodifiable map from namespace to its limits, in the order they were given
   */
  public Map<String, RateLimits> namespaceLimits() {
    return namespaceLimits;
  }

  /**
   * Returns the limits as a limiter's {@code toString} shows them.
   *
   * @return the default limits, then the namespaces' if any
   */
  @Override
  public String toString() {
    return limits + (namespaceLimits.isEmpty() ? "" : ", namespaces=" + namespaceLimits);
  }

  /**
   * Decides a key from the waits of its buckets: the bucket that waits longer refuses, stream
   * starts on a tie.
   *
   * @param callsWaitNanos how long the calls bucket waits; 0 or less when it has a permit
   * @param streamsWaitNanos how long the stream-starts bucket waits; 0 or less when it has a permit
   *     or the call does not count in it
   * @return the refusal, or null when the key lets the call pass
   */
  public static @Nullable Decision refusal(long callsWaitNanos, long streamsWaitNanos) {
    if (callsWaitNanos <= 0 && streamsWaitNanos <= 0) {
      return null;
    }
    return streamsWaitNanos >= callsWaitNanos
        ? Decision.deny(RateLimits.STREAM_STARTS, Duration.ofNanos(streamsWaitNanos))
        : Decision.deny(RateLimits.CALLS, Duration.ofNanos(callsWaitNanos));
  }

  /**
   * Picks the refusal of a call counted against several keys: the longest wait, the first one on
   * a tie.
   *
   * @param worst the refusal so far, or null
   * @param refused a key's refusal, or null
   * @return the one with the longer wait; null when both are
   */
  public static @Nullable Decision longer(@Nullable Decision worst, @Nullable Decision refused) {
    if (refused == null) {
      return worst;
    }
    return worst == null || refused.retryAfter().compareTo(worst.retryAfter()) > 0 ? refused : worst;
  }
}
