package dev.llmgateway.host;

import java.util.Objects;

/**
 * One commit or release {@link ChatGateway} made, as told to a {@link SettlementListener}.
 * Immutable and thread-safe.
 *
 * @param reservation the reservation settled
 * @param settlement what the ledger did: {@link Settlement#COMMITTED}, {@link Settlement#RELEASED},
 *     or a no-op saying why
 * @param creditsCharged the credits this call took from the user: the priced usage for {@link
 *     Settlement#COMMITTED} (all of it, also beyond the reservation), 0 for a release or a no-op
 */
public record SettlementEvent(Reservation reservation, Settlement settlement, long creditsCharged) {
  /**
   * Checks the values.
   *
   * @param reservation the reservation
   * @param settlement what the ledger did
   * @param creditsCharged the credits charged
   * @throws IllegalArgumentException if {@code creditsCharged} is negative, or not 0 for anything
   *     but {@link Settlement#COMMITTED}
   */
  public SettlementEvent {
    Objects.requireNonNull(reservation, "reservation");
    Objects.requireNonNull(settlement, "settlement");
    if (creditsCharged < 0) {
      throw new IllegalArgumentException("creditsCharged < 0: " + creditsCharged);
    }
    if (creditsCharged != 0 && settlement != Settlement.COMMITTED) {
      throw new IllegalArgumentException(settlement + " charges nothing, not " + creditsCharged);
    }
  }
}
