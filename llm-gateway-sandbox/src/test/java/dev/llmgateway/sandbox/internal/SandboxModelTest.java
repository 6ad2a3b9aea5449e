package dev.llmgateway.sandbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SandboxModelTest {
  @Test
  void tokensAreWordSizedAndConcatenateExactly() {
    String answer = "I found  3 candidates\tfor \"Grüße 👋\".\nDone ";

    List<String> tokens = SandboxModel.tokens(answer);

    assertThat(String.join("", tokens)).isEqualTo(answer);
    assertThat(tokens).containsExactly("I", " found", "  3", " candidates", "\tfor", " \"Grüße", " 👋\".", "\nDone", " ");
  }

  @Test
  void singleWordIsOneToken() {
    assertThat(SandboxModel.tokens("Hi")).containsExactly("Hi");
  }

  @Test
  void wordsAreCountedBetweenWhitespace() {
    assertThat(SandboxModel.countWords("")).isZero();
    assertThat(SandboxModel.countWords("  ")).isZero();
    assertThat(SandboxModel.countWords(" Find  senior\nRails ")).isEqualTo(3);
  }

  @Test
  void titleFlattensWhitespaceAndCutsAtFortyCodePoints() {
    assertThat(SandboxModel.title("a\n\tb   c")).isEqualTo("a b c");
    assertThat(SandboxModel.title("   ")).isEqualTo("New chat");
    assertThat(SandboxModel.title("x".repeat(40))).isEqualTo("x".repeat(40));
    assertThat(SandboxModel.title("😀".repeat(41))).isEqualTo("😀".repeat(40) + "\u2026");
  }

  @Test
  void idsAreDistinctAndWellFormed() {
    Set<String> ids = new HashSet<>();
    for (long n = 1; n <= 100_000; n++) {
      ids.add(SandboxModel.sessionId(n));
    }
    assertThat(ids).hasSize(100_000).allMatch(id -> id.matches("sess_[0-9a-f]{8}"));
    assertThat(SandboxModel.messageId(1)).matches("msg_[0-9a-f]{8}").isNotEqualTo("msg_" + SandboxModel.sessionId(1).substring(5));
  }

  @Test
  void candidatesDependOnlyOnTheQuery() {
    assertThat(SandboxModel.candidates("Find Rails engineers")).isEqualTo(SandboxModel.candidates("Find Rails engineers"));
    assertThat(SandboxModel.candidates("Find Rails engineers")).isNotEqualTo(SandboxModel.candidates("Find Java engineers"));
    assertThat(SandboxModel.candidates("anything")).extracting(SandboxModel.Candidate::name).doesNotHaveDuplicates();
  }

  @Test
  void generationCountsTheQueryAsSentButQuotesItWithoutDirectives() {
    SandboxModel.Generation g = SandboxModel.generate("hello world #sandbox:status=503", null, null);

    assertThat(g.intent()).isEqualTo("chat");
    assertThat(g.answer()).contains("\"hello world\"");
    assertThat(g.usage().promptTokens()).isEqualTo(3 + SandboxModel.PROMPT_OVERHEAD_TOKENS);
    assertThat(g.usage().totalTokens()).isEqualTo(g.usage().promptTokens() + SandboxModel.countWords(g.answer()));
  }
}
