package dev.llmgateway.auth.internal;

import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 without a provider lookup per message: keep one {@link Mac} initialised with the key
 * as a prototype that is never updated, and {@link #fresh} hands each caller its own clone
 * (copying the prototype's state only reads it, so threads may clone one prototype at once; a
 * {@code Mac} itself is not thread-safe and is never shared). Falls back to a new instance when a
 * provider's Mac cannot be cloned.
 */
public final class Hmac {
  /** The JCA name of HMAC-SHA256. */
  public static final String ALGORITHM = "HmacSHA256";

  private Hmac() {}

  /**
   * Returns a new Mac initialised with {@code key}.
   *
   * @param key the key
   * @return the Mac, ready for its first message
   * @throws IllegalStateException if the runtime lacks HmacSHA256 or refuses the key
   */
  public static Mac initialised(SecretKeySpec key) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is required of every Java runtime", e);
    }
  }

  /**
   * Returns a Mac of the caller's own, in the prototype's just-initialised state.
   *
   * @param prototype a Mac from {@link #initialised} with {@code key}, never updated
   * @param key its key, for the fallback
   * @return a clone of the prototype, or a new Mac if it cannot be cloned
   */
  public static Mac fresh(Mac prototype, SecretKeySpec key) {
    try {
      return (Mac) prototype.clone();
    } catch (CloneNotSupportedException e) {
      return initialised(key);
    }
  }
}
