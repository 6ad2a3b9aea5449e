package dev.llmgateway.host;

import dev.llmgateway.CallCancelledException;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.StreamCompletion;
import org.jspecify.annotations.Nullable;

/**
 * How a relay to a browser ended; the host settles credits and audits from it.
 *
 * @param outcome how it ended
 * @param completion what the stream produced, when it completed (also when the browser went away
 *     while being sent the final {@code complete} event: the service finished and reported its usage)
 * @param failure why it did not complete (a {@link CallCancelledException} when the browser went
 *     away), or null
 * @param text the answer text the browser was sent
 */
public record RelayResult(
    Outcome outcome, @Nullable StreamCompletion completion, @Nullable LlmGatewayException failure, String text) {

  /** The ways a relay ends. */
  public enum Outcome {
    /** The stream completed and the browser got the {@code complete} event. */
    COMPLETED,
    /** The upstream failed; the browser got an {@code error} event. */
    FAILED,
    /** The browser went away; the upstream call was cancelled. */
    CLIENT_DISCONNECTED
  }
}
