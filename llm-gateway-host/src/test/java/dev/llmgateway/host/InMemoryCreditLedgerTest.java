package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.Operation;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** {@link CreditLedgerContract} on {@link InMemoryCreditLedger}, and what is only this ledger's. */
class InMemoryCreditLedgerTest extends CreditLedgerContract {
  @Override
  protected LedgerBuilder builder() {
    return new Builder(InMemoryCreditLedger.builder());
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

  private static final class Builder implements LedgerBuilder {
    private final InMemoryCreditLedger.Builder builder;

    Builder(InMemoryCreditLedger.Builder builder) {
      this.builder = builder;
    }

    @Override
    public LedgerBuilder clock(Clock clock) {
      builder.clock(clock);
      return this;
    }

    @Override
    public LedgerBuilder accountKey(AccountKey accountKey) {
      builder.accountKey(accountKey);
      return this;
    }

    @Override
    public LedgerBuilder lease(Duration lease) {
      builder.lease(lease);
      return this;
    }

    @Override
    public LedgerBuilder settledRetention(Duration retention) {
      builder.settledRetention(retention);
      return this;
    }

    @Override
    public LedgerBuilder reaperInterval(Duration interval) {
      builder.reaperInterval(interval);
      return this;
    }

    @Override
    public LedgerBuilder expiryListener(Consumer<? super Reservation> listener) {
      builder.expiryListener(listener);
      return this;
    }

    @Override
    public TestLedger build() {
      InMemoryCreditLedger built = builder.build();
      return new TestLedger(built) {
        @Override
        public long deposit(String account, long credits) {
          return built.deposit(account, credits);
        }

        @Override
        public long balance(String account) {
          return built.balance(account);
        }

        @Override
        public long reserved(String account) {
          return built.reserved(account);
        }

        @Override
        public long pendingCount() {
          return built.pendingCount();
        }

        @Override
        public int releaseExpired() {
          return built.releaseExpired();
        }

        @Override
        public void close() {
          built.close();
        }
      };
    }
  }
}
