package dev.llmgateway.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.host.SessionRecord;
import dev.llmgateway.host.SessionStore;
import dev.llmgateway.host.SessionStoreContract;
import dev.llmgateway.host.StateStoreException;
import dev.llmgateway.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link SessionStoreContract} on PostgreSQL, a fresh database per test, and what is only this
 * store's: its schema, several host instances on one table, and the database's failures.
 */
class JdbcSessionStoreTest extends SessionStoreContract {
  @RegisterExtension
  static final PostgresServer POSTGRES = new PostgresServer();

  // Made with the test instance, after the server started and before the contract creates its store.
  private final Databases databases = new Databases(POSTGRES);
  private final DataSource pool = databases.pool();

  @AfterEach
  void closePools() {
    databases.close();
  }

  @Override
  protected SessionStore createStore() {
    JdbcSessionStore.createSchema(pool);
    return JdbcSessionStore.create(pool);
  }

  @Test
  void createSchemaIsIdempotentAndSafeFromSeveralInstancesAtOnce() throws Exception {
    DataSource other = databases.pool();

    List<Boolean> done = Databases.concurrently(List.of(
        () -> { JdbcSessionStore.createSchema(pool); return true; },
        () -> { JdbcSessionStore.createSchema(other); return true; }));

    assertThat(done).containsExactly(true, true);
    store.recordExchange("s", ADA, "t", T0, 2, 1);
    assertThat(store.find("s")).isPresent();
  }

  @Test
  void twoHostInstancesShareTheRecords() {
    JdbcSessionStore other = JdbcSessionStore.create(databases.pool());

    store.recordExchange("s", ADA, "t", T0, 2, 1);
    other.recordExchange("s", ADA, "t", T0.plusSeconds(1), 2, 1);
    other.addCredits("s", 5);

    assertThat(store.find("s")).contains(
        new SessionRecord("s", "u1", "c1", "recruiter", "t", T0, T0.plusSeconds(1), 4, 2, 5));
  }

  @Test
  void aDatabaseFailureIsAStateStoreExceptionNamingTheOperationWithoutValues() throws Exception {
    try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
      s.execute("DROP TABLE " + JdbcSessionStore.TABLE);
    }

    assertThatThrownBy(() -> store.recordExchange("secret-session", ADA, "secret title", T0, 2, 1))
        .isInstanceOf(StateStoreException.class)
        .hasMessageContaining("recordExchange").hasMessageContaining("42P01")
        .hasMessageNotContaining("secret");
    assertThatThrownBy(() -> store.adopt(new SessionRecord("secret-session", "u1", "c1", "recruiter", "secret", T0,
        T0, 2, 0, 0)))
        .isInstanceOf(StateStoreException.class).hasMessageContaining("adopt").hasMessageNotContaining("secret");
  }

  @Test
  void toStringNamesTheTableOnly() {
    assertThat(store.toString()).isEqualTo("JdbcSessionStore[" + JdbcSessionStore.TABLE + "]");
  }
}
