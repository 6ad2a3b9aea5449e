package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * Per-call settings: the caller's own request id and idempotency key. Immutable and thread-safe.
 *
 * <pre>{@code
 * client.chat(request, user, CallOptions.builder().requestId(incomingTraceId).build());
 * }</pre>
 */
public final class CallOptions {
  /** No per-call settings: the client generates the request id and idempotency key. */
  public static final CallOptions DEFAULTS = new Builder().build();

  private final @Nullable String requestId;
  private final @Nullable String idempotencyKey;

  private CallOptions(Builder builder) {
    this.requestId = builder.requestId;
    this.idempotencyKey = builder.idempotencyKey;
  }

  /**
   * Returns options that only set the request id.
   *
   * @param requestId sent as {@code X-Request-Id}
   * @return the options
   */
  public static CallOptions withRequestId(String requestId) {
    return builder().requestId(requestId).build();
  }

  /**
   * Starts a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the caller's request id.
   *
   * @return the id, or null to let the client choose (MDC value, else a random UUID)
   */
  public @Nullable String requestId() {
    return requestId;
  }

  /**
   * Returns the caller's idempotency key for {@code POST} chat calls.
   *
   * @return the key, or null to let the client generate one per logical call
   */
  public @Nullable String idempotencyKey() {
    return idempotencyKey;
  }

  @Override
  public String toString() {
    return "CallOptions{requestId=" + requestId + ", idempotencyKey=" + idempotencyKey + "}";
  }

  /** Builds {@link CallOptions}. Not thread-safe. */
  public static final class Builder {
    private @Nullable String requestId;
    private @Nullable String idempotencyKey;

    private Builder() {}

    /**
     * Sets the request id sent as {@code X-Request-Id} on every attempt of the call. It must be
     * printable ASCII, at most 256 characters, or the call fails with a {@link
     * ValidationException}.
     *
     * @param requestId the id, e.g. the host's own trace id; null to let the client choose
     * @return this builder
     */
    public Builder requestId(@Nullable String requestId) {
      this.requestId = requestId;
      return this;
    }

    /**
     * Sets the {@code Idempotency-Key} of a chat call. Reuse the same key when the host itself
     * retries a logical call, so the service answers from its cache instead of generating (and
     * billing) twice. Same rules as the request id.
     *
     * @param idempotencyKey the key; null to let the client generate one
     * @return this builder
     */
    public Builder idempotencyKey(@Nullable String idempotencyKey) {
      this.idempotencyKey = idempotencyKey;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public CallOptions build() {
      return new CallOptions(this);
    }
  }
}
