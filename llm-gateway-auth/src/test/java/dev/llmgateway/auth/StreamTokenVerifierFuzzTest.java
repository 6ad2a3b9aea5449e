package dev.llmgateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.auth.TokenVerificationException.Reason;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes {@link StreamTokenVerifier#verify(String)} as {@link ServiceJwtVerifierFuzzTest} fuzzes
 * the service JWT verifier (input format in {@link TokenFuzzing}). Only {@link
 * TokenVerificationException} may escape; an accepted token must meet the contract, grant {@code
 * llm:chat:send}, carry the request it was signed with, and be refused as {@link Reason#REPLAYED}
 * when offered again. Its {@code jti} is then forgotten, so the replay store never fills.
 *
 * <p>Without {@code JAZZER_FUZZ} the seeds in {@code StreamTokenVerifierFuzzTestInputs/} run as
 * regression tests; {@code .ci/fuzz} runs it in fuzzing mode.
 */
class StreamTokenVerifierFuzzTest {
  private static final ReplayStore STORE = ReplayStore.inMemory(TokenFuzzing.CLOCK, 1_000);
  private static final StreamTokenVerifier VERIFIER = StreamTokenVerifier.builder().keys(TokenFuzzing.KEYS)
      .clock(TokenFuzzing.CLOCK).replayStore(STORE).build();

  @FuzzTest(maxDuration = "30s")
  void verifiesArbitraryTokens(byte[] raw) {
    TokenFuzzing.Input input = TokenFuzzing.decode(raw);
    VerifiedStreamToken verified;
    try {
      verified = VERIFIER.verify(input.token);
    } catch (TokenVerificationException e) {
      TokenFuzzing.checkRefusal(e, "Stream token");
      return;
    }
    try {
      ObjectNode payload = TokenFuzzing.checkAccepted(input, "llm-chat-stream");
      assertThat(payload.get("scopes").toString()).contains("\"llm:chat:send\"");
      assertThat(verified.request().query()).isEqualTo(payload.get("req").get("query").textValue());
      assertThat(verified.requestId()).isEqualTo(payload.get("rid").textValue()).isNotEmpty();
      assertThat(verified.user().userId()).isEqualTo(payload.get("sub").textValue());
      assertThatThrownBy(() -> VERIFIER.verify(input.token))
          .isInstanceOfSatisfying(TokenVerificationException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.REPLAYED));
    } finally {
      STORE.forget(verified.jti());
    }
  }

  /** The corpus reaches past the signature and the claims: its valid seeds pass. */
  @Test
  void theValidSeedsAreAccepted() {
    for (String seed : new String[] {"valid", "valid-older-key", "valid-without-kid", "aud-one-element-array"}) {
      TokenFuzzing.Input input = TokenFuzzing.decode(TokenFuzzing.seed(getClass(), "verifiesArbitraryTokens", seed));

      VerifiedStreamToken verified = VERIFIER.verify(input.token);
      STORE.forget(verified.jti());
      assertThat(verified.requestId()).as(seed).isEqualTo("req-1");
    }
  }
}
