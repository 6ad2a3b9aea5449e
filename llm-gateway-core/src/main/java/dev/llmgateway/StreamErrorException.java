package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * The service ended a stream with an {@code error} event: generation failed mid-way. The events
 * before it were delivered, so the client does not retry it. {@link #retryable()} (and so {@link
 * #isRetryable()}) is the service's word on whether sending the message again may succeed.
 * Immutable and thread-safe.
 */
public final class StreamErrorException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  private final String code;
  private final String serviceMessage;
  private final boolean retryable;
  private final String partialText;

  /**
   * Creates the exception.
   *
   * @param code the event's {@code code}
   * @param serviceMessage the event's {@code message}
   * @param retryable the event's {@code retryable}
   * @param partialText the answer text received before the error
   * @param requestId the request id of the call
   * @param attempts attempts made
   */
  public StreamErrorException(
      String code, String serviceMessage, boolean retryable, String partialText, @Nullable String requestId, int attempts) {
    super("The LLM service ended the stream with error " + code + ": " + serviceMessage
        + " (retryable=" + retryable + ", request id " + requestId + ")", requestId, attempts, null, retryable);
    this.code = code;
    this.serviceMessage = serviceMessage;
    this.retryable = retryable;
    this.partialText = partialText;
  }

  /** @return the service's error code */
  public String code() {
    return code;
  }

  /** @return the service's error message */
  public String serviceMessage() {
    return serviceMessage;
  }

  /** @return whether the service says a new attempt may succeed */
  public boolean retryable() {
    return retryable;
  }

  /** @return the answer text received before the error */
  public String partialText() {
    return partialText;
  }
}
