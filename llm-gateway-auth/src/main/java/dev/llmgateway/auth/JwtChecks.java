package dev.llmgateway.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.auth.TokenVerificationException.Reason;
import dev.llmgateway.auth.internal.Hmac;
import dev.llmgateway.auth.internal.StrictJson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * The checks shared by both verifiers, in order: shape (three base64url parts, header and payload
 * each exactly one JSON object), algorithm (HS256 only), key by {@code kid}, signature, then the
 * claims (presence, types, audience, issuer, lifetime, time). Nothing from the token is trusted
 * before its signature is checked, and no refusal's message holds a value from the token or the
 * verifier's keys. Immutable and thread-safe.
 */
final class JwtChecks {
  /** Longest token accepted, against oversized input. */
  static final int MAX_TOKEN_LENGTH = 65_536;

  private static final String HMAC = "HmacSHA256";
  private static final int[] BASE64URL_VALUES = base64urlValues();
  private static final long MAX_EPOCH_SECONDS = 253_402_300_799L; // 9999-12-31T23:59:59Z
  private static final List<String> REQUIRED = List.of("sub", "company_id", "scopes", "exp", "iat", "jti");

  private final String kind;
  private final JwtKeySet keys;
  private final Map<String, SecretKeySpec> hmacKeys;
  /** Per kid, a Mac initialised with its key, never used itself: each verify uses a clone. */
  private final Map<String, Mac> hmacPrototypes;
  private final String audience;
  private final String issuer;
  private final Duration leeway;
  private final Duration maxLifetime;
  private final Clock clock;

  JwtChecks(
      String kind, JwtKeySet keys, String audience, String issuer, Duration leeway, Duration maxLifetime,
      Clock clock) {
    this.kind = kind;
    this.keys = keys;
    Map<String, SecretKeySpec> byKid = new LinkedHashMap<>();
    Map<String, Mac> prototypes = new LinkedHashMap<>();
    for (String kid : keys.keyIds()) {
      SecretKeySpec key = new SecretKeySpec(keys.secret(kid), HMAC);
      byKid.put(kid, key);
      prototypes.put(kid, Hmac.initialised(key));
    }
    this.hmacKeys = Collections.unmodifiableMap(byKid);
    this.hmacPrototypes = Collections.unmodifiableMap(prototypes);
    this.audience = audience;
    this.issuer = issuer;
    this.leeway = leeway;
    this.maxLifetime = maxLifetime;
    this.clock = clock;
  }

  Clock clock() {
    return clock;
  }

  Duration leeway() {
    return leeway;
  }

  TokenVerificationException fail(Reason reason, String detail) {
    return new TokenVerificationException(reason, kind + " rejected (" + reason + "): " + detail);
  }

  Verified check(String token) {
    if (token.length() > MAX_TOKEN_LENGTH) {
      throw fail(Reason.MALFORMED, "longer than " + MAX_TOKEN_LENGTH + " characters");
    }
    int firstDot = token.indexOf('.');
    int secondDot = firstDot < 0 ? -1 : token.indexOf('.', firstDot + 1);
    if (secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) {
      throw fail(Reason.MALFORMED, "not a JWT: three base64url parts separated by dots are required");
    }
    ObjectNode header = segment(token, 0, firstDot, "header");
    ObjectNode payload = segment(token, firstDot + 1, secondDot, "payload");
    JsonNode alg = header.get("alg");
    if (alg == null || !JwtSigning.ALGORITHM.equals(alg.textValue())) {
      throw fail(Reason.ALGORITHM_NOT_ALLOWED, "alg must be " + JwtSigning.ALGORITHM);
    }
    if (header.has("crit")) {
      // RFC 7515 section 4.1.11: extensions a verifier does not implement must be refused.
      throw fail(Reason.MALFORMED, "crit names header extensions this verifier does not implement");
    }
    @Nullable String keyId = keyId(header);
    String usedKeyId = keyId == null ? keys.activeKeyId() : keyId;
    SecretKeySpec key = hmacKeys.get(usedKeyId);
    if (key == null) {
      throw fail(Reason.UNKNOWN_KEY, "kid names no key of the verifier's key set");
    }
    byte @Nullable [] signature = base64url(token, secondDot + 1, token.length());
    if (signature == null || !MessageDigest.isEqual(hmac(usedKeyId, key, token, secondDot), signature)) {
      throw fail(Reason.BAD_SIGNATURE, "signature does not match"
          + (keyId == null ? " the active key (no kid)" : " the key its kid names"));
    }
    return checkClaims(payload, usedKeyId);
  }

  private ObjectNode segment(String token, int from, int to, String name) {
    byte @Nullable [] bytes = base64url(token, from, to);
    ObjectNode node = bytes == null ? null : StrictJson.parseObject(bytes);
    if (node == null) {
      // No parser message: it may quote the token.
      throw fail(Reason.MALFORMED, "the " + name + " is not base64url of exactly one JSON object"
          + " (UTF-8, no repeated names, nothing after it)");
    }
    return node;
  }

  /**
   * Decodes unpadded base64url in its one canonical spelling, or returns null: padding, other
   * characters, or set bits after the last byte would let one token be spelled several ways.
   * Decodes from the token's characters directly (no substring, no re-encoding to compare).
   */
  private static byte @Nullable [] base64url(String token, int from, int to) {
    int length = to - from;
    if (length % 4 == 1) {
      return null;
    }
    byte[] out = new byte[length / 4 * 3 + (length % 4 == 0 ? 0 : length % 4 - 1)];
    int bits = 0;
    int pending = 0;
    int o = 0;
    for (int i = from; i < to; i++) {
      char c = token.charAt(i);
      int value = c < BASE64URL_VALUES.length ? BASE64URL_VALUES[c] : -1;
      if (value < 0) {
        return null;
      }
      bits = ((bits << 6) | value) & 0xFFFF;
      pending += 6;
      if (pending >= 8) {
        pending -= 8;
        out[o++] = (byte) (bits >> pending);
      }
    }
    // The canonical spelling leaves the bits after the last byte zero (2 or 4 of them, or none).
    return (bits & ((1 << pending) - 1)) == 0 ? out : null;
  }

  private static int[] base64urlValues() {
    int[] values = new int[128];
    Arrays.fill(values, -1);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < alphabet.length(); i++) {
      values[alphabet.charAt(i)] = i;
    }
    return values;
  }

  private byte[] hmac(String keyId, SecretKeySpec key, String token, int signingInputEnd) {
    Mac mac = Hmac.fresh(Objects.requireNonNull(hmacPrototypes.get(keyId), "prototype"), key);
    // The signing input was checked to be base64url and dots, so ASCII.
    mac.update(token.getBytes(StandardCharsets.US_ASCII), 0, signingInputEnd);
    return mac.doFinal();
  }

  private @Nullable String keyId(ObjectNode header) {
    JsonNode kid = header.get("kid");
    if (kid == null) {
      return null;
    }
    if (!kid.isTextual()) {
      throw fail(Reason.MALFORMED, "kid header must be a string");
    }
    return kid.textValue();
  }

  private Verified checkClaims(ObjectNode payload, String keyId) {
    for (String name : REQUIRED) {
      requirePresent(payload, name);
    }
    String subject = requireText(payload, "sub");
    String companyId = requireText(payload, "company_id");
    String jti = requireText(payload, "jti");
    @Nullable String role = optionalText(payload, "role");
    @Nullable String companyRole = optionalText(payload, "company_role");
    List<String> scopes = scopes(payload.get("scopes"));
    Instant expiresAt = requireTime(payload, "exp");
    Instant issuedAt = requireTime(payload, "iat");
    @Nullable Instant notBefore = isAbsent(payload, "nbf") ? null : requireTime(payload, "nbf");

    requirePresent(payload, "aud");
    if (!audienceMatches(payload.get("aud"))) {
      throw fail(Reason.WRONG_AUDIENCE,
          "aud must be exactly the verifier's audience (a string, or an array holding only it)");
    }
    requirePresent(payload, "iss");
    JsonNode iss = payload.get("iss");
    if (!iss.isTextual() || !iss.textValue().equals(issuer)) {
      throw fail(Reason.WRONG_ISSUER, "iss is not the verifier's issuer");
    }
    if (expiresAt.isBefore(issuedAt)) {
      throw fail(Reason.INVALID_CLAIM, "exp is before iat");
    }
    if (Duration.between(issuedAt, expiresAt).compareTo(maxLifetime) > 0) {
      throw fail(Reason.LIFETIME_TOO_LONG, "exp - iat is longer than the verifier's maximum lifetime");
    }
    Instant now = clock.instant();
    if (!now.isBefore(expiresAt.plus(leeway))) {
      throw fail(Reason.EXPIRED, "exp has passed, beyond the leeway; mint a new token");
    }
    if (issuedAt.isAfter(now.plus(leeway))) {
      throw fail(Reason.NOT_YET_VALID, "iat lies in the future, beyond the leeway; check the clocks");
    }
    if (notBefore != null && notBefore.isAfter(now.plus(leeway))) {
      throw fail(Reason.NOT_YET_VALID, "nbf lies in the future, beyond the leeway; check the clocks");
    }
    return new Verified(payload, keyId, subject, companyId, role, companyRole, scopes, jti, issuedAt,
        expiresAt);
  }

  /**
   * The contract's {@code aud} is one string. An array is accepted only when it holds exactly that
   * string: one holding more would let a token serve several audiences (a service JWT that is also
   * a stream token).
   */
  private boolean audienceMatches(JsonNode aud) {
    JsonNode only = aud.isArray() && aud.size() == 1 ? aud.get(0) : aud;
    return only.isTextual() && only.textValue().equals(audience);
  }

  private List<String> scopes(JsonNode node) {
    if (!node.isArray()) {
      throw fail(Reason.INVALID_CLAIM, "scopes must be an array of strings");
    }
    List<String> scopes = new ArrayList<>(node.size());
    for (JsonNode entry : node) {
      if (!entry.isTextual()) {
        throw fail(Reason.INVALID_CLAIM, "scopes must be an array of strings");
      }
      scopes.add(entry.textValue());
    }
    return List.copyOf(scopes);
  }

  private static boolean isAbsent(ObjectNode payload, String name) {
    JsonNode node = payload.get(name);
    return node == null || node.isNull();
  }

  void requirePresent(ObjectNode payload, String name) {
    if (isAbsent(payload, name)) {
      throw fail(Reason.MISSING_CLAIM, name + " claim is required");
    }
  }

  String requireText(ObjectNode payload, String name) {
    requirePresent(payload, name);
    JsonNode node = payload.get(name);
    if (!node.isTextual() || node.textValue().isEmpty()) {
      throw fail(Reason.INVALID_CLAIM, name + " must be a non-empty string");
    }
    return node.textValue();
  }

  @Nullable String optionalText(ObjectNode payload, String name) {
    return isAbsent(payload, name) ? null : requireText(payload, name);
  }

  private Instant requireTime(ObjectNode payload, String name) {
    JsonNode node = payload.get(name);
    if (!node.isNumber() || !node.canConvertToLong()) {
      throw fail(Reason.INVALID_CLAIM, name + " must be a number of seconds since the epoch");
    }
    long seconds = node.asLong();
    if (seconds < 0 || seconds > MAX_EPOCH_SECONDS) {
      throw fail(Reason.INVALID_CLAIM, name + " is out of range");
    }
    return Instant.ofEpochSecond(seconds);
  }

  /** The claims of a token whose signature, audience, issuer, lifetime and times were checked. */
  static final class Verified {
    final ObjectNode payload;
    final String keyId;
    final String subject;
    final String companyId;
    final @Nullable String role;
    final @Nullable String companyRole;
    final List<String> scopes;
    final String jti;
    final Instant issuedAt;
    final Instant expiresAt;

    Verified(
        ObjectNode payload, String keyId, String subject, String companyId, @Nullable String role,
        @Nullable String companyRole, List<String> scopes, String jti, Instant issuedAt,
        Instant expiresAt) {
      this.payload = payload;
      this.keyId = keyId;
      this.subject = subject;
      this.companyId = companyId;
      this.role = role;
      this.companyRole = companyRole;
      this.scopes = scopes;
      this.jti = jti;
      this.issuedAt = issuedAt;
      this.expiresAt = expiresAt;
    }
  }
}
