package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.Operation;
import org.junit.jupiter.api.Test;

/** {@link CreditLedgerContract} on {@link InMemoryCreditLedger}, and what is only this ledger's. */
class InMemoryCreditLedgerTest extends CreditLedgerContract {
  @Override
  protected TestLedger build(LedgerBuilder settings) {
    InMemoryCreditLedger.Builder b = InMemoryCreditLedger.builder();
    settings.applyTo(b::clock, b::accountKey, b::lease, b::settledRetention, b::reaperInterval, b::expiryListener);
    InMemoryCreditLedger l = b.build();
    return new TestLedger(l, l::deposit, l::balance, l::reserved, l::pendingCount, l::releaseExpired, l::close);
  }

  @Override
  protected String reaperThreadName() {
    return "llm-gateway-credit-reaper";
  }

  @Test
  void reservationOfAnotherLedgerIsUnknown() {
    ledger.deposit("123", 100);
    InMemoryCreditLedger other = InMemoryCreditLedger.builder().clock(clock).build();
    other.deposit("123", 100);
    Reservation foreign = other.reserve(ADA, Operation.CHAT, 30);

    assertThat(ledger.commit(foreign, 10)).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.release(foreign, "x")).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.balance("123")).isEqualTo(100);
  }
}
