package dev.llmgateway.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.AccountKey;
import dev.llmgateway.host.InsufficientCreditsException;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.testkit.PostgresServer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The {@link dev.llmgateway.host.CreditLedger} contract, as InMemoryCreditLedgerTest states it, on PostgreSQL. */
class JdbcCreditLedgerTest {
  @RegisterExtension
  static final PostgresServer POSTGRES = new PostgresServer();

  private static final UserContext ADA = user("123", "acme");
  private static final UserContext BOB = user("456", "acme");

  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private Databases databases;
  private DataSource pool;
  private JdbcCreditLedger ledger;

  private static UserContext user(String id, String company) {
    return UserContext.builder().userId(id).companyId(company).role("recruiter").build();
  }

  @BeforeEach
  void createDatabase() {
    databases = new Databases(POSTGRES);
    pool = databases.pool();
    ledger = JdbcCreditLedger.builder(pool).clock(clock).lease(Duration.ofMinutes(10)).build();
  }

  @AfterEach
  void closePools() {
    ledger.close();
    databases.close();
  }

  @Test
  void reserveHoldsCreditsAndStampsTheReservation() {
    ledger.deposit("123", 100);

    Reservation r = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");

    assertThat(r.user()).isEqualTo(ADA);
    assertThat(r.operation()).isEqualTo(Operation.CHAT);
    assertThat(r.credits()).isEqualTo(30);
    assertThat(r.createdAt()).isEqualTo(Instant.parse("2026-11-20T10:00:00Z"));
    assertThat(r.expiresAt()).isEqualTo(Instant.parse("2026-11-20T10:10:00Z"));
    assertThat(r.requestId()).isEqualTo("req-1");
    assertThat(ledger.balance("123")).isEqualTo(70);
    assertThat(ledger.reserved("123")).isEqualTo(30);
    assertThat(ledger.pendingCount()).isEqualTo(1);
  }

  @Test
  void reservationBeyondTheBalanceThrowsAndHoldsNothing() {
    ledger.deposit("123", 10);

    assertThatThrownBy(() -> ledger.reserve(ADA, Operation.CHAT, 11, "req-1"))
        .isInstanceOfSatisfying(InsufficientCreditsException.class, e -> {
          assertThat(e.balance()).isEqualTo(10);
          assertThat(e.needed()).isEqualTo(11);
          assertThat(e.userId()).isEqualTo("123");
          assertThat(e.requestId()).isEqualTo("req-1");
        });
    assertThat(ledger.balance("123")).isEqualTo(10);
    assertThat(ledger.reserved("123")).isZero();
    assertThat(ledger.findByRequestId("req-1")).isEmpty();
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void unknownAccountHasNoCreditsButMayReserveNothing() {
    assertThatThrownBy(() -> ledger.reserve(BOB, Operation.CHAT, 1))
        .isInstanceOf(InsufficientCreditsException.class);
    assertThat(ledger.balance("456")).isZero();

    Reservation free = ledger.reserve(BOB, Operation.CHAT, 0);

    assertThat(ledger.commit(free, 0)).isEqualTo(Settlement.COMMITTED);
    assertThat(ledger.balance("456")).isZero();
  }

  @Test
  void commitChargesTheCostAndReturnsTheRest() {
    ledger.deposit("123", 100);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 30);

    assertThat(ledger.commit(r, 12)).isEqualTo(Settlement.COMMITTED);

    assertThat(ledger.balance("123")).isEqualTo(88);
    assertThat(ledger.reserved("123")).isZero();
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void commitAboveTheReservationChargesInFullAndMayGoNegative() {
    ledger.deposit("123", 10);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 10);

    assertThat(ledger.commit(r, 15)).isEqualTo(Settlement.COMMITTED);

    assertThat(ledger.balance("123")).isEqualTo(-5);
    assertThatThrownBy(() -> ledger.reserve(ADA, Operation.CHAT, 0))
        .isInstanceOf(InsufficientCreditsException.class);
  }

  @Test
  void releaseReturnsEverything() {
    ledger.deposit("123", 100);
    Reservation r = ledger.reserve(ADA, Operation.CHAT_STREAM, 40);

    assertThat(ledger.release(r, "call failed")).isEqualTo(Settlement.RELEASED);

    assertThat(ledger.balance("123")).isEqualTo(100);
    assertThat(ledger.reserved("123")).isZero();
  }

  @Test
  void repeatedAndLateSettlementsAreReportedNoOps() {
    ledger.deposit("123", 100);
    Reservation committed = ledger.reserve(ADA, Operation.CHAT, 30);
    Reservation released = ledger.reserve(ADA, Operation.CHAT, 30);

    assertThat(ledger.commit(committed, 20)).isEqualTo(Settlement.COMMITTED);
    assertThat(ledger.commit(committed, 20)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(ledger.commit(committed, 5)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(ledger.release(committed, "late failure")).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(ledger.release(released, "first")).isEqualTo(Settlement.RELEASED);
    assertThat(ledger.release(released, "second")).isEqualTo(Settlement.ALREADY_RELEASED);
    assertThat(ledger.commit(released, 25)).isEqualTo(Settlement.ALREADY_RELEASED);

    assertThat(ledger.balance("123")).isEqualTo(80);
    assertThat(ledger.reserved("123")).isZero();
  }

  @Test
  void reservationTheDatabaseNeverHeldIsUnknown() {
    ledger.deposit("123", 100);
    Instant now = clock.instant();
    Reservation foreign = new Reservation(UUID.randomUUID(), ADA, Operation.CHAT, 30, now, now, null);

    assertThat(ledger.commit(foreign, 10)).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.release(foreign, "x")).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.balance("123")).isEqualTo(100);
  }

  @Test
  void accountsDoNotShareBalancesUnlessTheKeySaysSo() {
    ledger.deposit("123", 50);
    ledger.deposit("456", 5);
    ledger.reserve(ADA, Operation.CHAT, 50);
    assertThatThrownBy(() -> ledger.reserve(BOB, Operation.CHAT, 6))
        .isInstanceOf(InsufficientCreditsException.class);

    JdbcCreditLedger byCompany = JdbcCreditLedger.builder(pool).clock(clock).accountKey(AccountKey.COMPANY).build();
    byCompany.deposit("acme", 20);
    byCompany.reserve(ADA, Operation.CHAT, 10);
    byCompany.reserve(BOB, Operation.CHAT, 10);

    assertThat(byCompany.balance("acme")).isZero();
    assertThat(byCompany.reserved("acme")).isEqualTo(20);
    assertThatThrownBy(() -> byCompany.reserve(BOB, Operation.CHAT, 1))
        .isInstanceOf(InsufficientCreditsException.class);
    assertThat(ledger.balance("456")).isEqualTo(5);
  }

  @Test
  void findByRequestIdFindsPendingAndRememberedSettledReservations() {
    ledger.deposit("123", 100);
    UserContext withCompanyRole = ADA.toBuilder().companyRole("owner").build();
    Reservation r = ledger.reserve(withCompanyRole, Operation.CHAT_STREAM, 30, "req-7");

    assertThat(ledger.findByRequestId("req-7")).contains(r);
    ledger.commit(r, 10);

    assertThat(ledger.findByRequestId("req-7")).contains(r);
    assertThat(ledger.commit(ledger.findByRequestId("req-7").orElseThrow(), 10))
        .isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(ledger.findByRequestId("other")).isEmpty();
  }

  @Test
  void secondPendingReservationWithTheSameRequestIdIsRefusedAndHoldsNothing() {
    ledger.deposit("123", 100);
    Reservation first = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");

    assertThatThrownBy(() -> ledger.reserve(ADA, Operation.CHAT, 30, "req-1"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("req-1");
    assertThat(ledger.balance("123")).isEqualTo(70);
    assertThat(ledger.reserved("123")).isEqualTo(30);
    assertThat(ledger.findByRequestId("req-1")).contains(first);
  }

  @Test
  void requestIdOfASettledReservationMayBeReused() {
    ledger.deposit("123", 100);
    Reservation first = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");
    ledger.release(first, "retry");

    Reservation second = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");

    assertThat(ledger.findByRequestId("req-1")).contains(second);
    assertThat(ledger.commit(first, 1)).isEqualTo(Settlement.ALREADY_RELEASED);
  }

  @Test
  void reaperReleasesReservationsWhoseLeaseEnded() {
    List<Reservation> expired = new ArrayList<>();
    JdbcCreditLedger reaped = JdbcCreditLedger.builder(pool)
        .clock(clock).lease(Duration.ofMinutes(10)).expiryListener(expired::add).build();
    reaped.deposit("123", 100);
    Reservation old = reaped.reserve(ADA, Operation.CHAT_STREAM, 30, "req-old");
    clock.advance(Duration.ofMinutes(5));
    Reservation young = reaped.reserve(ADA, Operation.CHAT, 20);

    clock.advance(Duration.ofMinutes(5).minusNanos(1_000));
    assertThat(reaped.releaseExpired()).isZero();
    clock.advance(Duration.ofNanos(1_000));
    assertThat(reaped.releaseExpired()).isEqualTo(1);

    assertThat(expired).containsExactly(old);
    assertThat(reaped.balance("123")).isEqualTo(80);
    assertThat(reaped.commit(old, 30)).isEqualTo(Settlement.ALREADY_RELEASED);
    assertThat(reaped.commit(young, 5)).isEqualTo(Settlement.COMMITTED);
    assertThat(reaped.releaseExpired()).isZero();
    assertThat(reaped.balance("123")).isEqualTo(95);
  }

  @Test
  void settledReservationsAreForgottenAfterTheRetention() {
    ledger.deposit("123", 100);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");
    ledger.commit(r, 10);

    clock.advance(Duration.ofMinutes(59));
    ledger.releaseExpired();
    assertThat(ledger.commit(r, 10)).isEqualTo(Settlement.ALREADY_COMMITTED);

    clock.advance(Duration.ofMinutes(1));
    ledger.releaseExpired();
    assertThat(ledger.commit(r, 10)).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.findByRequestId("req-1")).isEmpty();
    assertThat(ledger.balance("123")).isEqualTo(90);
  }

  @Test
  void builtInReaperReleasesOnItsOwnThreadAndStopsOnClose() throws Exception {
    CountDownLatch released = new CountDownLatch(1);
    AtomicReference<Thread> reaperThread = new AtomicReference<>();
    List<Reservation> expired = new CopyOnWriteArrayList<>();
    JdbcCreditLedger owned = JdbcCreditLedger.builder(pool)
        .clock(clock)
        .lease(Duration.ofMinutes(10))
        .reaperInterval(Duration.ofMillis(10))
        .expiryListener(r -> {
          expired.add(r);
          reaperThread.set(Thread.currentThread());
          released.countDown();
        })
        .build();
    try {
      owned.deposit("123", 100);
      Reservation r = owned.reserve(ADA, Operation.CHAT, 30);
      clock.advance(Duration.ofMinutes(10));

      assertThat(released.await(10, TimeUnit.SECONDS)).as("reaper ran").isTrue();
      assertThat(expired).containsExactly(r);
      assertThat(owned.balance("123")).isEqualTo(100);
      assertThat(reaperThread.get().getName()).isEqualTo("llm-gateway-jdbc-credit-reaper");
      assertThat(reaperThread.get().isDaemon()).isTrue();
    } finally {
      owned.close();
    }

    reaperThread.get().join(TimeUnit.SECONDS.toMillis(10));
    assertThat(reaperThread.get().isAlive()).isFalse();
    owned.close(); // idempotent
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
  void arguments() {
    assertThatThrownBy(() -> ledger.deposit("123", 0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(ledger.deposit("123", 1)).as("the balance after the deposit").isEqualTo(1);
    assertThatThrownBy(() -> ledger.reserve(ADA, Operation.CHAT, -1)).isInstanceOf(IllegalArgumentException.class);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 1);
    assertThatThrownBy(() -> ledger.commit(r, -1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> JdbcCreditLedger.builder(pool).lease(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease");
    assertThatThrownBy(() -> JdbcCreditLedger.builder(pool).statementTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("statementTimeout");
    assertThatThrownBy(() -> JdbcCreditLedger.builder(pool).reaperInterval(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> JdbcCreditLedger.builder(pool).settledRetention(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
