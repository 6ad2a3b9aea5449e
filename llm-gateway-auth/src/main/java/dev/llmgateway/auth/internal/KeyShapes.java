package dev.llmgateway.auth.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Recognises key material that is not a shared secret: a PEM block, an OpenSSH key, a JWK. Used
 * as an HMAC secret, such a key is a footgun: a public key is public, so anyone holding it could
 * sign (the RS256/HS256 algorithm confusion). PyJWT refuses PEM and OpenSSH keys as HMAC secrets
 * for the same reason. Thread-safe.
 */
public final class KeyShapes {
  private static final List<String> PEM_MARKERS = List.of("-----BEGIN", "---- BEGIN");
  private static final List<String> SSH_KEY_TYPES = List.of(
      "ssh-rsa", "ssh-dss", "ssh-ed25519", "ssh-ed448", "ecdsa-sha2-", "sk-ssh-ed25519", "sk-ecdsa-sha2-",
      "-cert-v01@openssh.com");

  private KeyShapes() {}

  /**
   * Names the kind of asymmetric key or key document {@code secret} looks like.
   *
   * @param secret the candidate secret
   * @return {@code "a PEM block"}, {@code "an OpenSSH key"} or {@code "a JWK"}, or null when it
   *     looks like none of them
   */
  public static @Nullable String asymmetricKind(byte[] secret) {
    // Latin-1 maps each byte to one char, so ASCII markers are found in any bytes.
    String text = new String(secret, StandardCharsets.ISO_8859_1);
    for (String marker : PEM_MARKERS) {
      if (text.contains(marker)) {
        return "a PEM block";
      }
    }
    for (String type : SSH_KEY_TYPES) {
      if (text.contains(type)) {
        return "an OpenSSH key";
      }
    }
    String trimmed = text.strip();
    if (trimmed.startsWith("{") && trimmed.contains("\"kty\"")) {
      return "a JWK";
    }
    return null;
  }
}
