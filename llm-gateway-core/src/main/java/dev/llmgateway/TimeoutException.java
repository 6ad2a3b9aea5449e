package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * A time limit fired before the service answered. {@link #limit()} says which one.
 *
 * <p>Named like {@link java.util.concurrent.TimeoutException} on purpose, but unchecked and in this
 * package; import it explicitly.
 */
public final class TimeoutException extends LlmGatewayException {
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
   * @param cause the underlying I/O exception, or null
   */
  public TimeoutException(
      Limit limit, String message, @Nullable String requestId, int attempts, @Nullable Throwable cause) {
    super(message, requestId, attempts, cause);
    this.limit = limit;
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
