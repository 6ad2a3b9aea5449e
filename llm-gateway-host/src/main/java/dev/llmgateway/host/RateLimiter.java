package dev.llmgateway.host;

import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Operation;
import dev.llmgateway.host.internal.Keys;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Admits or refuses calls per key (usually the user id) before anything is reserved or sent.
 *
 * <p>Implementations must be thread-safe, and a refusal must consume nothing: a call refused by one
 * of several limits must not use up a permit of another. {@link InMemoryRateLimiter} serves one
 * JVM; hosts with several instances implement this interface over a shared store (for example a
 * Redis script applying the same token buckets atomically).
 *
 * <p>Keys are namespaced by {@link RateLimitKeys} ({@code user:123}, {@code company:456}, {@code
 * ip:192.0.2.1}); a call counted against several keys goes through {@link #tryAcquireAll}.
 */
public interface RateLimiter {
  /**
   * Takes a permit for one call if the key's limits allow it.
   *
   * @param key whom to count the call against, usually {@link dev.llmgateway.UserContext#userId()}
   * @param operation the call; {@link Operation#CHAT_STREAM} counts as a stream start
   * @return whether the call may proceed and, if not, when it may
   * @throws LlmGatewayException if the limiter's store fails
   */
  Decision tryAcquire(String key, Operation operation);

  /**
   * Takes a permit from every key for one call if all their limits allow it.
   *
   * <p>Implementations should decide all keys at once: either every key gives a permit or none
   * does, so that a call refused by one key (a user over their limit) uses up nothing of another
   * (the address the user shares with others). {@link InMemoryRateLimiter} does; a limiter over a
   * shared store should check every key and then take every permit in one atomic step (for Redis,
   * one script over all the keys).
   *
   * <p>The default, for limiters written before this method, asks {@link #tryAcquire} key by key
   * and stops at the first refusal. That is exact for one key, but <b>not</b> all-or-nothing for
   * several: a refusal by a later key leaves the permits of the earlier keys taken.
   *
   * @param keys whom to count the call against; duplicates count once; empty allows the call
   * @param operation the call; {@link Operation#CHAT_STREAM} counts as a stream start
   * @return whether the call may proceed and, if not, when it may
   * @throws LlmGatewayException if the limiter's store fails
   */
  default Decision tryAcquireAll(List<String> keys, Operation operation) {
    Objects.requireNonNull(operation, "operation");
    List<String> distinct = Keys.distinct(keys);
    for (String key : distinct) {
      Decision decision = tryAcquire(key, operation);
      if (!decision.allowed()) {
        return decision;
      }
    }
    return Decision.allow();
  }

  /**
   * Takes a permit from every key for one call ({@link #tryAcquireAll}), or throws.
   *
   * @param keys whom to count the call against
   * @param operation the call
   * @param requestId the call's request id, for the exception; null when not known
   * @throws RateLimitExceededException if a limit refuses the call
   * @throws LlmGatewayException if the limiter's store fails
   */
  default void acquireAll(List<String> keys, Operation operation, @Nullable String requestId) {
    Decision decision = keys.size() == 1 ? tryAcquire(keys.get(0), operation) : tryAcquireAll(keys, operation);
    if (!decision.allowed()) {
      String limit = decision.limit();
      throw new RateLimitExceededException(limit == null ? "unknown" : limit, decision.retryAfter(), requestId);
    }
  }

  /**
   * Takes a permit for one call, or throws.
   *
   * @param key whom to count the call against
   * @param operation the call
   * @param requestId the call's request id, for the exception; null when not known
   * @throws RateLimitExceededException if a limit refuses the call; nothing was consumed
   * @throws LlmGatewayException if the limiter's store fails
   */
  default void acquire(String key, Operation operation, @Nullable String requestId) {
    Decision decision = tryAcquire(key, operation);
    if (!decision.allowed()) {
      String limit = decision.limit();
      throw new RateLimitExceededException(limit == null ? "unknown" : limit, decision.retryAfter(), requestId);
    }
  }

  /**
   * The answer of {@link #tryAcquire}. Immutable and thread-safe.
   *
   * @param allowed whether the call may proceed (and a permit was taken)
   * @param retryAfter when refused, how long until the call would be allowed; zero when allowed
   * @param limit when refused, the name of the limit that refused (the one with the longest wait);
   *     null when allowed
   */
  record Decision(boolean allowed, Duration retryAfter, @Nullable String limit) {
    private static final Decision ALLOWED = new Decision(true, Duration.ZERO, null);

    /**
     * Checks the values.
     *
     * @param allowed whether the call may proceed
     * @param retryAfter the wait when refused
     * @param limit the refusing limit when refused
     * @throws IllegalArgumentException if an allowed decision has a wait or a limit, or a refusal
     *     lacks a limit or has a negative wait
     */
    public Decision {
      Objects.requireNonNull(retryAfter, "retryAfter");
      if (allowed && (!retryAfter.isZero() || limit != null)) {
        throw new IllegalArgumentException("an allowed decision has no retryAfter and no limit");
      }
      if (!allowed && (limit == null || retryAfter.isNegative())) {
        throw new IllegalArgumentException("a refusal needs a limit and a non-negative retryAfter");
      }
    }

    /**
     * Returns the decision that lets a call through.
     *
     * @return the allowing decision
     */
    public static Decision allow() {
      return ALLOWED;
    }

    /**
     * Returns a refusal.
     *
     * @param limit the name of the limit that refused
     * @param retryAfter how long until the call would be allowed, not negative
     * @return the refusing decision
     * @throws IllegalArgumentException if {@code retryAfter} is negative
     */
    public static Decision deny(String limit, Duration retryAfter) {
      return new Decision(false, retryAfter, Objects.requireNonNull(limit, "limit"));
    }
  }
}
