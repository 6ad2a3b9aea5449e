package dev.llmgateway.host;

import dev.llmgateway.CallCancelledException;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.StreamInterruptedException;
import dev.llmgateway.Usage;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What one chat call delivered to the user, the input of a {@link SettlementPolicy}. Immutable and
 * thread-safe.
 *
 * @param outcome how the call ended
 * @param query the user's query as sent
 * @param deliveredText the answer text the user received (for a stream: every token relayed
 *     before the end)
 * @param reportedUsage the token counts the service reported (in a {@code done} event, a
 *     synchronous answer or a completion webhook), or null when it reported none
 */
public record Delivery(Outcome outcome, String query, String deliveredText, @Nullable Usage reportedUsage) {
  /** How a call ended. Immutable and thread-safe. */
  public enum Outcome {
    /** The answer arrived whole (a {@code done} event, or a synchronous answer). */
    COMPLETED,
    /** The service ended the stream with an {@code error} event, or the call failed otherwise. */
    FAILED,
    /** The stream was cut off without {@code done}, {@code error} or {@code [DONE]}. */
    INTERRUPTED,
    /** The user or the host cancelled the call (for a stream: the browser went away). */
    CANCELLED
  }

  /**
   * Checks the values.
   *
   * @param outcome how the call ended
   * @param query the query
   * @param deliveredText the text delivered
   * @param reportedUsage the usage reported, or null
   */
  public Delivery {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(query, "query");
    Objects.requireNonNull(deliveredText, "deliveredText");
  }

  /**
   * Describes a stream that ended with {@code done}.
   *
   * @param query the query sent
   * @param completion what the stream produced
   * @return the delivery
   */
  public static Delivery completed(String query, StreamCompletion completion) {
    return new Delivery(Outcome.COMPLETED, query, completion.text(), completion.usage());
  }

  /**
   * Describes a synchronous answer.
   *
   * @param query the query sent
   * @param response the answer
   * @return the delivery
   */
  public static Delivery completed(String query, ChatResponse response) {
    return new Delivery(Outcome.COMPLETED, query, response.answer(), response.usage());
  }

  /**
   * Describes a call that ended early with {@code error}, using the text the host relayed.
   *
   * @param query the query sent
   * @param deliveredText the answer text relayed to the user before the end
   * @param error why it ended: {@link CallCancelledException} is {@link Outcome#CANCELLED}, {@link
   *     StreamInterruptedException} {@link Outcome#INTERRUPTED}, anything else {@link
   *     Outcome#FAILED}
   * @return the delivery, without reported usage (an ended stream reports none)
   */
  public static Delivery ended(String query, String deliveredText, LlmGatewayException error) {
    return new Delivery(outcomeOf(error), query, deliveredText, null);
  }

  /**
   * Describes a call that ended early with {@code error}, using the text the SDK had received
   * ({@code partialText()} of {@link StreamErrorException} and {@link StreamInterruptedException};
   * none for other exceptions). Prefer {@link #ended(String, String, LlmGatewayException)} when the
   * host knows what it relayed.
   *
   * @param query the query sent
   * @param error why it ended
   * @return the delivery, without reported usage
   */
  public static Delivery ended(String query, LlmGatewayException error) {
    String partial = "";
    if (error instanceof StreamErrorException) {
      partial = ((StreamErrorException) error).partialText();
    } else if (error instanceof StreamInterruptedException) {
      partial = ((StreamInterruptedException) error).partialText();
    }
    return ended(query, partial, error);
  }

  private static Outcome outcomeOf(LlmGatewayException error) {
    if (error instanceof CallCancelledException) {
      return Outcome.CANCELLED;
    }
    if (error instanceof StreamInterruptedException) {
      return Outcome.INTERRUPTED;
    }
    return Outcome.FAILED;
  }

  /**
   * Describes the delivery for logs without the user's query or the answer text.
   *
   * @return the outcome, the lengths of the query and of the delivered text, and the usage reported
   */
  @Override
  public String toString() {
    return "Delivery[outcome=" + outcome + ", queryLength=" + query.length() + ", deliveredLength="
        + deliveredText.length() + ", reportedUsage=" + reportedUsage + ']';
  }
}
