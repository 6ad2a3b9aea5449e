package dev.llmgateway.auth;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTDecodeException;
import com.auth0.jwt.exceptions.SignatureVerificationException;
import com.auth0.jwt.interfaces.Claim;
import com.auth0.jwt.interfaces.DecodedJWT;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.auth.TokenVerificationException.Reason;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The checks shared by both verifiers, in order: shape, algorithm (HS256 only), key by {@code kid},
 * signature, then the claims (presence, types, audience, issuer, lifetime, time). Nothing from the
 * token is trusted before its signature is checked. Immutable and thread-safe.
 */
final class JwtChecks {
  /** Longest token accepted, against oversized input. */
  static final int MAX_TOKEN_LENGTH = 65_536;

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final Pattern SHOWABLE_ALG = Pattern.compile("[A-Za-z0-9]{1,16}");
  private static final long MAX_EPOCH_SECONDS = 253_402_300_799L; // 9999-12-31T23:59:59Z
  private static final List<String> REQUIRED = List.of("sub", "company_id", "scopes", "exp", "iat", "jti");

  private final String kind;
  private final JwtKeySet keys;
  private final Map<String, Algorithm> algorithms;
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
    Map<String, Algorithm> byKid = new LinkedHashMap<>();
    for (String kid : keys.keyIds()) {
      byKid.put(kid, Algorithm.HMAC256(keys.secret(kid)));
    }
    this.algorithms = Collections.unmodifiableMap(byKid);
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
    DecodedJWT jwt;
    try {
      jwt = JWT.decode(token);
    } catch (JWTDecodeException e) {
      // The cause is left out: its message may quote parts of the token.
      throw fail(Reason.MALFORMED, "not a JWT (three base64url parts with a JSON header and payload)");
    }
    String alg = jwt.getAlgorithm();
    if (!JwtSigning.ALGORITHM.equals(alg)) {
      throw fail(Reason.ALGORITHM_NOT_ALLOWED, "alg must be " + JwtSigning.ALGORITHM + ", was "
          + (alg != null && SHOWABLE_ALG.matcher(alg).matches() ? alg : "missing or unprintable"));
    }
    @Nullable String keyId = keyId(jwt);
    Algorithm algorithm = keyId == null ? algorithms.get(keys.activeKeyId()) : algorithms.get(keyId);
    if (algorithm == null) {
      throw fail(Reason.UNKNOWN_KEY, "kid is not one of " + keys.keyIds());
    }
    try {
      algorithm.verify(jwt);
    } catch (SignatureVerificationException e) {
      throw fail(Reason.BAD_SIGNATURE, "signature does not match"
          + (keyId == null ? " the active key (no kid)" : " the key its kid names"));
    }
    ObjectNode payload = payload(jwt);
    return checkClaims(payload, keyId == null ? keys.activeKeyId() : keyId);
  }

  private @Nullable String keyId(DecodedJWT jwt) {
    Claim kid = jwt.getHeaderClaim("kid");
    if (kid == null || kid.isMissing()) {
      return null;
    }
    String value = kid.asString();
    if (value == null) {
      throw fail(Reason.MALFORMED, "kid header must be a string");
    }
    return value;
  }

  private ObjectNode payload(DecodedJWT jwt) {
    try {
      JsonNode node = MAPPER.readTree(Base64.getUrlDecoder().decode(jwt.getPayload()));
      if (node instanceof ObjectNode) {
        return (ObjectNode) node;
      }
    } catch (IOException | IllegalArgumentException e) {
      // fall through: reported below without the cause, which may quote the payload
    }
    throw fail(Reason.MALFORMED, "payload is not a JSON object without duplicate claims");
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
      throw fail(Reason.WRONG_AUDIENCE, "aud does not contain " + audience);
    }
    requirePresent(payload, "iss");
    JsonNode iss = payload.get("iss");
    if (!iss.isTextual() || !iss.textValue().equals(issuer)) {
      throw fail(Reason.WRONG_ISSUER, "iss is not " + issuer);
    }
    if (expiresAt.isBefore(issuedAt)) {
      throw fail(Reason.INVALID_CLAIM, "exp is before iat");
    }
    Duration lifetime = Duration.between(issuedAt, expiresAt);
    if (lifetime.compareTo(maxLifetime) > 0) {
      throw fail(Reason.LIFETIME_TOO_LONG, "exp - iat is " + lifetime.toSeconds() + " s; at most "
          + maxLifetime.toSeconds() + " s allowed");
    }
    Instant now = clock.instant();
    if (!now.isBefore(expiresAt.plus(leeway))) {
      throw fail(Reason.EXPIRED, "expired at " + expiresAt + " (now " + now + ", leeway "
          + leeway.toSeconds() + " s)");
    }
    if (issuedAt.isAfter(now.plus(leeway))) {
      throw fail(Reason.NOT_YET_VALID, "iat " + issuedAt + " is in the future (now " + now + ", leeway "
          + leeway.toSeconds() + " s); check the clocks");
    }
    if (notBefore != null && notBefore.isAfter(now.plus(leeway))) {
      throw fail(Reason.NOT_YET_VALID, "nbf " + notBefore + " is in the future (now " + now + ", leeway "
          + leeway.toSeconds() + " s)");
    }
    return new Verified(payload, keyId, subject, companyId, role, companyRole, scopes, jti, issuedAt,
        expiresAt);
  }

  private boolean audienceMatches(JsonNode aud) {
    if (aud.isTextual()) {
      return aud.textValue().equals(audience);
    }
    if (aud.isArray()) {
      for (JsonNode entry : aud) {
        if (entry.isTextual() && entry.textValue().equals(audience)) {
          return true;
        }
      }
    }
    return false;
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
