package dev.llmgateway.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.host.CreditLedgerContract;
import dev.llmgateway.testkit.PostgresServer;
import java.time.Duration;
import java.util.List;
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
  protected TestLedger build(LedgerBuilder settings) {
    JdbcCreditLedger.Builder b = JdbcCreditLedger.builder(pool);
    settings.applyTo(b::clock, b::accountKey, b::lease, b::settledRetention, b::reaperInterval, b::expiryListener);
    JdbcCreditLedger l = b.build();
    return new TestLedger(l, l::deposit, l::balance, l::reserved, l::pendingCount, l::releaseExpired, l::close);
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
}
