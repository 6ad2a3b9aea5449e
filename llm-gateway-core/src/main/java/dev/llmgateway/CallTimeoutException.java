package dev.llmgateway;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A time limit of the call fired: connecting, an attempt, the retry deadline, or a stream's
 * first event, idle gap or total duration. {@link #limit()} says which one.
 *
 * <p>Not a {@link TransportException}: a limit may fire after the service answered (a stream's
 * idle gap or total duration) or end a call that was retrying answers (the retry deadline; the
 * answer it was retrying is the {@linkplain #getCause() cause}). Unchecked, and named apart from
 * {@link java.util.concurrent.TimeoutException}, which {@code chatAsync(…).get(timeout, unit)}
 * throws. Immutable and thread-safe.
 *
 * <p>{@link #isRetryable()}: when the limit fired on an attempt, the retry policy's {@link
 * RetryPolicy#retryOnTimeout() retryOnTimeout()}; when the retry deadline (or a stream's total
 * limit) stopped the client from retrying an earlier failure, that failure's flag.
 */
public final class CallTimeoutException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  /** The time limits the SDK enforces. */
  public enum Limit {
    /** Establishing the TCP/TLS connection ({@code connectTimeout}). */
    CONNECT,
    /** One whole attempt of a non-streaming call ({@code timeout}). */
    CALL,
    /** The overall deadline of the retry policy, across all attempts. */
    DEADLINE,
    /** Waiting for the first event of a stream. */
    FIRST_EVENT,
    /** The gap between two reads of a stream ({@code streamTimeout}). */
    IDLE,
    /** The whole duration of a stream. */
    TOTAL
  }

  private final Limit limit;

  /**
   * Creates a timeout exception.
   *
   * @param limit the limit that fired
   * @param message what timed out
   * @param requestId the request id of the call
   * @param attempts attempts made
   * @param cause the underlying I/O exception, or the failure whose retries the limit ended, or null
   * @param retryable whether a new call may succeed; see {@link #isRetryable()}
   */
  public CallTimeoutException(
      Limit limit, String message, @Nullable String requestId, int attempts, @Nullable Throwable cause,
      boolean retryable) {
    super(message, requestId, attempts, cause, retryable);
    this.limit = Objects.requireNonNull(limit, "limit");
  }

  /**
   * Returns the limit that fired.
   *
   * @return the limit
   */
  public Limit limit() {
    return limit;
  }
}
