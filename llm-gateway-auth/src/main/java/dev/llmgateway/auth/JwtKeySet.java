package dev.llmgateway.auth;

import dev.llmgateway.auth.internal.KeyShapes;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The HS256 secrets of scheme-2 JWTs and stream tokens, each named by a key id ({@code kid}): one
 * active key that signs, plus older keys that still verify while tokens signed with them may be in
 * flight (rotation).
 *
 * <p>To rotate: add the new secret as the active key on the verifying side first (keeping the old
 * one as a verification key), then switch the signing side, then drop the old key once its last
 * tokens have expired (at most five minutes).
 *
 * <pre>{@code
 * JwtKeySet keys = JwtKeySet.builder()
 *     .activeKey("2026-11", newSecret)
 *     .verificationKey("2026-05", oldSecret)
 *     .build();
 * }</pre>
 *
 * <p>Every secret is at least {@value #MIN_SECRET_BYTES} bytes (RFC 7518 section 3.2) and is not
 * key material of another kind: a PEM block ({@code -----BEGIN ...}), an OpenSSH key ({@code
 * ssh-rsa}, {@code ssh-ed25519}, {@code ecdsa-sha2-...}) or a JWK ({@code {"kty": ...}}) is
 * refused, since an HMAC keyed with a public key can be computed by anyone (algorithm confusion).
 * PyJWT refuses such keys too. Immutable and thread-safe; the secrets are copied in and never
 * handed out, logged or shown by {@link #toString()}.
 */
public final class JwtKeySet {
  /** The shortest secret accepted, in bytes: HS256 needs a key at least as long as its hash. */
  public static final int MIN_SECRET_BYTES = 32;
  /** The longest key id accepted. */
  public static final int MAX_KEY_ID_LENGTH = 128;

  private final String activeKeyId;
  private final Map<String, byte[]> secrets;

  private JwtKeySet(String activeKeyId, Map<String, byte[]> secrets) {
    this.activeKeyId = activeKeyId;
    this.secrets = Collections.unmodifiableMap(secrets);
  }

  /**
   * Returns a set holding one key, which signs and verifies.
   *
   * @param keyId the {@code kid}: printable ASCII, 1 to {@value #MAX_KEY_ID_LENGTH} characters
   * @param secret the secret, at least {@value #MIN_SECRET_BYTES} bytes; copied
   * @return the key set
   * @throws IllegalArgumentException if the key id or the secret breaks the rules above (too short,
   *     or a PEM, OpenSSH or JWK key)
   */
  public static JwtKeySet of(String keyId, byte[] secret) {
    return builder().activeKey(keyId, secret).build();
  }

  /**
   * Returns a set holding one key given as text, used as its UTF-8 bytes (as PyJWT does with a
   * {@code str} key).
   *
   * @param keyId the {@code kid}: printable ASCII, 1 to {@value #MAX_KEY_ID_LENGTH} characters
   * @param secret the secret, at least {@value #MIN_SECRET_BYTES} bytes in UTF-8
   * @return the key set
   * @throws IllegalArgumentException if the key id or the secret breaks the rules above (too short,
   *     or a PEM, OpenSSH or JWK key)
   */
  public static JwtKeySet of(String keyId, String secret) {
    return builder().activeKey(keyId, secret).build();
  }

  /**
   * Starts a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the id of the key that signs.
   *
   * @return the active {@code kid}
   */
  public String activeKeyId() {
    return activeKeyId;
  }

  /**
   * Returns the ids of every key that verifies, the active one first.
   *
   * @return an unmodifiable set in insertion order
   */
  public Set<String> keyIds() {
    return secrets.keySet();
  }

  /** Returns the secret for {@code keyId} without copying it, or null. Never hand it out. */
  byte @Nullable [] secret(String keyId) {
    return secrets.get(keyId);
  }

  /** Returns the active secret without copying it. Never hand it out. */
  byte[] activeSecret() {
    return Objects.requireNonNull(secrets.get(activeKeyId));
  }

  /** Shows the key ids only. */
  @Override
  public String toString() {
    return "JwtKeySet{active=" + activeKeyId + ", keys=" + secrets.keySet() + "}";
  }

  /** Builds a {@link JwtKeySet}. Not thread-safe. */
  public static final class Builder {
    private @Nullable String activeKeyId;
    private final Map<String, byte[]> secrets = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Sets the key that signs (and verifies). Required, once.
     *
     * @param keyId the {@code kid}: printable ASCII, 1 to {@value #MAX_KEY_ID_LENGTH} characters
     * @param secret the secret, at least {@value #MIN_SECRET_BYTES} bytes; copied
     * @return this builder
     * @throws IllegalArgumentException if the key id or secret breaks the rules, the key id is
     *     already in the set, or an active key was already set
     */
    public Builder activeKey(String keyId, byte[] secret) {
      if (activeKeyId != null) {
        throw new IllegalArgumentException("active key was already set to kid " + activeKeyId);
      }
      add(keyId, secret);
      activeKeyId = keyId;
      return this;
    }

    /**
     * Sets the key that signs, given as text and used as its UTF-8 bytes.
     *
     * @param keyId the {@code kid}
     * @param secret the secret, at least {@value #MIN_SECRET_BYTES} bytes in UTF-8
     * @return this builder
     * @throws IllegalArgumentException as {@link #activeKey(String, byte[])}
     */
    public Builder activeKey(String keyId, String secret) {
      return activeKey(keyId, utf8(secret));
    }

    /**
     * Adds an older key that verifies but no longer signs.
     *
     * @param keyId the {@code kid}: printable ASCII, 1 to {@value #MAX_KEY_ID_LENGTH} characters
     * @param secret the secret, at least {@value #MIN_SECRET_BYTES} bytes; copied
     * @return this builder
     * @throws IllegalArgumentException if the key id or secret breaks the rules, or the key id is
     *     already in the set
     */
    public Builder verificationKey(String keyId, byte[] secret) {
      add(keyId, secret);
      return this;
    }

    /**
     * Adds an older key given as text, used as its UTF-8 bytes.
     *
     * @param keyId the {@code kid}
     * @param secret the secret, at least {@value #MIN_SECRET_BYTES} bytes in UTF-8
     * @return this builder
     * @throws IllegalArgumentException as {@link #verificationKey(String, byte[])}
     */
    public Builder verificationKey(String keyId, String secret) {
      return verificationKey(keyId, utf8(secret));
    }

    /**
     * Builds the key set.
     *
     * @return the key set
     * @throws IllegalStateException if no active key was set
     */
    public JwtKeySet build() {
      if (activeKeyId == null) {
        throw new IllegalStateException("JwtKeySet needs an active key: call activeKey(kid, secret)");
      }
      Map<String, byte[]> ordered = new LinkedHashMap<>();
      ordered.put(activeKeyId, secrets.get(activeKeyId));
      ordered.putAll(secrets);
      return new JwtKeySet(activeKeyId, ordered);
    }

    private void add(String keyId, byte[] secret) {
      checkKeyId(keyId);
      Objects.requireNonNull(secret, "secret");
      if (secret.length < MIN_SECRET_BYTES) {
        throw new IllegalArgumentException(
            "JWT secret for kid " + keyId + " is " + secret.length + " bytes; HS256 secrets must be at least "
                + MIN_SECRET_BYTES + " bytes (256 bits) of random data");
      }
      String kind = KeyShapes.asymmetricKind(secret);
      if (kind != null) {
        throw new IllegalArgumentException("JWT secret for kid " + keyId + " looks like " + kind
            + ", not a shared secret: HS256 tokens keyed with a public key can be signed by anyone who has it"
            + " (algorithm confusion); use at least " + MIN_SECRET_BYTES + " bytes of random data");
      }
      if (secrets.containsKey(keyId)) {
        throw new IllegalArgumentException("kid " + keyId + " is already in the key set");
      }
      secrets.put(keyId, secret.clone());
    }

    private static void checkKeyId(String keyId) {
      Objects.requireNonNull(keyId, "keyId");
      if (keyId.isEmpty() || keyId.length() > MAX_KEY_ID_LENGTH) {
        throw new IllegalArgumentException(
            "keyId must be 1 to " + MAX_KEY_ID_LENGTH + " characters, was " + keyId.length());
      }
      for (int i = 0; i < keyId.length(); i++) {
        char c = keyId.charAt(i);
        if (c <= 0x20 || c > 0x7e) {
          throw new IllegalArgumentException("keyId must be printable ASCII without spaces");
        }
      }
    }

    private static byte[] utf8(String secret) {
      return Objects.requireNonNull(secret, "secret").getBytes(StandardCharsets.UTF_8);
    }
  }

  /** True when any secret of this set equals {@code candidate}, compared in constant time. */
  boolean containsSecret(byte[] candidate) {
    boolean found = false;
    for (byte[] secret : secrets.values()) {
      found |= MessageDigest.isEqual(secret, candidate);
    }
    return found;
  }
}
