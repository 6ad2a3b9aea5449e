package dev.llmgateway.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PropertyChecksTest {
  @Test
  void checksEveryCaseOnInputsThatRepeatFromRunToRun() {
    List<Integer> first = new ArrayList<>();
    List<Integer> second = new ArrayList<>();

    PropertyChecks.forAll(50, r -> r.nextInt(1_000_000), first::add);
    PropertyChecks.forAll(50, r -> r.nextInt(1_000_000), second::add);

    assertThat(first).hasSize(50).isEqualTo(second);
    assertThat(first).doesNotHaveDuplicates();
  }

  @Test
  void caseInputDependsOnlyOnSeedAndIndex() {
    assertThat(PropertyChecks.random(7, 3).nextLong()).isEqualTo(PropertyChecks.random(7, 3).nextLong());
    assertThat(PropertyChecks.random(7, 3).nextLong()).isNotEqualTo(PropertyChecks.random(7, 4).nextLong());
    assertThat(PropertyChecks.random(7, 3).nextLong()).isNotEqualTo(PropertyChecks.random(8, 3).nextLong());
  }

  @Test
  void aFailureNamesTheSeedEachFailingIndexAndItsInputReadably() {
    IllegalStateException boom = new IllegalStateException("boom");

    assertThatThrownBy(
            () ->
                PropertyChecks.forAll(
                    20,
                    r -> "line\r\n" + r.nextInt(2),
                    input -> {
                      if (input.endsWith("\n1")) {
                        throw boom;
                      }
                    }))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("cases failed (seed " + PropertyChecks.DEFAULT_SEED)
        .hasMessageContaining("-D" + PropertyChecks.ONLY_PROPERTY + "=<index>")
        .hasMessageContaining("input: line\\r\\n1")
        .hasMessageContaining("-> java.lang.IllegalStateException: boom")
        .hasMessageNotContaining("input: line\\r\\n0")
        .hasCause(boom);
  }

  @Test
  void anAssertionFailureOfOneInputShowsTheInput() {
    assertThatThrownBy(
            () -> PropertyChecks.check("a\u0000b", input -> assertThat(input).isEqualTo("ab")))
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("input: a\\0b\n    -> ")
        .hasCauseInstanceOf(AssertionError.class);
  }

  @Test
  void refusesFewerThanOneRun() {
    assertThatThrownBy(() -> PropertyChecks.forAll(0, r -> 1, input -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("runs");
  }
}
