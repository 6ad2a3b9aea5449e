package dev.llmgateway.host;

/**
 * What a call to {@link CreditLedger#commit commit} or {@link CreditLedger#release release} did.
 * Exactly one settlement of a reservation takes effect ({@link #COMMITTED} or {@link #RELEASED});
 * every other call on the same reservation is a no-op that says why. Immutable and thread-safe.
 */
public enum Settlement {
  /** This call committed the reservation: the charge was taken and the rest returned. */
  COMMITTED,
  /** This call released the reservation: every held credit was returned. */
  RELEASED,
  /** No-op: the reservation had already been committed (a repeated commit, or a late release). */
  ALREADY_COMMITTED,
  /**
   * No-op: the reservation had already been released, by a caller or by the reaper when its lease
   * expired (a repeated release, or a late commit: the charge is lost, so hosts should log it).
   */
  ALREADY_RELEASED,
  /**
   * No-op: the ledger does not know the reservation: it was made by another ledger, or it was
   * settled so long ago that the ledger has forgotten it.
   */
  UNKNOWN;

  /**
   * Tells whether this call changed the ledger.
   *
   * @return true for {@link #COMMITTED} and {@link #RELEASED}
   */
  public boolean applied() {
    return this == COMMITTED || this == RELEASED;
  }
}
