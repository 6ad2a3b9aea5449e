package dev.llmgateway.host;

import dev.llmgateway.LlmGatewayException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The host's {@link ChatPolicy} refused a request: nothing was validated, no rate limit permit was
 * taken, nothing was reserved and nothing was sent. Maps to {@code 403} ({@link
 * ErrorKind#FORBIDDEN}). {@link #attempts()} is always 0 and {@link #isRetryable()} false. The
 * message names the action, never the user's ids. (A {@code 403} from the service itself is
 * {@link dev.llmgateway.PermissionDeniedException}: the host's credentials, not the user.)
 * Immutable and thread-safe.
 */
public final class ForbiddenException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  private final ChatPolicy.Action action;

  /**
   * Creates the exception.
   *
   * @param action the action refused
   * @param requestId the request id of the refused request, or null
   */
  public ForbiddenException(ChatPolicy.Action action, @Nullable String requestId) {
    super("The host's chat policy refused " + Objects.requireNonNull(action, "action"), requestId, 0, null);
    this.action = action;
  }

  /**
   * Returns the action the policy refused.
   *
   * @return the action
   */
  public ChatPolicy.Action action() {
    return action;
  }
}
