package dev.llmgateway.host;

/**
 * Told of every commit and release {@link ChatGateway} makes, with the credits charged, so a host
 * can count, audit billing or wait for a settlement in a test without wrapping its {@link
 * CreditLedger}. Set with {@link ChatGateway.Builder#settlementListener(SettlementListener)}.
 *
 * <p>Called once per settlement call, on the thread that settles (the caller's for a chat, the
 * relay's for a stream, the webhook handler's for a direct stream), after the ledger has answered.
 * It must be thread-safe and must not block; what it throws is logged and ignored (the settlement
 * stands).
 */
@FunctionalInterface
public interface SettlementListener {
  /**
   * Receives one settlement.
   *
   * @param event the reservation, what its settlement did and the credits it charged
   */
  void onSettlement(SettlementEvent event);
}
