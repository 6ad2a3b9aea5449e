package dev.llmgateway.host;

import dev.llmgateway.LlmGatewayException;
import org.jspecify.annotations.Nullable;

/**
 * A store that holds the host's shared state (a database behind a {@link CreditLedger}, a Redis
 * server behind a rate limiter or a replay store) could not be reached or did not answer in time,
 * so the operation did not take effect and, before a call, nothing was sent to the service. {@link
 * ErrorMapper} answers {@code 503 Service Unavailable} with {@code Retry-After: 1}; {@link
 * #isRetryable()} is true, since a new call may succeed once the store is back. The cause (for
 * example a {@link java.sql.SQLException}) is for the host's logs; the message names the store and
 * the operation, never a credential. Immutable and thread-safe.
 */
public class StateStoreException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what failed, e.g. {@code "Credit ledger: reserve failed: connection refused"};
   *     no credential
   * @param requestId the request id of the call concerned, or null
   * @param cause the store's own failure, or null
   */
  public StateStoreException(String message, @Nullable String requestId, @Nullable Throwable cause) {
    super(message, requestId, 0, cause, true);
  }
}
