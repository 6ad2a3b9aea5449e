package dev.llmgateway.auth;

import dev.llmgateway.UserContext;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Shared secrets, users and a raw JWT signer for crafting hostile tokens. */
final class Fixtures {
  static final String SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";
  static final String OTHER_SECRET = "other-secret-0123456789abcdefghijklmnopqrstuvwxyz";
  static final String OLD_SECRET = "old-secret-0123456789abcdefghijklmnopqrstuvwxyz!!";
  static final String KID = "2026-11";
  static final String OLD_KID = "2026-05";
  static final Function<String, String> NO_ENV = name -> null;

  static final UserContext USER =
      UserContext.builder().userId("123").companyId("456").role("client").companyRole("owner").build();
  static final UserContext USER_WITHOUT_COMPANY_ROLE =
      UserContext.builder().userId("124").companyId("456").role("recruiter").build();

  private Fixtures() {}

  static JwtKeySet keys() {
    return JwtKeySet.of(KID, SECRET);
  }

  static String b64url(String json) {
    return b64url(json.getBytes(StandardCharsets.UTF_8));
  }

  static String b64url(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** Signs {@code header.payload} with HMAC-SHA256 whatever the header says. */
  static String hs256(String headerJson, String payloadJson, String secret) {
    return hs256(headerJson.getBytes(StandardCharsets.UTF_8), payloadJson.getBytes(StandardCharsets.UTF_8), secret);
  }

  /** Signs raw header and payload bytes (any bytes, not only JSON or UTF-8) with HMAC-SHA256. */
  static String hs256(byte[] header, byte[] payload, String secret) {
    String signingInput = b64url(header) + "." + b64url(payload);
    return signingInput + "." + hmac(signingInput, secret.getBytes(StandardCharsets.UTF_8));
  }

  static String hmac(String signingInput, byte[] secret) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return Base64.getUrlEncoder().withoutPadding()
          .encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** A payload JSON with the contract's claims at {@code iat}, living {@code ttl} seconds, with overrides. */
  static String payload(long iat, long ttl, Map<String, String> rawOverrides) {
    Map<String, String> claims = new LinkedHashMap<>();
    claims.put("sub", "\"123\"");
    claims.put("company_id", "\"456\"");
    claims.put("role", "\"client\"");
    claims.put("scopes", "[\"llm:chat:send\",\"llm:chat:read\"]");
    claims.put("aud", "\"llm-chat\"");
    claims.put("iss", "\"rails-api\"");
    claims.put("iat", Long.toString(iat));
    claims.put("exp", Long.toString(iat + ttl));
    claims.put("jti", "\"6f1c1f0e-4a52-4c1e-9d7a-0c6d3c1c2b11\"");
    claims.putAll(rawOverrides);
    StringBuilder json = new StringBuilder("{");
    claims.forEach((name, value) -> {
      if (value != null) {
        if (json.length() > 1) {
          json.append(',');
        }
        json.append('"').append(name).append("\":").append(value);
      }
    });
    return json.append('}').toString();
  }

  /** Claim overrides as raw JSON values; a null value removes the claim. */
  static Map<String, String> set(String... namesAndValues) {
    Map<String, String> map = new HashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      map.put(namesAndValues[i], namesAndValues[i + 1]);
    }
    return map;
  }

  /** The claims of a valid stream token, as overrides of {@link #payload}. */
  static Map<String, String> streamClaims(Map<String, String> overrides) {
    Map<String, String> claims = new HashMap<>(set(
        "aud", "\"llm-chat-stream\"", "scopes", "[\"llm:chat:send\"]",
        "req", "{\"query\":\"hello\"}", "rid", "\"req-1\""));
    claims.putAll(overrides);
    return claims;
  }

  static String header(String kid) {
    return "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}";
  }
}
