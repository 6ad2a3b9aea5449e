package dev.llmgateway.webhooks;

import dev.llmgateway.auth.internal.Hmac;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs webhook messages per Standard Webhooks: {@code v1,} followed by the base64 of
 * HMAC-SHA256(secret, {@code id + "." + timestamp + "." + body}). The sending side of {@link
 * WebhookVerifier}, for tests and for services written in Java.
 *
 * <pre>{@code
 * WebhookSigner signer = WebhookSigner.of(WebhookSecret.parse("whsec_..."));
 * Map<String, String> headers = signer.headers("msg_2Lh...", Instant.now(), body);
 * }</pre>
 *
 * <p>Immutable and thread-safe. {@link #toString()} never shows the secret.
 */
public final class WebhookSigner {
  /** The signature version this scheme writes and reads. */
  public static final String VERSION = "v1";
  /** The longest {@code webhook-id} accepted (CONTRACT section 5). */
  public static final int MAX_MESSAGE_ID_LENGTH = 256;

  private final WebhookSecret secret;

  private WebhookSigner(WebhookSecret secret) {
    this.secret = secret;
  }

  /**
   * Returns a signer for a secret.
   *
   * @param secret the shared secret
   * @return the signer
   */
  public static WebhookSigner of(WebhookSecret secret) {
    return new WebhookSigner(Objects.requireNonNull(secret, "secret"));
  }

  /**
   * Signs one message.
   *
   * @param messageId the {@code webhook-id}: 1 to {@value #MAX_MESSAGE_ID_LENGTH} visible ASCII
   *     characters ({@code !} to {@code ~}; no space, control or non-ASCII character), as {@link
   *     WebhookVerifier} requires
   * @param timestampSeconds the {@code webhook-timestamp}, Unix seconds
   * @param body the exact body bytes to be sent
   * @return the {@code webhook-signature} value, e.g. {@code v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=}
   * @throws IllegalArgumentException if the message id breaks the rule above or the timestamp is
   *     negative: the verifier would refuse the message
   */
  public String sign(String messageId, long timestampSeconds, byte[] body) {
    checkMessageId(messageId);
    if (timestampSeconds < 0) {
      throw new IllegalArgumentException("timestampSeconds < 0: " + timestampSeconds);
    }
    return VERSION + "," + signature(secret, messageId, Long.toString(timestampSeconds), body);
  }

  /**
   * Returns the three headers of one message.
   *
   * @param messageId the {@code webhook-id}: 1 to {@value #MAX_MESSAGE_ID_LENGTH} visible ASCII
   *     characters
   * @param timestamp when the message is sent, not before 1970; truncated to seconds
   * @param body the exact body bytes to be sent
   * @return {@code webhook-id}, {@code webhook-timestamp} and {@code webhook-signature}, in that
   *     order, unmodifiable
   * @throws IllegalArgumentException as {@link #sign}
   */
  public Map<String, String> headers(String messageId, Instant timestamp, byte[] body) {
    long seconds = timestamp.getEpochSecond();
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(WebhookHeaders.ID, messageId);
    headers.put(WebhookHeaders.TIMESTAMP, Long.toString(seconds));
    headers.put(WebhookHeaders.SIGNATURE, sign(messageId, seconds, body));
    return Collections.unmodifiableMap(headers);
  }

  /** Base64 of HMAC-SHA256(secret, id + "." + timestamp + "." + body), without the version. */
  static String signature(WebhookSecret secret, String messageId, String timestamp, byte[] body) {
    return Base64.getEncoder().encodeToString(digest(Hmac.initialised(key(secret)), messageId, timestamp, body));
  }

  static SecretKeySpec key(WebhookSecret secret) {
    return new SecretKeySpec(secret.bytes(), Hmac.ALGORITHM);
  }

  /**
   * Returns the raw HMAC of {@code id.timestamp.body} (Standard Webhooks' signed content).
   *
   * @param mac an initialised Mac of the caller's own; used up
   */
  static byte[] digest(Mac mac, String messageId, String timestamp, byte[] body) {
    mac.update(messageId.getBytes(StandardCharsets.UTF_8));
    mac.update((byte) '.');
    mac.update(timestamp.getBytes(StandardCharsets.US_ASCII));
    mac.update((byte) '.');
    mac.update(body);
    return mac.doFinal();
  }

  static void checkMessageId(String messageId) {
    Objects.requireNonNull(messageId, "messageId");
    if (!isMessageId(messageId)) {
      throw new IllegalArgumentException("messageId must be 1 to " + MAX_MESSAGE_ID_LENGTH
          + " visible ASCII characters (! to ~, no space)");
    }
  }

  /** True for 1 to 256 visible ASCII characters (VCHAR: {@code !} to {@code ~}). */
  static boolean isMessageId(String messageId) {
    if (messageId.isEmpty() || messageId.length() > MAX_MESSAGE_ID_LENGTH) {
      return false;
    }
    for (int i = 0; i < messageId.length(); i++) {
      char c = messageId.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "WebhookSigner{secret=<redacted>}";
  }
}
