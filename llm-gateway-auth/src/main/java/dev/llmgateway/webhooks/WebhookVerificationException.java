package dev.llmgateway.webhooks;

import dev.llmgateway.LlmGatewayException;
import java.util.Objects;

/**
 * A webhook delivery was refused: the host should answer {@code 400} (or {@code 401}) and act on
 * nothing in it. {@link #reason()} says why; the message names the rule that failed and never
 * contains the secret, a header value or any part of the body.
 *
 * <p>A redelivered message is not an error: see {@link VerifiedWebhook#isDuplicate()}.
 */
public final class WebhookVerificationException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  /** Why a delivery was refused. */
  public enum Reason {
    /** {@code webhook-id}, {@code webhook-timestamp} or {@code webhook-signature} is absent. */
    MISSING_HEADER,
    /**
     * A header is present but unusable: a timestamp that is not 1 to 19 ASCII digits, an id that
     * is not 1 to 256 visible ASCII characters (a space, control or non-ASCII character, even a
     * Unicode space at either end), a signature header with no {@code version,signature} entry, or
     * a repeated {@code webhook-id} or {@code webhook-timestamp} whose values differ.
     */
    MALFORMED_HEADER,
    /**
     * No {@code v1} signature matches: forged, altered (even one byte of the body), or signed with
     * another secret. Check that the raw body bytes are verified, not re-serialized JSON.
     */
    BAD_SIGNATURE,
    /** The timestamp is older than the tolerance (5 minutes by default): a replay or a slow queue. */
    STALE_TIMESTAMP,
    /** The timestamp is further in the future than the tolerance: check the clocks. */
    FUTURE_TIMESTAMP,
    /**
     * The signature is valid but the body is not exactly one JSON object: not JSON, not an object,
     * data after the object, or a name twice in an object.
     */
    MALFORMED_BODY
  }

  private final Reason reason;

  /**
   * Creates the exception.
   *
   * @param reason why the delivery was refused
   * @param message detail for logs; must not contain the secret
   */
  public WebhookVerificationException(Reason reason, String message) {
    super(message, null, 0, null);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /**
   * Returns why the delivery was refused.
   *
   * @return the reason
   */
  public Reason reason() {
    return reason;
  }
}
