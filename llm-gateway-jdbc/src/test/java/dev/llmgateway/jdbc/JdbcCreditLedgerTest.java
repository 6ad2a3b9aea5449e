package dev.llmgateway.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.host.AccountKey;
import dev.llmgateway.host.CreditLedgerContract;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.testkit.PostgresServer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link CreditLedgerContract} on PostgreSQL, a fresh database per test, and what is only this
 * ledger's. Several instances and the database's faults: JdbcCreditLedgerInstancesTest.
 */
class JdbcCreditLedgerTest extends CreditLedgerContract {
  @RegisterExtension
  static final PostgresServer POSTGRES = new PostgresServer();

  // Made with the test instance, after the server started and before the contract builds its ledger.
  private final Databases databases = new Databases(POSTGRES);
  private final DataSource pool = databases.pool();

  @AfterEach
  void closePools() {
    databases.close();
  }

  @Override
  protected LedgerBuilder builder() {
    return new Builder(JdbcCreditLedger.builder(pool));
  }

  @Override
  protected String reaperThreadName() {
    return "llm-gateway-jdbc-credit-reaper";
  }

  @Override
  protected Duration clockResolution() {
    return Duration.ofNanos(1_000); // the database keeps microseconds
  }

  @Test
  void createSchemaIsIdempotentAndSafeFromSeveralInstancesAtOnce() throws Exception {
    DataSource other = databases.pool();

    List<Boolean> done = Databases.concurrently(List.of(
        () -> { JdbcCreditLedger.createSchema(pool); return true; },
        () -> { JdbcCreditLedger.createSchema(other); return true; }));

    assertThat(done).containsExactly(true, true);
    ledger.deposit("123", 1);
    assertThat(ledger.balance("123")).isEqualTo(1);
  }

  @Test
  void statementTimeoutMustBePositive() {
    assertThatThrownBy(() -> JdbcCreditLedger.builder(pool).statementTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("statementTimeout");
    assertThatThrownBy(() -> JdbcCreditLedger.builder(pool).statementTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("statementTimeout");
  }

  private static final class Builder implements LedgerBuilder {
    private final JdbcCreditLedger.Builder builder;

    Builder(JdbcCreditLedger.Builder builder) {
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
      JdbcCreditLedger built = builder.build();
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
