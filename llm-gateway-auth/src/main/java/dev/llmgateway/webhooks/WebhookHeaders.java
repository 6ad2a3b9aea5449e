package dev.llmgateway.webhooks;

/** The Standard Webhooks header names, lower case (lookups ignore case). */
public final class WebhookHeaders {
  /** The message id, the same on every redelivery. */
  public static final String ID = "webhook-id";
  /** Unix seconds when the message was sent (new on each redelivery). */
  public static final String TIMESTAMP = "webhook-timestamp";
  /** Space-separated {@code version,base64} signatures. */
  public static final String SIGNATURE = "webhook-signature";

  private WebhookHeaders() {}
}
