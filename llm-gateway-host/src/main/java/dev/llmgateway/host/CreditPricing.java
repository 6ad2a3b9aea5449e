package dev.llmgateway.host;

import dev.llmgateway.Operation;
import dev.llmgateway.Usage;

/**
 * Turns the token counts of a call into credits. Implementations must be pure (same input, same
 * answer) and thread-safe; the factories here are both.
 *
 * <pre>{@code
 * CreditPricing pricing = CreditPricing.perThousandTokens(1, 3); // 1 credit per 1000 prompt tokens, 3 per 1000 generated
 * ledger.commit(reservation, pricing.credits(reservation.operation(), completion.usage()));
 * }</pre>
 */
@FunctionalInterface
public interface CreditPricing {
  /**
   * Prices one call.
   *
   * @param operation what was called
   * @param usage the token counts to charge for
   * @return the credits, at least 0
   */
  long credits(Operation operation, Usage usage);

  /**
   * Prices tokens by the thousand, prompt and completion apart, rounding the total up to a whole
   * credit. Negative counts count as 0.
   *
   * @param promptCreditsPerThousand credits per 1000 prompt tokens, at least 0
   * @param completionCreditsPerThousand credits per 1000 completion tokens, at least 0
   * @return the pricing
   * @throws IllegalArgumentException if a rate is negative
   */
  static CreditPricing perThousandTokens(long promptCreditsPerThousand, long completionCreditsPerThousand) {
    if (promptCreditsPerThousand < 0) {
      throw new IllegalArgumentException("promptCreditsPerThousand < 0: " + promptCreditsPerThousand);
    }
    if (completionCreditsPerThousand < 0) {
      throw new IllegalArgumentException("completionCreditsPerThousand < 0: " + completionCreditsPerThousand);
    }
    return (operation, usage) -> {
      long milli = Math.addExact(
          Math.multiplyExact(Math.max(0, usage.promptTokens()), promptCreditsPerThousand),
          Math.multiplyExact(Math.max(0, usage.completionTokens()), completionCreditsPerThousand));
      return Math.floorDiv(milli + 999, 1000);
    };
  }

  /**
   * Prices every call the same, whatever it used.
   *
   * @param creditsPerCall the credits per call, at least 0
   * @return the pricing
   * @throws IllegalArgumentException if {@code creditsPerCall < 0}
   */
  static CreditPricing flat(long creditsPerCall) {
    if (creditsPerCall < 0) {
      throw new IllegalArgumentException("creditsPerCall < 0: " + creditsPerCall);
    }
    return (operation, usage) -> creditsPerCall;
  }
}
