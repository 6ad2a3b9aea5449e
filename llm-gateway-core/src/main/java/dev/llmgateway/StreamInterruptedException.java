package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * A stream ended without {@code done}, {@code error} or {@code [DONE]} after its first event: it
 * was cut off (the connection dropped, a proxy closed it, the body was truncated). Never a silent
 * success: {@link #partialText()} holds what arrived, and the events before the cut were
 * delivered, so the client does not retry it.
 *
 * <p>Not a {@link TransportException}, although the cause is often the same kind of I/O failure:
 * a transport failure means no answer came and nothing was delivered, while here part of the answer
 * was, and the caller has to deal with it (show it as cut off, settle what was used). A stream
 * cut before its first event is retried like any transport failure and, once the retries are
 * spent, ends with {@link TransportException}. {@link #isRetryable()} is the retry policy's {@link
 * RetryPolicy#retryOnNetworkFailure() retryOnNetworkFailure()}: whether a new call is sensible.
 * Immutable and thread-safe.
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
   * @param retryable whether the retry policy retries network failures
   */
  public StreamInterruptedException(
      String message, String partialText, @Nullable String requestId, int attempts, @Nullable Throwable cause,
      boolean retryable) {
    super(message, requestId, attempts, cause, retryable);
    this.partialText = partialText;
  }

  /** @return the answer text received before the stream was cut off */
  public String partialText() {
    return partialText;
  }
}
