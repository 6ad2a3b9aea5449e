package dev.llmgateway.host;

import dev.llmgateway.LlmGatewayException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The user's credits do not cover a call's estimated cost, so {@link CreditLedger#reserve} held
 * nothing and the call must not be sent. Maps to {@code 402 Payment Required}. {@link #attempts()}
 * is always 0 and {@link #isRetryable()} false: the same call fails until the user has more
 * credits. Immutable and thread-safe.
 */
public final class InsufficientCreditsException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  private final String userId;
  private final long balance;
  private final long needed;

  /**
   * Creates the exception.
   *
   * @param userId the user whose credits fell short
   * @param balance the credits the user had available (may be negative after an overrun)
   * @param needed the credits the call needed
   * @param requestId the request id of the refused call, or null
   */
  public InsufficientCreditsException(String userId, long balance, long needed, @Nullable String requestId) {
    super("Insufficient credits for user " + userId + ": needed " + needed + ", available " + balance,
        requestId, 0, null);
    this.userId = Objects.requireNonNull(userId, "userId");
    this.balance = balance;
    this.needed = needed;
  }

  /**
   * Returns the user whose credits fell short.
   *
   * @return the user id
   */
  public String userId() {
    return userId;
  }

  /**
   * Returns the credits the user had available when the reservation was refused.
   *
   * @return the available balance; negative when an earlier charge overran its reservation
   */
  public long balance() {
    return balance;
  }

  /**
   * Returns the credits the call needed.
   *
   * @return the estimated credits asked for
   */
  public long needed() {
    return needed;
  }
}
