package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.ServiceJwt;
import dev.llmgateway.auth.ServiceJwtMinter;
import dev.llmgateway.auth.ServiceJwtVerifier;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.auth.StreamTokenVerifier;
import dev.llmgateway.auth.TokenVerificationException;
import dev.llmgateway.auth.TokenVerificationException.Reason;
import dev.llmgateway.auth.VerifiedServiceToken;
import dev.llmgateway.auth.VerifiedStreamToken;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Service JWTs and stream tokens between this module and PyJWT, the service's JWT library. */
@Tag("interop")
class JwtInteropTest {
  private static final String SECRET = "interop-secret-0123456789abcdefghijklmnopqrstuvwxyz";
  private static final String KID = "2026-11";
  private static final UserContext USER =
      UserContext.builder().userId("123").companyId("456").role("client").companyRole("owner").build();

  private final JwtKeySet keys = JwtKeySet.of(KID, SECRET);

  private static Map<String, Object> verifyInput(String token, String audience) {
    return Map.of("token", token, "secret_b64", b64(SECRET), "audience", audience, "issuer", "rails-api");
  }

  private static String b64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String pyJwtToken(String secret, Map<String, Object> claims, String kid, String algorithm)
      throws Exception {
    JsonNode out = Python.run("mint-jwt", Map.of("secret_b64", b64(secret), "claims", claims,
        "headers", Map.of("kid", kid), "algorithm", algorithm));
    return out.get("token").textValue();
  }

  private static Map<String, Object> contractClaims(String audience) {
    long now = Instant.now().getEpochSecond();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("sub", "123");
    claims.put("company_id", "456");
    claims.put("role", "client");
    claims.put("company_role", "owner");
    claims.put("scopes", List.of("llm:chat:send", "llm:chat:read"));
    claims.put("aud", audience);
    claims.put("iss", "rails-api");
    claims.put("iat", now);
    claims.put("exp", now + 180);
    claims.put("jti", "0b6f7d4e-7d2c-4d55-9a0c-5b1f3c1e9a77");
    return claims;
  }

  @Test
  void pyJwtVerifiesAServiceJwtMintedInJava() throws Exception {
    ServiceJwt jwt = ServiceJwtMinter.builder().keys(keys).environment(name -> null).build()
        .mint(USER, List.of("llm:chat:send", "llm:chat:read"));

    JsonNode out = Python.run("verify-jwt", verifyInput(jwt.token(), "llm-chat"));

    assertThat(out.path("error").isMissingNode()).as("PyJWT error: %s", out.path("error")).isTrue();
    JsonNode claims = out.get("claims");
    assertThat(claims.get("sub").textValue()).isEqualTo("123");
    assertThat(claims.get("company_id").textValue()).isEqualTo("456");
    assertThat(claims.get("role").textValue()).isEqualTo("client");
    assertThat(claims.get("company_role").textValue()).isEqualTo("owner");
    assertThat(claims.get("scopes").toString()).isEqualTo("[\"llm:chat:send\",\"llm:chat:read\"]");
    assertThat(claims.get("jti").textValue()).isEqualTo(jwt.jti());
    assertThat(claims.get("exp").longValue() - claims.get("iat").longValue()).isEqualTo(180);
    assertThat(out.get("header").get("kid").textValue()).isEqualTo(KID);
    assertThat(out.get("header").get("alg").textValue()).isEqualTo("HS256");
  }

  @Test
  void pyJwtVerifiesAStreamTokenMintedInJava() throws Exception {
    StreamToken token = StreamTokenIssuer.builder().keys(keys).serviceBaseUrl("https://llm.example")
        .environment(name -> null).build()
        .issue(ChatRequest.builder().query("Rails in Köln?").sessionId("sess_1").build(), USER, "req-42");

    JsonNode out = Python.run("verify-jwt", verifyInput(token.token(), "llm-chat-stream"));

    assertThat(out.path("error").isMissingNode()).as("PyJWT error: %s", out.path("error")).isTrue();
    JsonNode claims = out.get("claims");
    assertThat(claims.get("req").toString()).isEqualTo("{\"query\":\"Rails in Köln?\",\"session_id\":\"sess_1\"}");
    assertThat(claims.get("rid").textValue()).isEqualTo("req-42");
    assertThat(claims.get("scopes").toString()).isEqualTo("[\"llm:chat:send\"]");
  }

  @Test
  void pyJwtRefusesAServiceJwtOfferedAsStreamToken() throws Exception {
    ServiceJwt jwt = ServiceJwtMinter.builder().keys(keys).environment(name -> null).build()
        .mint(USER, List.of("llm:chat:send"));

    JsonNode out = Python.run("verify-jwt", verifyInput(jwt.token(), "llm-chat-stream"));

    assertThat(out.path("error").asText()).isEqualTo("InvalidAudienceError");
  }

  @Test
  void javaVerifiesAServiceJwtMintedByPyJwt() throws Exception {
    String token = pyJwtToken(SECRET, contractClaims("llm-chat"), KID, "HS256");

    VerifiedServiceToken principal = ServiceJwtVerifier.builder().keys(keys).build().verify(token, "llm:chat:read");

    assertThat(principal.toUserContext()).isEqualTo(USER);
    assertThat(principal.keyId()).isEqualTo(KID);
    assertThat(principal.jti()).isEqualTo("0b6f7d4e-7d2c-4d55-9a0c-5b1f3c1e9a77");
  }

  @Test
  void javaVerifiesAStreamTokenMintedByPyJwt() throws Exception {
    Map<String, Object> claims = contractClaims("llm-chat-stream");
    claims.put("scopes", List.of("llm:chat:send"));
    claims.put("req", Map.of("query", "hello", "user_intent", "search"));
    claims.put("rid", "req-7");
    String token = pyJwtToken(SECRET, claims, KID, "HS256");

    VerifiedStreamToken verified = StreamTokenVerifier.builder().keys(keys).build().verify(token);

    assertThat(verified.request()).isEqualTo(ChatRequest.builder().query("hello").userIntent("search").build());
    assertThat(verified.requestId()).isEqualTo("req-7");
  }

  @Test
  void javaRefusesAPyJwtTokenSignedWithAnotherSecret() throws Exception {
    String token = pyJwtToken("another-secret-0123456789abcdefghijklmnopqrstuvwxyz", contractClaims("llm-chat"),
        KID, "HS256");

    assertThatThrownBy(() -> ServiceJwtVerifier.builder().keys(keys).build().verify(token))
        .isInstanceOfSatisfying(TokenVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE));
  }

  @Test
  void javaRefusesAPyJwtTokenSignedWithHs512() throws Exception {
    String token = pyJwtToken(SECRET, contractClaims("llm-chat"), KID, "HS512");

    assertThatThrownBy(() -> ServiceJwtVerifier.builder().keys(keys).build().verify(token))
        .isInstanceOfSatisfying(TokenVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED));
  }

  @Test
  void pyJwtRefusesAPublicKeyAsAnHmacSecretAsJwtKeySetDoes() throws Exception {
    KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(rsa.getPublic().getEncoded())
        + "\n-----END PUBLIC KEY-----\n";

    JsonNode out = Python.run("mint-jwt", Map.of("secret_b64", b64(pem), "claims", contractClaims("llm-chat"),
        "headers", Map.of("kid", KID), "algorithm", "HS256"));

    assertThat(out.path("error").asText()).isEqualTo("InvalidKeyError");
    assertThatThrownBy(() -> JwtKeySet.of(KID, pem))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PEM");
  }

  @Test
  void javaVerifiesAPyJwtTokenWhoseAudienceIsAOneElementList() throws Exception {
    Map<String, Object> claims = contractClaims("llm-chat");
    claims.put("aud", List.of("llm-chat"));
    String token = pyJwtToken(SECRET, claims, KID, "HS256");

    assertThat(ServiceJwtVerifier.builder().keys(keys).build().verify(token).userId()).isEqualTo("123");
  }

  @Test
  void javaRefusesAPyJwtTokenForTwoAudiencesThatPyJwtItselfAccepts() throws Exception {
    Map<String, Object> claims = contractClaims("llm-chat");
    claims.put("aud", List.of("llm-chat", "llm-chat-stream"));
    String token = pyJwtToken(SECRET, claims, KID, "HS256");

    JsonNode pyJwt = Python.run("verify-jwt", verifyInput(token, "llm-chat"));

    assertThat(pyJwt.path("error").isMissingNode()).as("PyJWT accepts any list holding the audience").isTrue();
    assertThatThrownBy(() -> ServiceJwtVerifier.builder().keys(keys).build().verify(token))
        .isInstanceOfSatisfying(TokenVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.WRONG_AUDIENCE));
  }

  @Test
  void javaRefusesAPyJwtTokenWithAnUnknownKid() throws Exception {
    String token = pyJwtToken(SECRET, contractClaims("llm-chat"), "2019-01", "HS256");

    assertThatThrownBy(() -> ServiceJwtVerifier.builder().keys(keys).build().verify(token))
        .isInstanceOfSatisfying(TokenVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_KEY));
  }
}
