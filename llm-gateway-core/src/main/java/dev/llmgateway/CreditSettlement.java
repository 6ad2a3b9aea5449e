package dev.llmgateway;

/**
 * What settling a call's credit reservation did, as told to {@link
 * GatewayListener#creditsSettled}. The host module ({@code llm-gateway-host}) reserves credits
 * before a call and settles them after it; its ledger applies exactly one settlement per
 * reservation, and answers any other with a no-op saying why.
 */
public enum CreditSettlement {
  /** The reservation was committed: the call's priced usage was charged, the rest returned. */
  COMMITTED,
  /** The reservation was released: every held credit was returned (failed or empty calls). */
  RELEASED,
  /** No-op: the reservation had already been committed. */
  ALREADY_COMMITTED,
  /**
   * No-op: the reservation had already been released; for a call's own settlement this means its
   * lease expired and the ledger's reaper released it first (the charge is lost).
   */
  ALREADY_RELEASED,
  /** No-op: the ledger no longer knows the reservation. */
  UNKNOWN,
  /**
   * The credit store failed on the first attempt and on every retry: the settlement was given up
   * and the reservation stays pending until the ledger's reaper releases it when its lease expires.
   */
  ABANDONED
}
