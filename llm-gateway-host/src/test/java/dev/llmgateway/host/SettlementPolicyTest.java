package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.CallCancelledException;
import dev.llmgateway.Intent;
import dev.llmgateway.Operation;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.StreamInterruptedException;
import dev.llmgateway.TransportException;
import dev.llmgateway.Usage;
import java.util.List;
import org.junit.jupiter.api.Test;

class SettlementPolicyTest {
  private final SettlementPolicy policy = SettlementPolicy.ofDefaults();

  @Test
  void reportedUsageWins() {
    Usage reported = new Usage(120, 48, 168);
    StreamCompletion completion = new StreamCompletion("sess_1", "msg_1", Intent.SEARCH, "search",
        "I found 3 candidates", List.of(), List.of(), "stop", reported, 0, "req-1");

    assertThat(policy.usageFor(Delivery.completed("Find Rails engineers", completion))).isEqualTo(reported);
    assertThat(policy.usageFor(new Delivery(Delivery.Outcome.CANCELLED, "q", "some text", reported)))
        .isEqualTo(reported);
  }

  @Test
  void cutOffStreamIsChargedAnEstimateOfWhatWasDelivered() {
    // 20-character query -> 5 tokens; 9 characters delivered -> 3 tokens (rounded up).
    StreamInterruptedException cut = new StreamInterruptedException("cut", "ignored", "req-1", 1, null, true);

    Usage usage = policy.usageFor(Delivery.ended("Find Rails engineers", "I found 3", cut));

    assertThat(usage).isEqualTo(new Usage(5, 3, 8));
  }

  @Test
  void cancelledStreamIsChargedForTheTextTheUserReceived() {
    Delivery delivery = Delivery.ended("abcd", "abcdefgh", new CallCancelledException("req-1", 1, null));

    assertThat(delivery.outcome()).isEqualTo(Delivery.Outcome.CANCELLED);
    assertThat(policy.usageFor(delivery)).isEqualTo(new Usage(1, 2, 3));
  }

  @Test
  void nothingDeliveredCostsNothing() {
    Delivery cancelledEarly = Delivery.ended("Find Rails engineers", "", new CallCancelledException("r", 0, null));
    Delivery failedEarly = Delivery.ended("Find Rails engineers",
        new TransportException("down", "r", 3, null, true));

    assertThat(policy.usageFor(cancelledEarly)).isEqualTo(new Usage(0, 0, 0));
    assertThat(policy.usageFor(failedEarly)).isEqualTo(new Usage(0, 0, 0));
    assertThat(CreditPricing.perThousandTokens(5, 5).credits(Operation.CHAT_STREAM, new Usage(0, 0, 0))).isZero();
  }

  @Test
  void endedWithoutRelayedTextUsesTheSdksPartialText() {
    StreamErrorException error = new StreamErrorException("model_overloaded", "overloaded", true, "12345678", "r", 1);
    StreamInterruptedException cut = new StreamInterruptedException("cut", "1234", "r", 1, null, true);

    Delivery failed = Delivery.ended("q", error);
    Delivery interrupted = Delivery.ended("q", cut);

    assertThat(failed.outcome()).isEqualTo(Delivery.Outcome.FAILED);
    assertThat(failed.deliveredText()).isEqualTo("12345678");
    assertThat(policy.usageFor(failed)).isEqualTo(new Usage(1, 2, 3));
    assertThat(interrupted.outcome()).isEqualTo(Delivery.Outcome.INTERRUPTED);
    assertThat(policy.usageFor(interrupted)).isEqualTo(new Usage(1, 1, 2));
  }

  @Test
  void charsPerTokenIsConfigurableAndCountsCodePoints() {
    SettlementPolicy dense = SettlementPolicy.estimating(2.5);

    assertThat(dense.usageFor(new Delivery(Delivery.Outcome.INTERRUPTED, "12345", "1234567890", null)))
        .isEqualTo(new Usage(2, 4, 6));
    assertThat(SettlementPolicy.estimateTokens("😀😀😀😀", 4)).isEqualTo(1); // 4 code points, 8 chars
    assertThat(SettlementPolicy.estimateTokens("", 4)).isZero();
  }

  @Test
  void completedWithoutReportedUsageIsEstimated() {
    StreamCompletion completion = new StreamCompletion(null, null, Intent.UNKNOWN, null,
        "12345678", List.of(), List.of(), "stop", null, 0, "req-1");

    assertThat(policy.usageFor(Delivery.completed("1234", completion))).isEqualTo(new Usage(1, 2, 3));
  }

  @Test
  void ratioMustBePositiveAndFinite() {
    assertThatThrownBy(() -> SettlementPolicy.estimating(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SettlementPolicy.estimating(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SettlementPolicy.estimating(Double.POSITIVE_INFINITY))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void pricingRoundsUpPerThousandAndFlatIgnoresUsage() {
    CreditPricing perK = CreditPricing.perThousandTokens(1, 3);

    assertThat(perK.credits(Operation.CHAT, new Usage(1, 0, 1))).isEqualTo(1);
    assertThat(perK.credits(Operation.CHAT, new Usage(1000, 1000, 2000))).isEqualTo(4);
    assertThat(perK.credits(Operation.CHAT, new Usage(1000, 1001, 2001))).isEqualTo(5);
    assertThat(perK.credits(Operation.CHAT, new Usage(-5, 0, 0))).isZero();
    assertThat(CreditPricing.flat(7).credits(Operation.CHAT, new Usage(9999, 9999, 19998))).isEqualTo(7);
    assertThatThrownBy(() -> CreditPricing.flat(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CreditPricing.perThousandTokens(-1, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CreditPricing.perThousandTokens(0, -1)).isInstanceOf(IllegalArgumentException.class);
    // Free is a price.
    assertThat(CreditPricing.flat(0).credits(Operation.CHAT, new Usage(1, 1, 2))).isZero();
    assertThat(CreditPricing.perThousandTokens(0, 0).credits(Operation.CHAT, new Usage(1000, 1000, 2000))).isZero();
    assertThat(CreditPricing.perThousandTokens(0, 1).credits(Operation.CHAT, new Usage(5000, 1000, 6000))).isEqualTo(1);
  }

  @Test
  void theStringOfADeliveryShowsTheTextsLengthsNotTheText() {
    Delivery delivery = new Delivery(Delivery.Outcome.CANCELLED, "private query", "some text", new Usage(1, 2, 3));

    assertThat(delivery.toString()).doesNotContain("private query", "some text")
        .startsWith("Delivery[outcome=CANCELLED, queryLength=13, deliveredLength=9, reportedUsage=");
  }
}
