package dev.llmgateway.webhooks;

import dev.llmgateway.auth.internal.KeyShapes;
import java.util.Base64;
import java.util.Objects;

/**
 * The shared secret of Standard Webhooks signatures, as raw bytes. The service shares it as {@code
 * whsec_} followed by the base64 of the bytes; {@link #parse(String)} reads that form.
 *
 * <p>At least {@value #MIN_BYTES} bytes, as Standard Webhooks requires, and not key material of
 * another kind (a PEM block, an OpenSSH key, a JWK). Immutable and thread-safe;
 * the bytes are copied in and never handed out, logged or shown by {@link #toString()}.
 */
public final class WebhookSecret {
  /** The prefix of the text form. */
  public static final String PREFIX = "whsec_";
  /** The shortest secret accepted, in bytes (192 bits). */
  public static final int MIN_BYTES = 24;

  private final byte[] bytes;

  private WebhookSecret(byte[] bytes) {
    if (bytes.length < MIN_BYTES) {
      throw new IllegalArgumentException("Webhook secret is " + bytes.length + " bytes; Standard Webhooks"
          + " secrets must be at least " + MIN_BYTES + " bytes of random data");
    }
    String kind = KeyShapes.asymmetricKind(bytes);
    if (kind != null) {
      throw new IllegalArgumentException("Webhook secret looks like " + kind + ", not a shared secret:"
          + " anyone holding a public key could sign webhooks with it; use at least " + MIN_BYTES
          + " bytes of random data");
    }
    this.bytes = bytes;
  }

  /**
   * Reads the text form: {@code whsec_} followed by standard base64 (the prefix may be left out).
   *
   * @param secret e.g. {@code whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}
   * @return the secret
   * @throws IllegalArgumentException if the text is not base64, decodes to fewer than {@value
   *     #MIN_BYTES} bytes or to a PEM, OpenSSH or JWK key; the message never contains the text
   */
  public static WebhookSecret parse(String secret) {
    Objects.requireNonNull(secret, "secret");
    String encoded = secret.strip();
    if (encoded.startsWith(PREFIX)) {
      encoded = encoded.substring(PREFIX.length());
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(encoded);
    } catch (IllegalArgumentException e) {
      // The decoder's message quotes a character of the secret, so it is not kept as the cause.
      throw new IllegalArgumentException(
          "Webhook secret must be \"whsec_\" followed by standard base64 (A-Z a-z 0-9 + / =)");
    }
    return new WebhookSecret(decoded);
  }

  /**
   * Wraps raw secret bytes.
   *
   * @param secret at least {@value #MIN_BYTES} bytes; copied
   * @return the secret
   * @throws IllegalArgumentException if shorter than {@value #MIN_BYTES} bytes, or a PEM, OpenSSH
   *     or JWK key
   */
  public static WebhookSecret ofBytes(byte[] secret) {
    return new WebhookSecret(Objects.requireNonNull(secret, "secret").clone());
  }

  /** Returns the bytes without copying them. Never hand them out. */
  byte[] bytes() {
    return bytes;
  }

  /** Shows the length only. */
  @Override
  public String toString() {
    return "WebhookSecret{" + bytes.length + " bytes, value=<redacted>}";
  }
}
