package dev.llmgateway.host;

import dev.llmgateway.Usage;

/**
 * Decides the token counts to charge for a call, above all for a stream that ended early (cut
 * off, failed mid-way, or cancelled when the browser went away), where the service reports no
 * usage. A pure function: it reads nothing but its argument and may be called from any thread.
 *
 * <p>The {@linkplain #ofDefaults() default} policy:
 *
 * <ol>
 *   <li>the usage the service reported, whenever it reported one, whatever the outcome;
 *   <li>else nothing ({@code 0, 0, 0}) when no answer text reached the user: a call that
 *       failed or was cancelled before its first token costs the user nothing;
 *   <li>else an estimate: prompt tokens from the query and completion tokens from the delivered
 *       text, each {@linkplain #estimateTokens one token per 4 characters} rounded up. The host
 *       does not see the conversation history or the service's system prompt, so the prompt
 *       estimate is a lower bound.
 * </ol>
 *
 * <p>The facade turns the result into credits with a {@link CreditPricing} and {@linkplain
 * CreditLedger#commit commits} it; a zero usage returns every held credit, like a release.
 */
@FunctionalInterface
public interface SettlementPolicy {
  /** Characters per token assumed by the default estimate. */
  double DEFAULT_CHARS_PER_TOKEN = 4.0;

  /**
   * Decides what to charge.
   *
   * @param delivery how the call ended and what it delivered
   * @return the usage to charge for; counts at least 0
   */
  Usage usageFor(Delivery delivery);

  /**
   * Returns the default policy: reported usage, else nothing when nothing was delivered, else an
   * estimate at {@value #DEFAULT_CHARS_PER_TOKEN} characters per token.
   *
   * @return the policy
   */
  static SettlementPolicy ofDefaults() {
    return estimating(DEFAULT_CHARS_PER_TOKEN);
  }

  /**
   * Returns the default policy with another characters-per-token ratio.
   *
   * @param charsPerToken characters (Unicode code points) per token, finite and above 0
   * @return the policy
   * @throws IllegalArgumentException if {@code charsPerToken} is not a finite number above 0
   */
  static SettlementPolicy estimating(double charsPerToken) {
    checkRatio(charsPerToken);
    return delivery -> {
      Usage reported = delivery.reportedUsage();
      if (reported != null) {
        return reported;
      }
      if (delivery.deliveredText().isEmpty()) {
        return new Usage(0, 0, 0);
      }
      long prompt = estimateTokens(delivery.query(), charsPerToken);
      long completion = estimateTokens(delivery.deliveredText(), charsPerToken);
      return new Usage(prompt, completion, prompt + completion);
    };
  }

  /**
   * Estimates the tokens of a text: its code points divided by {@code charsPerToken}, rounded up.
   *
   * @param text the text
   * @param charsPerToken characters per token, finite and above 0
   * @return the estimate; 0 for an empty text
   * @throws IllegalArgumentException if {@code charsPerToken} is not a finite number above 0
   */
  static long estimateTokens(CharSequence text, double charsPerToken) {
    checkRatio(charsPerToken);
    long codePoints = text.codePoints().count();
    return (long) Math.ceil(codePoints / charsPerToken);
  }

  private static void checkRatio(double charsPerToken) {
    if (!(charsPerToken > 0) || Double.isInfinite(charsPerToken)) {
      throw new IllegalArgumentException("charsPerToken must be finite and > 0: " + charsPerToken);
    }
  }
}
