package dev.llmgateway;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * When and how long to wait before trying a failed call again. Immutable and thread-safe; build one
 * with {@link #builder()}, start from {@link #ofDefaults()} or turn retries off with {@link
 * #none()}.
 *
 * <p>Retried: connection failures (refused, reset, unknown host), timeouts, and the statuses the
 * contract marks safe: {@code 409}, {@code 429}, {@code 502}, {@code 503}, {@code 504}. Every
 * attempt of a logical call carries the same {@code X-Request-Id}, and every attempt of a chat call
 * the same {@code Idempotency-Key}, so the service answers a retried chat from its cache instead of
 * generating (and billing) twice. Every exception the client throws tells in {@link
 * LlmGatewayException#isRetryable()} whether this policy retries its kind of failure.
 *
 * <p>The wait before retry {@code n} (1-based) is {@code min(maxBackoff, initialBackoff *
 * multiplier^(n-1))}, spread by {@code ±jitter}. When the service sends {@code Retry-After}
 * (seconds or an HTTP date) the client waits exactly that long instead, unless it exceeds {@link
 * #maxRetryAfter()}, in which case it does not retry and throws at once (the exception carries the
 * {@code retryAfter}). No attempt starts after the {@link #deadline()}, and each attempt's timeout
 * is cut to the time left.
 */
public final class RetryPolicy {
  /** Retries after the first attempt. */
  public static final int DEFAULT_MAX_RETRIES = 2;
  /** Wait before the first retry. */
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(500);
  /** Growth of the wait per retry. */
  public static final double DEFAULT_MULTIPLIER = 2.0;
  /** Longest computed wait. */
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(8);
  /** Spread of the wait, as a fraction of it. */
  public static final double DEFAULT_JITTER = 0.2;
  /** Longest {@code Retry-After} the client waits for; longer ones end the call. */
  public static final Duration DEFAULT_MAX_RETRY_AFTER = Duration.ofSeconds(30);
  /** Time from the start of the call after which no attempt starts. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(90);
  /** Statuses the contract marks safe to retry. */
  public static final Set<Integer> DEFAULT_RETRYABLE_STATUSES = Set.of(409, 429, 502, 503, 504);

  private static final RetryPolicy DEFAULTS = new Builder().build();
  private static final RetryPolicy NONE = new Builder().maxRetries(0).build();

  private final int maxRetries;
  private final Duration initialBackoff;
  private final double multiplier;
  private final Duration maxBackoff;
  private final double jitter;
  private final Duration maxRetryAfter;
  private final Duration deadline;
  private final Set<Integer> retryableStatuses;
  private final boolean retryOnTimeout;
  private final boolean retryOnNetworkFailure;

  private RetryPolicy(Builder b) {
    this.maxRetries = b.maxRetries;
    this.initialBackoff = b.initialBackoff;
    this.multiplier = b.multiplier;
    this.maxBackoff = b.maxBackoff;
    this.jitter = b.jitter;
    this.maxRetryAfter = b.maxRetryAfter;
    this.deadline = b.deadline;
    this.retryableStatuses = Set.copyOf(b.retryableStatuses);
    this.retryOnTimeout = b.retryOnTimeout;
    this.retryOnNetworkFailure = b.retryOnNetworkFailure;
  }

  /**
   * Returns the default policy: 2 retries, 500 ms doubling to at most 8 s with 20% jitter,
   * {@code Retry-After} honoured up to 30 s, a 90 s deadline.
   *
   * @return the default policy
   */
  public static RetryPolicy ofDefaults() {
    return DEFAULTS;
  }

  /**
   * Returns a policy that never retries.
   *
   * @return the policy
   */
  public static RetryPolicy none() {
    return NONE;
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
   * Starts a builder holding this policy's settings.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** @return retries after the first attempt; 0 means none */
  public int maxRetries() {
    return maxRetries;
  }

  /** @return the wait before the first retry */
  public Duration initialBackoff() {
    return initialBackoff;
  }

  /** @return the growth of the wait per retry */
  public double multiplier() {
    return multiplier;
  }

  /** @return the longest computed wait */
  public Duration maxBackoff() {
    return maxBackoff;
  }

  /** @return the spread of the wait, a fraction in [0, 1] */
  public double jitter() {
    return jitter;
  }

  /** @return the longest {@code Retry-After} honoured */
  public Duration maxRetryAfter() {
    return maxRetryAfter;
  }

  /** @return the time after the call's start when no attempt starts any more */
  public Duration deadline() {
    return deadline;
  }

  /** @return the statuses retried */
  public Set<Integer> retryableStatuses() {
    return retryableStatuses;
  }

  /** @return whether an attempt that timed out is retried */
  public boolean retryOnTimeout() {
    return retryOnTimeout;
  }

  /** @return whether connection failures (refused, reset, unknown host) are retried */
  public boolean retryOnNetworkFailure() {
    return retryOnNetworkFailure;
  }

  /**
   * Tells whether an answer with this status is worth another attempt.
   *
   * @param status an HTTP status
   * @return true for the retryable statuses
   */
  public boolean isRetryableStatus(int status) {
    return retryableStatuses.contains(status);
  }

  /**
   * Computes the wait before a retry.
   *
   * @param retry which retry, from 1
   * @param retryAfter what the service asked for, or null
   * @param random a number in [0, 1) that places the wait within the jitter
   * @return the wait, or null when the service asked for more than {@link #maxRetryAfter()} (then
   *     the call should fail now rather than wait)
   * @throws IllegalArgumentException if {@code retry < 1}
   */
  public @Nullable Duration delayBeforeRetry(int retry, @Nullable Duration retryAfter, double random) {
    if (retry < 1) {
      throw new IllegalArgumentException("retry < 1: " + retry);
    }
    if (retryAfter != null) {
      return retryAfter.compareTo(maxRetryAfter) > 0 ? null : retryAfter;
    }
    double base = initialBackoff.toNanos() * Math.pow(multiplier, retry - 1);
    base = Math.min(base, (double) maxBackoff.toNanos());
    double spread = base * jitter * (2 * random - 1);
    return Duration.ofNanos((long) Math.min((double) maxBackoff.toNanos(), Math.max(0, base + spread)));
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxRetries=" + maxRetries + ", initialBackoff=" + initialBackoff
        + ", multiplier=" + multiplier + ", maxBackoff=" + maxBackoff + ", jitter=" + jitter
        + ", maxRetryAfter=" + maxRetryAfter + ", deadline=" + deadline
        + ", retryableStatuses=" + new TreeSet<>(retryableStatuses)
        + ", retryOnTimeout=" + retryOnTimeout + ", retryOnNetworkFailure=" + retryOnNetworkFailure + "}";
  }

  /** Builds a {@link RetryPolicy}. Not thread-safe. */
  public static final class Builder {
    private int maxRetries = DEFAULT_MAX_RETRIES;
    private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
    private double multiplier = DEFAULT_MULTIPLIER;
    private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
    private double jitter = DEFAULT_JITTER;
    private Duration maxRetryAfter = DEFAULT_MAX_RETRY_AFTER;
    private Duration deadline = DEFAULT_DEADLINE;
    private Set<Integer> retryableStatuses = DEFAULT_RETRYABLE_STATUSES;
    private boolean retryOnTimeout = true;
    private boolean retryOnNetworkFailure = true;

    private Builder() {}

    private Builder(RetryPolicy p) {
      maxRetries = p.maxRetries;
      initialBackoff = p.initialBackoff;
      multiplier = p.multiplier;
      maxBackoff = p.maxBackoff;
      jitter = p.jitter;
      maxRetryAfter = p.maxRetryAfter;
      deadline = p.deadline;
      retryableStatuses = p.retryableStatuses;
      retryOnTimeout = p.retryOnTimeout;
      retryOnNetworkFailure = p.retryOnNetworkFailure;
    }

    /**
     * Sets the number of retries after the first attempt. Default {@value #DEFAULT_MAX_RETRIES}.
     *
     * @param maxRetries 0 or more
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries < 0: " + maxRetries);
      }
      this.maxRetries = maxRetries;
      return this;
    }

    /**
     * Sets the wait before the first retry. Default 500 ms.
     *
     * @param initialBackoff zero or positive
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = nonNegative(initialBackoff, "initialBackoff");
      return this;
    }

    /**
     * Sets the growth of the wait per retry. Default {@value #DEFAULT_MULTIPLIER}.
     *
     * @param multiplier at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1 or not finite
     */
    public Builder multiplier(double multiplier) {
      if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
        throw new IllegalArgumentException("multiplier must be a finite number >= 1: " + multiplier);
      }
      this.multiplier = multiplier;
      return this;
    }

    /**
     * Sets the longest computed wait. Default 8 s.
     *
     * @param maxBackoff zero or positive
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = nonNegative(maxBackoff, "maxBackoff");
      return this;
    }

    /**
     * Sets the spread of the wait: 0.2 means the wait is drawn from ±20% around the computed one.
     * Default {@value #DEFAULT_JITTER}; 0 makes waits exact.
     *
     * @param jitter in [0, 1]
     * @return this builder
     * @throws IllegalArgumentException if outside [0, 1]
     */
    public Builder jitter(double jitter) {
      if (!(jitter >= 0.0 && jitter <= 1.0)) {
        throw new IllegalArgumentException("jitter must be in [0, 1]: " + jitter);
      }
      this.jitter = jitter;
      return this;
    }

    /**
     * Sets the longest {@code Retry-After} the client waits for; a longer one ends the call at
     * once with the exception carrying {@code retryAfter}. Default 30 s.
     *
     * @param maxRetryAfter zero or positive
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder maxRetryAfter(Duration maxRetryAfter) {
      this.maxRetryAfter = nonNegative(maxRetryAfter, "maxRetryAfter");
      return this;
    }

    /**
     * Sets the overall deadline, measured from the start of the logical call: no attempt starts
     * after it, and each attempt's timeout is cut to the time left. Default 90 s.
     *
     * @param deadline positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder deadline(Duration deadline) {
      Objects.requireNonNull(deadline, "deadline");
      if (deadline.isZero() || deadline.isNegative()) {
        throw new IllegalArgumentException("deadline must be positive: " + deadline);
      }
      this.deadline = deadline;
      return this;
    }

    /**
     * Sets the statuses that are retried. Default {@code 409, 429, 502, 503, 504}.
     *
     * @param statuses HTTP statuses from 400 to 599
     * @return this builder
     * @throws IllegalArgumentException for a status outside 400..599
     */
    public Builder retryableStatuses(Set<Integer> statuses) {
      for (int status : statuses) {
        if (status < 400 || status > 599) {
          throw new IllegalArgumentException("retryable status outside 400..599: " + status);
        }
      }
      this.retryableStatuses = Set.copyOf(statuses);
      return this;
    }

    /**
     * Sets whether an attempt that timed out is retried. Default true.
     *
     * @param retryOnTimeout the setting
     * @return this builder
     */
    public Builder retryOnTimeout(boolean retryOnTimeout) {
      this.retryOnTimeout = retryOnTimeout;
      return this;
    }

    /**
     * Sets whether connection failures (refused, reset, unknown host) are retried. Default true.
     *
     * @param retryOnNetworkFailure the setting
     * @return this builder
     */
    public Builder retryOnNetworkFailure(boolean retryOnNetworkFailure) {
      this.retryOnNetworkFailure = retryOnNetworkFailure;
      return this;
    }

    /**
     * Builds the policy.
     *
     * @return the policy
     * @throws IllegalArgumentException if {@code initialBackoff} exceeds {@code maxBackoff}
     */
    public RetryPolicy build() {
      if (initialBackoff.compareTo(maxBackoff) > 0) {
        throw new IllegalArgumentException(
            "initialBackoff (" + initialBackoff + ") must not exceed maxBackoff (" + maxBackoff + ")");
      }
      return new RetryPolicy(this);
    }

    private static Duration nonNegative(Duration value, String name) {
      Objects.requireNonNull(value, name);
      if (value.isNegative()) {
        throw new IllegalArgumentException(name + " < 0: " + value);
      }
      return value;
    }
  }
}
