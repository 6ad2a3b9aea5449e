package dev.llmgateway;

import java.util.concurrent.CompletableFuture;

/**
 * Controls a stream delivered to a {@link StreamListener}. Thread-safe.
 */
public interface StreamHandle {
  /**
   * Cancels the stream: the HTTP call is cancelled at once and the listener's {@link
   * StreamListener#onError} receives a {@link CallCancelledException} (unless the stream had
   * already ended). Safe from any thread, including from inside a listener method; idempotent.
   */
  void cancel();

  /**
   * Returns the request id of the stream.
   *
   * @return the {@code X-Request-Id}
   */
  String requestId();

  /**
   * Returns a future that completes when the stream ends, with the completion or the failure the
   * listener received, after the listener's {@code onComplete} or {@code onError} has returned.
   * Cancelling this future does not cancel the stream; use {@link #cancel()}.
   *
   * @return the future
   */
  CompletableFuture<StreamCompletion> completion();
}
