package dev.llmgateway.host;

/**
 * Told of every commit and release {@link ChatGateway} makes, with the credits charged, so a host
 * can count, audit billing or wait for a settlement in a test without wrapping its {@link
 * CreditLedger}. Set with {@link ChatGateway.Builder#settlementListener(SettlementListener)}.
 *
 * <p>Called once per settlement call, on the thread that settles (the caller's for a chat, the
 * relay's for a stream, the webhook handler's for a direct stream, the gateway's retry thread
 * for a settlement repeated after a store failure), after the ledger has answered.
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

  /**
   * Told that a settlement was given up: the ledger failed ({@link StateStoreException}) on the
   * first attempt and on every {@linkplain ChatGateway.Builder#settlementRetry retry}, or the
   * gateway was closed while it waited. The reservation stays pending until the ledger's reaper
   * releases it after its lease: the call's charge is lost, never doubled. Called on the retry
   * thread; the default does nothing (the gateway logs it at ERROR and counts it in {@link
   * ChatGateway#abandonedSettlements()}).
   *
   * @param reservation the reservation left pending
   */
  default void onSettlementAbandoned(Reservation reservation) {}
}
