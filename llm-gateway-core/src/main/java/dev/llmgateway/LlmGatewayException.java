package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * The root of every exception the SDK throws. Unchecked, like OkHttp's and Retrofit's.
 *
 * <p>Each exception carries the {@linkplain #requestId() request id} of the logical call (sent as
 * {@code X-Request-Id}, the same on every retry), the number of HTTP {@linkplain #attempts()
 * attempts} made and whether {@linkplain #isRetryable() a new call may succeed}. Messages never
 * contain a credential: no service token, JWT or secret.
 *
 * <p>The families a caller tells apart: {@link ApiException} (the service answered with an error
 * status; {@link ServiceUnavailableException} for 502, 503 and 504), {@link TransportException}
 * (no answer came), {@link CallTimeoutException} (a time limit fired), the stream failures {@link
 * StreamInterruptedException} and {@link StreamErrorException}, {@link InvalidResponseException},
 * and the refusals before anything was sent: {@link ValidationException}, {@link
 * CircuitOpenException}, {@link ConcurrencyLimitExceededException}. {@link CallCancelledException}
 * means the caller gave up. Instances are immutable and thread-safe.
 */
public class LlmGatewayException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final @Nullable String requestId;
  private final int attempts;
  private final boolean retryable;

  /**
   * Creates an exception that is {@linkplain #isRetryable() not retryable}.
   *
   * @param message what went wrong, without secrets
   * @param requestId the request id of the logical call, or null when none was assigned yet
   * @param attempts the number of HTTP attempts made (0 when nothing was sent)
   * @param cause the underlying failure, or null
   */
  public LlmGatewayException(
      String message, @Nullable String requestId, int attempts, @Nullable Throwable cause) {
    this(message, requestId, attempts, cause, false);
  }

  /**
   * Creates an exception.
   *
   * @param message what went wrong, without secrets
   * @param requestId the request id of the logical call, or null when none was assigned yet
   * @param attempts the number of HTTP attempts made (0 when nothing was sent)
   * @param cause the underlying failure, or null
   * @param retryable whether sending the same request again as a new call may succeed; see
   *     {@link #isRetryable()}
   */
  public LlmGatewayException(
      String message, @Nullable String requestId, int attempts, @Nullable Throwable cause, boolean retryable) {
    super(message, cause);
    this.requestId = requestId;
    this.attempts = attempts;
    this.retryable = retryable;
  }

  /**
   * Returns the request id of the logical call that failed.
   *
   * @return the {@code X-Request-Id} sent, or null if the call failed before one was assigned
   */
  public @Nullable String requestId() {
    return requestId;
  }

  /**
   * Returns how many HTTP attempts were made before this exception was thrown.
   *
   * @return the attempt count; 0 means no request reached the network
   */
  public int attempts() {
    return attempts;
  }

  /**
   * Tells whether sending the same request again, as a new call, is safe and may succeed,
   * perhaps only after a wait ({@code retryAfter()} where the type has one). It never means that
   * this call will still be retried: by the time the caller sees the exception, the client has
   * retried as far as its {@link RetryPolicy} allowed.
   *
   * <p>For failures of the service and the network the answer is exactly the judgement of the
   * client's {@link RetryPolicy}, decided when the exception is built: an {@link ApiException}
   * is retryable when its status is one of {@link RetryPolicy#retryableStatuses()}, a {@link
   * TransportException} and a {@link StreamInterruptedException} when {@link
   * RetryPolicy#retryOnNetworkFailure()}, a {@link CallTimeoutException} when {@link
   * RetryPolicy#retryOnTimeout()}. Where the client can retry (a whole non-streaming call; a
   * stream until its first event) it retries exactly these failures, so a retryable exception
   * means its retries ran out: {@code maxRetries}, the {@code deadline}, or a {@code
   * Retry-After} beyond {@code maxRetryAfter}. Where it cannot retry (a stream after its first
   * event, whose events were delivered; a direct stream, whose token is single-use) the flag
   * says what the policy would have done: a new call (with a new token) is sensible.
   *
   * <p>{@link StreamErrorException} answers the service's own {@code retryable}. The refusals
   * that pass with time answer true: {@link CircuitOpenException}, {@link
   * ConcurrencyLimitExceededException}, and the host's rate limit. Those that need a change
   * first answer false: {@link ValidationException}, an {@link InvalidResponseException}, the
   * host's credit check; so does {@link CallCancelledException}, since the caller gave up.
   *
   * @return true when a new call with the same request may succeed
   */
  public final boolean isRetryable() {
    return retryable;
  }
}
