package dev.llmgateway;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Per-stream settings: the time limits, strictness, and the call's ids. Immutable and
 * thread-safe; unset limits take the client's defaults.
 *
 * <pre>{@code
 * StreamOptions options = StreamOptions.builder()
 *     .firstEventTimeout(Duration.ofSeconds(10))
 *     .totalTimeout(Duration.ofMinutes(3))
 *     .build();
 * }</pre>
 */
public final class StreamOptions {
  /** Largest single line or event accepted from the service. */
  public static final int DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
  /** No per-stream settings: the client's limits, lenient parsing. */
  public static final StreamOptions DEFAULTS = new Builder().build();

  private final @Nullable Duration firstEventTimeout;
  private final @Nullable Duration idleTimeout;
  private final @Nullable Duration totalTimeout;
  private final boolean strict;
  private final int maxEventBytes;
  private final CallOptions callOptions;

  private StreamOptions(Builder b) {
    this.firstEventTimeout = b.firstEventTimeout;
    this.idleTimeout = b.idleTimeout;
    this.totalTimeout = b.totalTimeout;
    this.strict = b.strict;
    this.maxEventBytes = b.maxEventBytes;
    this.callOptions = b.callOptions;
  }

  /**
   * Starts a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the limit on waiting for the first event, or null for the client's {@code timeout} */
  public @Nullable Duration firstEventTimeout() {
    return firstEventTimeout;
  }

  /** @return the limit on silence between bytes, or null for the client's {@code streamTimeout} */
  public @Nullable Duration idleTimeout() {
    return idleTimeout;
  }

  /** @return the limit on the whole stream, or null for none */
  public @Nullable Duration totalTimeout() {
    return totalTimeout;
  }

  /** @return whether a {@code data} payload that is not JSON fails the stream (else it is skipped) */
  public boolean strict() {
    return strict;
  }

  /** @return the largest line or event accepted, in bytes */
  public int maxEventBytes() {
    return maxEventBytes;
  }

  /** @return the request id and idempotency key to use */
  public CallOptions callOptions() {
    return callOptions;
  }

  /** Builds {@link StreamOptions}. Not thread-safe. */
  public static final class Builder {
    private @Nullable Duration firstEventTimeout;
    private @Nullable Duration idleTimeout;
    private @Nullable Duration totalTimeout;
    private boolean strict;
    private int maxEventBytes = DEFAULT_MAX_EVENT_BYTES;
    private CallOptions callOptions = CallOptions.DEFAULTS;

    private Builder() {}

    /**
     * Sets how long to wait for the first event of each attempt. Default: the client's {@code
     * timeout}. Until the first event arrives, a failed attempt is retried like any call.
     *
     * @param timeout positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder firstEventTimeout(Duration timeout) {
      this.firstEventTimeout = positive(timeout, "firstEventTimeout");
      return this;
    }

    /**
     * Sets the longest silence between bytes (heartbeat comments count as activity). Default: the
     * client's {@code streamTimeout}.
     *
     * @param timeout positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = positive(timeout, "idleTimeout");
      return this;
    }

    /**
     * Sets the longest a whole stream may take. Default: no limit.
     *
     * @param timeout positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder totalTimeout(Duration timeout) {
      this.totalTimeout = positive(timeout, "totalTimeout");
      return this;
    }

    /**
     * Sets whether a {@code data} payload that is not JSON fails the stream with {@link
     * InvalidResponseException}. Default false: it is skipped, logged once at WARN and counted in
     * {@link StreamCompletion#skippedEvents()}.
     *
     * @param strict the setting
     * @return this builder
     */
    public Builder strict(boolean strict) {
      this.strict = strict;
      return this;
    }

    /**
     * Sets the largest line or event accepted; a larger one ends the stream with {@link
     * InvalidResponseException} instead of exhausting memory. Default 1 MiB.
     *
     * @param bytes at least 1024
     * @return this builder
     * @throws IllegalArgumentException if below 1024
     */
    public Builder maxEventBytes(int bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxEventBytes < 1024: " + bytes);
      }
      this.maxEventBytes = bytes;
      return this;
    }

    /**
     * Sets the request id and idempotency key of the stream.
     *
     * @param callOptions the options
     * @return this builder
     */
    public Builder callOptions(CallOptions callOptions) {
      this.callOptions = Objects.requireNonNull(callOptions, "callOptions");
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public StreamOptions build() {
      return new StreamOptions(this);
    }

    private static Duration positive(Duration value, String name) {
      Objects.requireNonNull(value, name);
      if (value.isZero() || value.isNegative()) {
        throw new IllegalArgumentException(name + " must be positive: " + value);
      }
      return value;
    }
  }
}
