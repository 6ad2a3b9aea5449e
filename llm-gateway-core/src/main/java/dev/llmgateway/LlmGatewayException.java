package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * The root of every exception the SDK throws. Unchecked, like OkHttp's and Retrofit's.
 *
 * <p>Each exception carries the {@linkplain #requestId() request id} of the logical call (sent as
 * {@code X-Request-Id}, the same on every retry) and the number of HTTP {@linkplain #attempts()
 * attempts} made. Messages never contain a credential: no service token, JWT or secret.
 */
public class LlmGatewayException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final @Nullable String requestId;
  private final int attempts;

  /**
   * Creates an exception.
   *
   * @param message what went wrong, without secrets
   * @param requestId the request id of the logical call, or null when none was assigned yet
   * @param attempts the number of HTTP attempts made (0 when nothing was sent)
   * @param cause the underlying failure, or null
   */
  public LlmGatewayException(
      String message, @Nullable String requestId, int attempts, @Nullable Throwable cause) {
    super(message, cause);
    this.requestId = requestId;
    this.attempts = attempts;
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
}
