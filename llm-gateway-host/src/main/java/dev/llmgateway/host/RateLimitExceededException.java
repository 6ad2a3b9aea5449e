package dev.llmgateway.host;

import dev.llmgateway.LlmGatewayException;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The host's own {@link RateLimiter} refused a call: nothing was reserved and nothing was sent.
 * Maps to {@code 429} with {@code Retry-After}. {@link #attempts()} is always 0 and {@link
 * #isRetryable()} true: the same call may pass after {@link #retryAfter()}. (A {@code 429} from the
 * service itself is {@link dev.llmgateway.ServiceRateLimitedException}.) Immutable and
 * thread-safe.
 */
public final class RateLimitExceededException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  private final String limit;
  private final Duration retryAfter;

  /**
   * Creates the exception.
   *
   * @param limit the name of the limit that refused, e.g. {@link RateLimits#STREAM_STARTS}
   * @param retryAfter how long until the call would be allowed, not negative
   * @param requestId the request id of the refused call, or null
   * @throws IllegalArgumentException if {@code retryAfter} is negative
   */
  public RateLimitExceededException(String limit, Duration retryAfter, @Nullable String requestId) {
    super("Rate limit '" + limit + "' exceeded; retry after " + retryAfter.toMillis() + " ms", requestId, 0, null,
        true);
    this.limit = Objects.requireNonNull(limit, "limit");
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter < 0: " + retryAfter);
    }
    this.retryAfter = retryAfter;
  }

  /**
   * Returns the name of the limit that refused the call.
   *
   * @return e.g. {@link RateLimits#CALLS} or {@link RateLimits#STREAM_STARTS}
   */
  public String limit() {
    return limit;
  }

  /**
   * Returns how long until the same call would be allowed, if nothing else is spent meanwhile.
   *
   * @return a non-negative duration
   */
  public Duration retryAfter() {
    return retryAfter;
  }
}
