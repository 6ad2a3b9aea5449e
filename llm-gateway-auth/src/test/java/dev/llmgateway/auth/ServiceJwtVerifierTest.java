package dev.llmgateway.auth;

import static dev.llmgateway.auth.Fixtures.KID;
import static dev.llmgateway.auth.Fixtures.OLD_KID;
import static dev.llmgateway.auth.Fixtures.OLD_SECRET;
import static dev.llmgateway.auth.Fixtures.OTHER_SECRET;
import static dev.llmgateway.auth.Fixtures.SECRET;
import static dev.llmgateway.auth.Fixtures.USER;
import static dev.llmgateway.auth.Fixtures.b64url;
import static dev.llmgateway.auth.Fixtures.header;
import static dev.llmgateway.auth.Fixtures.hs256;
import static dev.llmgateway.auth.Fixtures.payload;
import static dev.llmgateway.auth.Fixtures.set;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.TokenVerificationException.Reason;
import dev.llmgateway.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ServiceJwtVerifierTest {
  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final long now = clock.instant().getEpochSecond();
  private final ServiceJwtVerifier verifier =
      ServiceJwtVerifier.builder().keys(Fixtures.keys()).clock(clock).build();
  private final ServiceJwtMinter minter =
      ServiceJwtMinter.builder().keys(Fixtures.keys()).clock(clock).environment(Fixtures.NO_ENV).build();

  private String token(Map<String, String> overrides) {
    return hs256(header(KID), payload(now, 180, overrides), SECRET);
  }

  private TokenVerificationException refusal(String token) {
    TokenVerificationException e =
        catchThrowableOfType(TokenVerificationException.class, () -> verifier.verify(token));
    assertThat(e).as("verification should have failed").isNotNull();
    assertThat(e.getMessage()).doesNotContain(SECRET);
    if (!token.isEmpty()) {
      assertThat(e.getMessage()).doesNotContain(token);
    }
    return e;
  }

  @Test
  void acceptsMintedTokenAndReturnsItsPrincipal() {
    ServiceJwt jwt = minter.mint(USER, List.of("llm:chat:send", "llm:chat:read"));

    VerifiedServiceToken principal = verifier.verify(jwt.token());

    assertThat(principal.userId()).isEqualTo("123");
    assertThat(principal.companyId()).isEqualTo("456");
    assertThat(principal.role()).isEqualTo("client");
    assertThat(principal.companyRole()).isEqualTo("owner");
    assertThat(principal.scopes()).containsExactly("llm:chat:send", "llm:chat:read");
    assertThat(principal.jti()).isEqualTo(jwt.jti());
    assertThat(principal.keyId()).isEqualTo(KID);
    assertThat(principal.issuedAt()).isEqualTo(clock.instant());
    assertThat(principal.expiresAt()).isEqualTo(clock.instant().plusSeconds(180));
  }

  @Test
  void principalConvertsToTheCoreUserContext() {
    ServiceJwt jwt = minter.mint(USER, List.of("llm:chat:send"));

    assertThat(verifier.verify(jwt.token()).toUserContext()).isEqualTo(USER);
  }

  @Test
  void principalWithoutRoleCannotBecomeAUserContext() {
    VerifiedServiceToken principal = verifier.verify(token(set("role", null)));

    assertThatThrownBy(principal::toUserContext)
        .isInstanceOfSatisfying(TokenVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.MISSING_CLAIM));
  }

  @Test
  void acceptsTokenGrantingTheRequiredScope() {
    String token = minter.mint(USER, List.of("llm:chat:read")).token();

    assertThat(verifier.verify(token, Operation.GET_SESSION).hasScope("llm:chat:read")).isTrue();
  }

  @Test
  void refusesTokenLackingTheRequiredScope() {
    String token = minter.mint(USER, List.of("llm:chat:read")).token();

    assertThatThrownBy(() -> verifier.verify(token, Operation.DELETE_SESSION))
        .isInstanceOfSatisfying(TokenVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.INSUFFICIENT_SCOPE))
        .hasMessageContaining("llm:chat:delete");
  }

  @Test
  void refusesExpiredToken() {
    String token = token(Map.of());
    clock.advance(Duration.ofSeconds(180 + 30));

    assertThat(refusal(token).reason()).isEqualTo(Reason.EXPIRED);
  }

  @Test
  void acceptsTokenExpiredWithinTheLeeway() {
    String token = token(Map.of());
    clock.advance(Duration.ofSeconds(180 + 29));

    assertThat(verifier.verify(token).userId()).isEqualTo("123");
  }

  @Test
  void refusesTokenWhoseNotBeforeLiesInTheFuture() {
    String token = token(set("nbf", Long.toString(now + 31)));

    assertThat(refusal(token).reason()).isEqualTo(Reason.NOT_YET_VALID);
  }

  @Test
  void refusesTokenIssuedInTheFutureBeyondTheLeeway() {
    String token = hs256(header(KID), payload(now + 31, 180, Map.of()), SECRET);

    assertThat(refusal(token).reason()).isEqualTo(Reason.NOT_YET_VALID);
  }

  @Test
  void refusesTamperedPayload() {
    String[] parts = token(Map.of()).split("\\.");
    String forged = parts[0] + "." + b64url(payload(now, 180, set("sub", "\"999\""))) + "." + parts[2];

    assertThat(refusal(forged).reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesTamperedHeader() {
    String[] parts = token(Map.of()).split("\\.");
    String forged = b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"" + KID + "\",\"x\":1}") + "."
        + parts[1] + "." + parts[2];

    assertThat(refusal(forged).reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesTokenSignedWithAnotherSecret() {
    String token = hs256(header(KID), payload(now, 180, Map.of()), OTHER_SECRET);

    assertThat(refusal(token).reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesAlgNoneWithoutSignature() {
    String token = b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64url(payload(now, 180, Map.of())) + ".";

    assertThat(refusal(token).reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
  }

  @Test
  void refusesAlgNoneMadeByTheJwtLibrary() {
    String token = JWT.create().withSubject("123").withAudience("llm-chat").sign(Algorithm.none());

    assertThat(refusal(token).reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
  }

  @ParameterizedTest
  @ValueSource(strings = {"none", "None", "NONE", "HS384", "HS512", "hs256", "RS256", "ES256", "PS256", ""})
  void refusesEveryAlgorithmButHs256EvenWithAValidHmac(String alg) {
    String token = hs256("{\"alg\":\"" + alg + "\",\"kid\":\"" + KID + "\"}", payload(now, 180, Map.of()), SECRET);

    assertThat(refusal(token).reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
  }

  @Test
  void refusesTokenWithoutAlgHeader() {
    String token = hs256("{\"typ\":\"JWT\",\"kid\":\"" + KID + "\"}", payload(now, 180, Map.of()), SECRET);

    assertThat(refusal(token).reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
  }

  @Test
  void refusesRs256SignedToken() throws Exception {
    KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    String token = JWT.create().withKeyId(KID).withPayload(payload(now, 180, Map.of()))
        .sign(Algorithm.RSA256((RSAPublicKey) rsa.getPublic(), (RSAPrivateKey) rsa.getPrivate()));

    assertThat(refusal(token).reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
  }

  @Test
  void refusesHs256TokenKeyedWithAnRsaPublicKey() throws Exception {
    // HS/RS confusion: an attacker who knows a public key HMACs with it and claims HS256.
    KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    String pem = "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder().encodeToString(rsa.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
    String signingInput = b64url(header(KID)) + "." + b64url(payload(now, 180, Map.of()));
    String token = signingInput + "." + Fixtures.hmac(signingInput, pem.getBytes(StandardCharsets.US_ASCII));

    assertThat(refusal(token).reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesEs256SignedToken() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(256);
    KeyPair ec = generator.generateKeyPair();
    String token = JWT.create().withKeyId(KID).withPayload(payload(now, 180, Map.of()))
        .sign(Algorithm.ECDSA256((ECPublicKey) ec.getPublic(), (ECPrivateKey) ec.getPrivate()));

    assertThat(refusal(token).reason()).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
  }

  @Test
  void refusesWrongAudience() {
    TokenVerificationException e = refusal(token(set("aud", "\"llm-chat-stream\"")));

    assertThat(e.reason()).isEqualTo(Reason.WRONG_AUDIENCE);
  }

  @Test
  void refusesAudienceListHoldingAnotherAudienceBesideTheExpectedOne() {
    assertThat(refusal(token(set("aud", "[\"billing\",\"llm-chat\"]"))).reason()).isEqualTo(Reason.WRONG_AUDIENCE);
  }

  @Test
  void acceptsAudienceListHoldingOnlyTheExpectedAudience() {
    assertThat(verifier.verify(token(set("aud", "[\"llm-chat\"]"))).userId()).isEqualTo("123");
  }

  @Test
  void refusesWrongIssuer() {
    assertThat(refusal(token(set("iss", "\"evil-api\""))).reason()).isEqualTo(Reason.WRONG_ISSUER);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sub", "company_id", "scopes", "exp", "iat", "jti", "aud", "iss"})
  void refusesTokenMissingARequiredClaim(String claim) {
    TokenVerificationException e = refusal(token(set(claim, null)));

    assertThat(e.reason()).isEqualTo(Reason.MISSING_CLAIM);
    assertThat(e.getMessage()).contains(claim + " claim is required");
  }

  @Test
  void refusesNumericSubject() {
    assertThat(refusal(token(set("sub", "123"))).reason()).isEqualTo(Reason.INVALID_CLAIM);
  }

  @Test
  void refusesScopesThatAreNotAnArray() {
    assertThat(refusal(token(set("scopes", "\"llm:chat:send\""))).reason()).isEqualTo(Reason.INVALID_CLAIM);
  }

  @Test
  void refusesExpiryBeforeIssue() {
    String token = hs256(header(KID), payload(now, -10, Map.of()), SECRET);

    assertThat(refusal(token).reason()).isEqualTo(Reason.INVALID_CLAIM);
  }

  @Test
  void refusesLifetimeLongerThan300Seconds() {
    String token = hs256(header(KID), payload(now, 301, Map.of()), SECRET);

    assertThat(refusal(token).reason()).isEqualTo(Reason.LIFETIME_TOO_LONG);
  }

  @Test
  void acceptsLifetimeOfExactly300Seconds() {
    String token = hs256(header(KID), payload(now, 300, Map.of()), SECRET);

    assertThat(verifier.verify(token).expiresAt()).isEqualTo(Instant.ofEpochSecond(now + 300));
  }

  @Test
  void refusesUnknownKeyId() {
    String token = hs256(header("2019-01"), payload(now, 180, Map.of()), SECRET);

    assertThat(refusal(token).reason()).isEqualTo(Reason.UNKNOWN_KEY);
  }

  @Test
  void acceptsTokenSignedWithAnOlderKeyOfTheSet() {
    ServiceJwtVerifier rotating = ServiceJwtVerifier.builder()
        .keys(JwtKeySet.builder().activeKey(KID, SECRET).verificationKey(OLD_KID, OLD_SECRET).build())
        .clock(clock)
        .build();
    String token = hs256(header(OLD_KID), payload(now, 180, Map.of()), OLD_SECRET);

    assertThat(rotating.verify(token).keyId()).isEqualTo(OLD_KID);
  }

  @Test
  void refusesTokenWhoseKidNamesAKeyOtherThanTheOneThatSignedIt() {
    ServiceJwtVerifier rotating = ServiceJwtVerifier.builder()
        .keys(JwtKeySet.builder().activeKey(KID, SECRET).verificationKey(OLD_KID, OLD_SECRET).build())
        .clock(clock)
        .build();
    String token = hs256(header(OLD_KID), payload(now, 180, Map.of()), SECRET);

    assertThatThrownBy(() -> rotating.verify(token))
        .isInstanceOfSatisfying(TokenVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE));
  }

  @Test
  void checksTokenWithoutKidAgainstTheActiveKey() {
    String token = hs256("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload(now, 180, Map.of()), SECRET);

    assertThat(verifier.verify(token).keyId()).isEqualTo(KID);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "not-a-jwt", "a.b", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln"})
  void refusesMalformedTokens(String token) {
    assertThat(refusal(token).reason()).isEqualTo(Reason.MALFORMED);
  }

  @Test
  void refusesSignatureThatIsNotBase64url() {
    String[] parts = token(Map.of()).split("\\.");

    assertThat(refusal(parts[0] + "." + parts[1] + ".!!not*base64!!").reason()).isEqualTo(Reason.BAD_SIGNATURE);
  }

  @Test
  void refusesOversizedToken() {
    String huge = token(set("pad", "\"" + "x".repeat(70_000) + "\""));

    assertThat(refusal(huge).reason()).isEqualTo(Reason.MALFORMED);
  }

  @Test
  void refusesPayloadWithDuplicateClaims() {
    String payload = payload(now, 180, Map.of());
    String duplicated = payload.substring(0, payload.length() - 1) + ",\"sub\":\"999\"}";
    String token = hs256(header(KID), duplicated, SECRET);

    assertThat(refusal(token).reason()).isEqualTo(Reason.MALFORMED);
  }

  @ParameterizedTest
  @ValueSource(longs = {301, 3_600, 315_360_000})
  void refusesToBeConfiguredForTokensLivingLongerThanTheContractAllows(long seconds) {
    assertThatThrownBy(() -> ServiceJwtVerifier.builder().maxLifetime(Duration.ofSeconds(seconds)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxLifetime")
        .hasMessageContaining("300 s");
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1})
  void refusesAMaxLifetimeBelowOneSecond(long seconds) {
    assertThatThrownBy(() -> ServiceJwtVerifier.builder().maxLifetime(Duration.ofSeconds(seconds)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxLifetime");
  }

  @Test
  void appliesAShorterMaxLifetimeAndAcceptsTheContractsLongest() {
    ServiceJwtVerifier strict = ServiceJwtVerifier.builder().keys(Fixtures.keys()).clock(clock)
        .maxLifetime(Duration.ofSeconds(60)).build();
    ServiceJwtVerifier longest = ServiceJwtVerifier.builder().keys(Fixtures.keys()).clock(clock)
        .maxLifetime(ServiceJwtVerifier.MAX_LIFETIME).build();
    String token = hs256(header(KID), payload(now, 61, Map.of()), SECRET);

    assertThatThrownBy(() -> strict.verify(token))
        .isInstanceOfSatisfying(TokenVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.LIFETIME_TOO_LONG));
    assertThat(longest.verify(hs256(header(KID), payload(now, 300, Map.of()), SECRET)).userId()).isEqualTo("123");
  }

  @Test
  void keepsTheLeewayWithinFiveMinutes() {
    assertThat(ServiceJwtVerifier.builder().leeway(ServiceJwtVerifier.MAX_LEEWAY)).isNotNull();
    assertThatThrownBy(() -> ServiceJwtVerifier.builder().leeway(Duration.ofSeconds(301)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("leeway");
  }

  @Test
  void verifierDescribesItselfWithoutTheSecret() {
    assertThat(verifier.toString()).doesNotContain(SECRET).contains("llm-chat");
  }

  @Test
  void exposesTheCoreUserForATokenWithoutCompanyRole() {
    String token = minter.mint(Fixtures.USER_WITHOUT_COMPANY_ROLE, List.of("llm:chat:send")).token();

    UserContext user = verifier.verify(token).toUserContext();

    assertThat(user.companyRole()).isNull();
  }
}
