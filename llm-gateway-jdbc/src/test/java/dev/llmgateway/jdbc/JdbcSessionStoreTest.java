package dev.llmgateway.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.UserContext;
import dev.llmgateway.host.SessionRecord;
import dev.llmgateway.host.StateStoreException;
import dev.llmgateway.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link JdbcSessionStore} on PostgreSQL, a fresh database per test. */
class JdbcSessionStoreTest {
  @RegisterExtension
  static final PostgresServer POSTGRES = new PostgresServer();

  private static final UserContext U1 = UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();
  private static final UserContext U2 = U1.toBuilder().userId("u2").build();
  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  private final Databases databases = new Databases(POSTGRES);
  private final DataSource pool = databases.pool();
  private final JdbcSessionStore store = createStore();

  private JdbcSessionStore createStore() {
    JdbcSessionStore.createSchema(pool);
    JdbcSessionStore.createSchema(pool); // idempotent
    return JdbcSessionStore.create(pool);
  }

  @AfterEach
  void closePools() {
    databases.close();
  }

  @Test
  void theFirstExchangeCreatesTheRecordAndLaterOnesAddToItForTheOwnerOnly() {
    store.recordExchange("s", U1, "first question", T0, 2, 100);
    store.recordExchange("s", U1, "ignored title", T0.plusSeconds(60), 2, 50);
    store.recordExchange("s", U2, "someone else", T0.plusSeconds(120), 2, 999);
    store.addCredits("s", 3);
    store.addCredits("s", 4);
    store.addCredits("unknown", 5);

    assertThat(store.find("s")).contains(
        new SessionRecord("s", "u1", "c1", "recruiter", "first question", T0, T0.plusSeconds(60), 4, 150, 7));
    assertThat(store.find("unknown")).isEmpty();
  }

  @Test
  void recentListsTheUsersSessionsNewestFirstAndIdleSinceTheOldestFirst() {
    store.recordExchange("a", U1, "a", T0, 2, 1);
    store.recordExchange("b", U1, "b", T0.plusSeconds(10), 2, 1);
    store.recordExchange("c", U2, "c", T0.plusSeconds(5), 2, 1);
    store.recordExchange("d", U1, "d", T0.plusSeconds(20), 2, 1);

    assertThat(ids(store.recent("u1", "c1", 2))).containsExactly("d", "b");
    assertThat(ids(store.recent("u1", "other-company", 10))).isEmpty();
    assertThat(ids(store.idleSince(T0.plusSeconds(11), 10))).containsExactly("a", "c", "b");
    assertThatThrownBy(() -> store.recent("u1", "c1", 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void deleteRemovesTheRecordOnce() {
    store.recordExchange("s", U1, "t", T0, 2, 1);

    assertThat(store.delete("s")).isTrue();
    assertThat(store.delete("s")).isFalse();
    assertThat(store.find("s")).isEmpty();
  }

  @Test
  void aDatabaseFailureIsAStateStoreExceptionNamingTheOperationWithoutValues() throws Exception {
    try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
      s.execute("DROP TABLE " + JdbcSessionStore.TABLE);
    }

    assertThatThrownBy(() -> store.recordExchange("secret-session", U1, "secret title", T0, 2, 1))
        .isInstanceOf(StateStoreException.class)
        .hasMessageContaining("recordExchange").hasMessageContaining("42P01")
        .hasMessageNotContaining("secret");
  }

  private static List<String> ids(List<SessionRecord> records) {
    return records.stream().map(SessionRecord::sessionId).toList();
  }
}
