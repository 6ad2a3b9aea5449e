package dev.llmgateway.webhooks;

import java.time.Instant;

/**
 * A webhook delivery whose signature and timestamp were checked by a {@link WebhookVerifier}.
 *
 * <p>When {@link #isDuplicate()} is true the message was seen before: answer {@code 2xx} and do not
 * act on it again. Otherwise act on it; if acting fails, call {@link WebhookVerifier#forget} before
 * answering non-{@code 2xx} so that the redelivery is processed.
 *
 * <p>Immutable and thread-safe.
 */
public final class VerifiedWebhook {
  private final String id;
  private final Instant timestamp;
  private final boolean duplicate;
  private final byte[] body;
  private final CompletionWebhook completion;

  VerifiedWebhook(String id, Instant timestamp, boolean duplicate, byte[] body, CompletionWebhook completion) {
    this.id = id;
    this.timestamp = timestamp;
    this.duplicate = duplicate;
    this.body = body;
    this.completion = completion;
  }

  /**
   * Returns the message id, the same on every redelivery.
   *
   * @return the {@code webhook-id}
   */
  public String id() {
    return id;
  }

  /**
   * Returns when this delivery was sent.
   *
   * @return the {@code webhook-timestamp}
   */
  public Instant timestamp() {
    return timestamp;
  }

  /**
   * Tells whether this message id was already verified within the verifier's duplicate window.
   *
   * @return true for a redelivery of a message already handled: answer {@code 2xx}, do nothing
   */
  public boolean isDuplicate() {
    return duplicate;
  }

  /**
   * Returns the raw body that was verified, for fields {@link CompletionWebhook} does not model.
   *
   * @return a copy of the bytes
   */
  public byte[] body() {
    return body.clone();
  }

  /**
   * Returns the body parsed.
   *
   * @return the completion event
   */
  public CompletionWebhook completion() {
    return completion;
  }

  @Override
  public String toString() {
    return "VerifiedWebhook{id=" + id + ", timestamp=" + timestamp + ", duplicate=" + duplicate + ", "
        + completion + "}";
  }
}
