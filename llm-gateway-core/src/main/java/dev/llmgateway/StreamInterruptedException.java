package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * A stream ended without {@code done}, {@code error} or {@code [DONE]}: it was cut off (the
 * connection dropped, a proxy closed it, the body was truncated). Never a silent success: {@link
 * #partialText()} holds what arrived.
 */
public final class StreamInterruptedException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  private final String partialText;

  /**
   * Creates the exception.
   *
   * @param message what happened
   * @param partialText the answer text received before the cut
   * @param requestId the request id of the call
   * @param attempts attempts made
   * @param cause the I/O failure, or null for a clean end of stream
   */
  public StreamInterruptedException(
      String message, String partialText, @Nullable String requestId, int attempts, @Nullable Throwable cause) {
    super(message, requestId, attempts, cause);
    this.partialText = partialText;
  }

  /** @return the answer text received before the stream was cut off */
  public String partialText() {
    return partialText;
  }
}
