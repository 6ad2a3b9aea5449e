package dev.llmgateway.host;

import dev.llmgateway.Operation;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The per-user limits a host applies before calling the service: one for every call, and one for
 * stream starts. A stream start must pass both, and consumes from both only when both allow it.
 * Immutable and thread-safe; {@link #ofDefaults()} or {@link #builder()}.
 *
 * <pre>{@code
 * RateLimits limits = RateLimits.builder()
 *     .calls(RateLimit.perMinute(200))
 *     .streamStarts(RateLimit.perMinute(20).withBurst(5))
 *     .build();
 * }</pre>
 */
public final class RateLimits {
  /** Name of the limit on every call, as reported by {@link RateLimiter.Decision#limit()}. */
  public static final String CALLS = "calls";
  /** Name of the limit on stream starts, as reported by {@link RateLimiter.Decision#limit()}. */
  public static final String STREAM_STARTS = "stream_starts";
  /**
   * Default limit on every call: 100 per minute per user, a token bucket with a burst of 100 (so up
   * to about 199 calls can pass in the first rolling minute after a quiet spell).
   */
  public static final RateLimit DEFAULT_CALLS = RateLimit.perMinute(100);
  /** Default limit on stream starts: 10 per minute per user. */
  public static final RateLimit DEFAULT_STREAM_STARTS = RateLimit.perMinute(10);

  private static final RateLimits DEFAULTS = new Builder().build();

  private final @Nullable RateLimit calls;
  private final @Nullable RateLimit streamStarts;

  private RateLimits(Builder b) {
    this.calls = b.calls;
    this.streamStarts = b.streamStarts;
  }

  /**
   * Returns the defaults: 100 calls per minute per user, of which at most 10 stream starts.
   *
   * @return the defaults
   */
  public static RateLimits ofDefaults() {
    return DEFAULTS;
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
   * Starts a builder holding these limits.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    return new Builder().calls(calls).streamStarts(streamStarts);
  }

  /**
   * Returns the limit on every call.
   *
   * @return the limit, or null when calls are not limited
   */
  public @Nullable RateLimit calls() {
    return calls;
  }

  /**
   * Returns the limit on stream starts ({@link Operation#CHAT_STREAM}).
   *
   * @return the limit, or null when stream starts are not limited on their own
   */
  public @Nullable RateLimit streamStarts() {
    return streamStarts;
  }

  /**
   * Tells whether an operation counts as a stream start.
   *
   * @param operation the operation
   * @return true for {@link Operation#CHAT_STREAM}
   */
  public static boolean isStreamStart(Operation operation) {
    return operation == Operation.CHAT_STREAM;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RateLimits
        && Objects.equals(((RateLimits) o).calls, calls)
        && Objects.equals(((RateLimits) o).streamStarts, streamStarts);
  }

  @Override
  public int hashCode() {
    return Objects.hash(calls, streamStarts);
  }

  @Override
  public String toString() {
    return "RateLimits{calls=" + calls + ", streamStarts=" + streamStarts + "}";
  }

  /** Builds {@link RateLimits}. Not thread-safe. */
  public static final class Builder {
    private @Nullable RateLimit calls = DEFAULT_CALLS;
    private @Nullable RateLimit streamStarts = DEFAULT_STREAM_STARTS;

    private Builder() {}

    /**
     * Sets the limit on every call, stream starts included. Default {@link #DEFAULT_CALLS}.
     *
     * @param limit the limit, or null for none
     * @return this builder
     */
    public Builder calls(@Nullable RateLimit limit) {
      this.calls = limit;
      return this;
    }

    /**
     * Sets the limit on stream starts, applied on top of the limit on calls. Default {@link
     * #DEFAULT_STREAM_STARTS}.
     *
     * @param limit the limit, or null for none
     * @return this builder
     */
    public Builder streamStarts(@Nullable RateLimit limit) {
      this.streamStarts = limit;
      return this;
    }

    /**
     * Builds the limits.
     *
     * @return the limits
     */
    public RateLimits build() {
      return new RateLimits(this);
    }
  }
}
