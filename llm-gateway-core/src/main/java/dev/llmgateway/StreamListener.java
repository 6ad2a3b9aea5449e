package dev.llmgateway;

/**
 * Receives a streamed answer pushed to it (see {@link LlmGatewayClient#chatStream(ChatRequest,
 * UserContext, StreamListener)}).
 *
 * <p>One and only one of {@link #onComplete} and {@link #onError} is called, exactly once, whatever
 * happens: a service error event, a cut-off, a timeout, a cancel, or a listener method that throws
 * (which ends the stream with that failure). Methods are called one at a time, in order, on a
 * stream thread of the client's OkHttp dispatcher executor; they may call {@link
 * StreamHandle#cancel()}. Keep them short: while they run, the stream is not read (which is the
 * backpressure a slow consumer exerts).
 */
public interface StreamListener {
  /**
   * An event arrived. Called for every event, tokens included, before {@link #onToken}.
   *
   * @param event the event
   */
  default void onEvent(StreamEvent event) {}

  /**
   * A piece of the answer text arrived.
   *
   * @param content the text piece
   */
  default void onToken(String content) {}

  /**
   * The stream finished normally.
   *
   * @param completion what it produced
   */
  default void onComplete(StreamCompletion completion) {}

  /**
   * The stream failed or was cancelled ({@link CallCancelledException}).
   *
   * @param error why it ended
   */
  default void onError(LlmGatewayException error) {}
}
