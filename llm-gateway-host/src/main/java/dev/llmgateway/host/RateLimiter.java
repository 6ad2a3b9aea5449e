package dev.llmgateway.host;

import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Operation;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Admits or refuses calls per key (usually the user id) before anything is reserved or sent.
 *
 * <p>Implementations must be thread-safe, and a refusal must consume nothing: a call refused by one
 * of several limits must not use up a permit of another. {@link InMemoryRateLimiter} serves one
 * JVM; hosts with several instances implement this interface over a shared store (for example a
 * Redis script applying the same token buckets atomically).
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
