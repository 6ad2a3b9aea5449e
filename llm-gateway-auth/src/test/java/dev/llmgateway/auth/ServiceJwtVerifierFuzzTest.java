package dev.llmgateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes {@link ServiceJwtVerifier#verify(String)} with arbitrary tokens, and with arbitrary header
 * and payload bytes signed with a key of its set (see {@link TokenFuzzing} for the input format).
 * Only {@link TokenVerificationException} may escape, its message naming the rule and nothing of the
 * input; an accepted token must have been signed with the key its {@code kid} names and meet the
 * contract ({@link TokenFuzzing#checkAccepted}). A {@code NullPointerException} or any other
 * exception is a finding.
 *
 * <p>Without {@code JAZZER_FUZZ} the seeds in {@code ServiceJwtVerifierFuzzTestInputs/} run as
 * regression tests; {@code .ci/fuzz} runs it in fuzzing mode.
 */
class ServiceJwtVerifierFuzzTest {
  private static final ServiceJwtVerifier VERIFIER =
      ServiceJwtVerifier.builder().keys(TokenFuzzing.KEYS).clock(TokenFuzzing.CLOCK).build();

  @FuzzTest(maxDuration = "30s")
  void verifiesArbitraryTokens(byte[] raw) {
    TokenFuzzing.Input input = TokenFuzzing.decode(raw);
    VerifiedServiceToken principal;
    try {
      principal = VERIFIER.verify(input.token);
    } catch (TokenVerificationException e) {
      TokenFuzzing.checkRefusal(e, "Service JWT");
      return;
    }
    ObjectNode payload = TokenFuzzing.checkAccepted(input, "llm-chat");
    assertThat(principal.userId()).isEqualTo(payload.get("sub").textValue()).isNotEmpty();
    assertThat(principal.companyId()).isEqualTo(payload.get("company_id").textValue()).isNotEmpty();
    assertThat(principal.jti()).isEqualTo(payload.get("jti").textValue()).isNotEmpty();
    assertThat(principal.scopes()).hasSize(payload.get("scopes").size());
  }

  /** The corpus reaches past the signature: its valid seeds pass, so the fuzzer starts from there. */
  @Test
  void theValidSeedsAreAccepted() {
    for (String seed : new String[] {"valid", "valid-older-key", "valid-without-kid", "aud-one-element-array"}) {
      TokenFuzzing.Input input = TokenFuzzing.decode(TokenFuzzing.seed(getClass(), "verifiesArbitraryTokens", seed));

      assertThat(VERIFIER.verify(input.token).userId()).as(seed).isEqualTo("123");
    }
  }
}
