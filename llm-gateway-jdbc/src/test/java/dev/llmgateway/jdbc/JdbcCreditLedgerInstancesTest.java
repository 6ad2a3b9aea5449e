package dev.llmgateway.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ErrorMapper;
import dev.llmgateway.host.InsufficientCreditsException;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two host instances (two ledgers on two pools) sharing one PostgreSQL database, and the faults of
 * the database: restart, unreachable, a statement timeout.
 */
class JdbcCreditLedgerInstancesTest {
  @RegisterExtension
  static final PostgresServer POSTGRES = new PostgresServer();

  private static final UserContext ADA =
      UserContext.builder().userId("123").companyId("acme").role("recruiter").build();

  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final List<Reservation> expiredOnA = new CopyOnWriteArrayList<>();
  private final List<Reservation> expiredOnB = new CopyOnWriteArrayList<>();
  private Databases databases;
  private HikariDataSource poolA;
  private HikariDataSource poolB;
  private JdbcCreditLedger a;
  private JdbcCreditLedger b;

  @BeforeEach
  void twoInstances() {
    POSTGRES.start(); // a no-op unless a test left it stopped
    databases = new Databases(POSTGRES);
    poolA = databases.pool(Duration.ofSeconds(2));
    poolB = databases.pool(Duration.ofSeconds(2));
    a = JdbcCreditLedger.builder(poolA).clock(clock).lease(Duration.ofMinutes(10)).expiryListener(expiredOnA::add)
        .build();
    b = JdbcCreditLedger.builder(poolB).clock(clock).lease(Duration.ofMinutes(10)).expiryListener(expiredOnB::add)
        .build();
  }

  @AfterEach
  void close() {
    POSTGRES.start();
    databases.close();
  }

  @Test
  void concurrentReservationsAcrossInstancesNeverOverspend() throws Exception {
    a.deposit("123", 500);
    List<Callable<Boolean>> chats = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      JdbcCreditLedger instance = i % 2 == 0 ? a : b;
      chats.add(() -> {
        try {
          instance.reserve(ADA, Operation.CHAT, 10);
          return true;
        } catch (InsufficientCreditsException e) {
          return false;
        }
      });
    }

    List<Boolean> results = Databases.concurrently(chats);

    assertThat(results.stream().filter(ok -> ok)).hasSize(50);
    assertThat(a.balance("123")).isZero();
    assertThat(b.reserved("123")).isEqualTo(500);
    assertThat(b.pendingCount()).isEqualTo(50);
  }

  @Test
  void openAccountFromBothInstancesAtOnceFundsTheAccountOnceAndNeverAgain() throws Exception {
    List<Callable<Boolean>> opens = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      JdbcCreditLedger instance = i % 2 == 0 ? a : b;
      opens.add(() -> instance.openAccount("123", 1_000));
    }

    List<Boolean> created = Databases.concurrently(opens);

    assertThat(created).containsOnlyOnce(true);
    assertThat(a.balance("123")).isEqualTo(1_000);
    a.reserve(ADA, Operation.CHAT, 1_000);
    // A restarted instance opens it again: spent credits are not given back.
    assertThat(b.openAccount("123", 1_000)).isFalse();
    assertThat(b.balance("123")).isZero();
    assertThatThrownBy(() -> a.openAccount("123", 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void reservationMadeOnOneInstanceIsChargedOnceWhereverItsCommitsArrive() {
    a.deposit("123", 100);
    a.reserve(ADA, Operation.CHAT_STREAM, 30, "req-1");

    Reservation found = b.findByRequestId("req-1").orElseThrow();
    assertThat(b.commit(found, 12)).isEqualTo(Settlement.COMMITTED);
    // Redeliveries of the completion webhook, to either instance.
    assertThat(a.commit(a.findByRequestId("req-1").orElseThrow(), 12)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(b.commit(found, 12)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(a.release(found, "late")).isEqualTo(Settlement.ALREADY_COMMITTED);

    assertThat(a.balance("123")).isEqualTo(88);
    assertThat(a.reserved("123")).isZero();
  }

  @Test
  void concurrentCommitsAndReleasesFromBothInstancesSettleExactlyOnce() throws Exception {
    a.deposit("123", 1_000_000);
    for (int round = 0; round < 20; round++) {
      long before = a.balance("123");
      Reservation r = a.reserve(ADA, Operation.CHAT, 100);
      List<Callable<Settlement>> tasks = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        JdbcCreditLedger instance = t % 4 < 2 ? a : b;
        tasks.add(t % 2 == 0 ? () -> instance.commit(r, 40) : () -> instance.release(r, "race"));
      }

      List<Settlement> results = Databases.concurrently(tasks);

      assertThat(results.stream().filter(Settlement::applied)).hasSize(1);
      Settlement winner = results.stream().filter(Settlement::applied).findFirst().orElseThrow();
      Settlement loser = winner == Settlement.COMMITTED ? Settlement.ALREADY_COMMITTED : Settlement.ALREADY_RELEASED;
      assertThat(results.stream().filter(s -> !s.applied())).hasSize(7).allMatch(s -> s == loser);
      assertThat(b.balance("123")).isEqualTo(winner == Settlement.COMMITTED ? before - 40 : before);
      assertThat(b.reserved("123")).isZero();
    }
  }

  @Test
  void reapersOnBothInstancesReleaseEachExpiredReservationExactlyOnce() throws Exception {
    a.deposit("123", 10_000);
    List<Reservation> reservations = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      reservations.add((i % 2 == 0 ? a : b).reserve(ADA, Operation.CHAT, 10));
    }
    clock.advance(Duration.ofMinutes(10));
    List<Callable<Integer>> tasks = new ArrayList<>();
    tasks.add(a::releaseExpired);
    tasks.add(b::releaseExpired);
    tasks.add(a::releaseExpired);
    tasks.add(b::releaseExpired);
    tasks.add(() -> (int) reservations.stream().filter(r -> b.commit(r, 10).applied()).count());

    List<Integer> results = Databases.concurrently(tasks);

    int released = results.get(0) + results.get(1) + results.get(2) + results.get(3);
    int committed = results.get(4);
    assertThat(released + committed).isEqualTo(100);
    List<Reservation> expired = new ArrayList<>(expiredOnA);
    expired.addAll(expiredOnB);
    assertThat(expired).hasSize(released).doesNotHaveDuplicates();
    assertThat(a.balance("123")).isEqualTo(10_000 - 10L * committed);
    assertThat(a.reserved("123")).isZero();
    assertThat(a.pendingCount()).isZero();
  }

  @Test
  void restartOfPostgresBetweenTwoRequestsLosesNothing() {
    a.deposit("123", 100);
    Reservation open = a.reserve(ADA, Operation.CHAT, 30, "req-open");
    Reservation settled = a.reserve(ADA, Operation.CHAT, 20, "req-settled");
    a.commit(settled, 5);

    POSTGRES.stop();
    POSTGRES.start();

    assertThat(a.balance("123")).isEqualTo(65);
    assertThat(a.reserved("123")).isEqualTo(30);
    assertThat(b.findByRequestId("req-open")).contains(open);
    assertThat(b.commit(settled, 5)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(a.commit(open, 10)).isEqualTo(Settlement.COMMITTED);
    assertThat(b.balance("123")).isEqualTo(85);
  }

  @Test
  void connectionsDroppedBetweenReserveAndCommitChargeOnce() throws Exception {
    a.deposit("123", 100);
    Reservation r = a.reserve(ADA, Operation.CHAT, 30, "req-1");
    // Every other connection to the database is cut, as a failover or a network fault does.
    try (Connection admin = poolB.getConnection();
        PreparedStatement cut = admin.prepareStatement("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            + " WHERE datname = current_database() AND pid <> pg_backend_pid()");
        ResultSet rs = cut.executeQuery()) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).as("connections cut").isPositive();
    }

    assertThat(a.commit(r, 10)).isEqualTo(Settlement.COMMITTED);

    assertThat(b.commit(r, 10)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(a.balance("123")).isEqualTo(90);
    assertThat(poolA.getHikariPoolMXBean().getActiveConnections()).isZero();
  }

  @Test
  void settlementOnAConnectionTheDatabaseClosedIsRepeatedOnANewOneAndChargedOnce() throws Exception {
    a.deposit("123", 100);
    Reservation r = a.reserve(ADA, Operation.CHAT, 30, "req-1");
    Connection closed = DriverManager.getConnection(databases.jdbcUrl(), PostgresServer.USER, "");
    try (Connection admin = poolB.getConnection();
        PreparedStatement pid = closed.prepareStatement("SELECT pg_backend_pid()");
        ResultSet pidRow = pid.executeQuery();
        PreparedStatement terminate = admin.prepareStatement("SELECT pg_terminate_backend(?, 10000)")) {
      assertThat(pidRow.next()).isTrue();
      terminate.setInt(1, pidRow.getInt(1));
      try (ResultSet done = terminate.executeQuery()) {
        assertThat(done.next() && done.getBoolean(1)).as("backend terminated").isTrue();
      }
    }
    JdbcCreditLedger afterFailover = JdbcCreditLedger.builder(new FirstConnectionDataSource(closed, poolB))
        .clock(clock).build();

    assertThat(afterFailover.commit(r, 10)).isEqualTo(Settlement.COMMITTED);

    assertThat(closed.isClosed()).as("the lost connection was closed").isTrue();
    assertThat(a.commit(r, 10)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(a.balance("123")).isEqualTo(90);
  }

  @Test
  void unreachableDatabaseFailsClosedWithATypedRetryableErrorAndLeaksNothing() {
    a.deposit("123", 100);
    Reservation open = a.reserve(ADA, Operation.CHAT, 30, "req-1");

    POSTGRES.stop();

    assertThatThrownBy(() -> a.reserve(ADA, Operation.CHAT, 10, "req-2"))
        .isInstanceOfSatisfying(CreditStoreException.class, e -> {
          assertThat(e.isRetryable()).isTrue();
          assertThat(e.requestId()).isEqualTo("req-2");
          assertThat(e.timedOut()).isFalse();
          assertThat(ErrorMapper.ofDefaults().toResponse(e).status()).isEqualTo(503);
        });
    assertThatThrownBy(() -> b.commit(open, 10)).isInstanceOf(CreditStoreException.class);
    assertThatThrownBy(() -> a.findByRequestId("req-1")).isInstanceOf(CreditStoreException.class);
    assertThatThrownBy(a::releaseExpired).isInstanceOf(CreditStoreException.class);
    assertThat(poolA.getHikariPoolMXBean().getActiveConnections()).isZero();
    assertThat(poolB.getHikariPoolMXBean().getActiveConnections()).isZero();

    POSTGRES.start();

    // Read through a new pool: the old pools reconnect in their own time (HikariCP's back-off).
    JdbcCreditLedger restarted = JdbcCreditLedger.builder(databases.pool()).clock(clock).build();
    assertThat(restarted.balance("123")).isEqualTo(70);
    assertThat(restarted.pendingCount()).isEqualTo(1);
    assertThat(restarted.commit(open, 10)).as("the failed commit left it pending").isEqualTo(Settlement.COMMITTED);
    assertThat(restarted.balance("123")).isEqualTo(90);
  }

  @Test
  void statementTimeoutFailsWithATypedErrorAndHoldsNothing() throws Exception {
    a.deposit("123", 100);
    JdbcCreditLedger impatient = JdbcCreditLedger.builder(poolB).clock(clock)
        .statementTimeout(Duration.ofMillis(200)).build();
    try (Connection locker = poolA.getConnection()) {
      locker.setAutoCommit(false);
      try (PreparedStatement lock = locker.prepareStatement(
          "SELECT available FROM " + JdbcCreditLedger.ACCOUNTS_TABLE + " WHERE account = ? FOR UPDATE")) {
        lock.setString(1, "123");
        try (ResultSet rs = lock.executeQuery()) {
          assertThat(rs.next()).isTrue();
        }
      }

      assertThatThrownBy(() -> impatient.reserve(ADA, Operation.CHAT, 10, "req-1"))
          .isInstanceOfSatisfying(CreditStoreException.class, e -> {
            assertThat(e.timedOut()).isTrue();
            assertThat(e.isRetryable()).isTrue();
            assertThat(e.getMessage()).contains("reserve", "statement timeout");
          });
      locker.rollback();
    }

    assertThat(a.balance("123")).isEqualTo(100);
    assertThat(a.pendingCount()).isZero();
    assertThat(impatient.reserve(ADA, Operation.CHAT, 10, "req-1").credits()).isEqualTo(10);
  }
}
