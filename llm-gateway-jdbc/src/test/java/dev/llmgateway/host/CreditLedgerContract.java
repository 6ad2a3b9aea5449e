package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.Operation;
import dev.llmgateway.Usage;
import dev.llmgateway.UserContext;
import dev.llmgateway.testkit.Concurrently;
import dev.llmgateway.testkit.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link CreditLedger} of the SDK shares (reservations, settlement exactly
 * once, request ids, the lease reaper, its thread, the builder's checks), run by each ledger's
 * test: InMemoryCreditLedgerTest and JdbcCreditLedgerTest. It lives in llm-gateway-jdbc's tests,
 * the one module with both ledgers on its class path, so that no module publishes a test jar (and
 * the examples' {@code compile exec:java} needs no test jar built). A subclass says how to build
 * its ledger and keeps only what is its own.
 */
public abstract class CreditLedgerContract {
  protected static final UserContext ADA = user("123");
  protected static final UserContext BOB = user("456");

  /** The clock of every ledger a test builds; moved by hand. */
  protected final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  /** A ledger on {@link #clock} with a 10-minute lease and a 1-hour retention, built before each test. */
  protected TestLedger ledger;

  /** Both users belong to one company, so that {@link AccountKey#COMPANY} makes them share credits. */
  private static UserContext user(String id) {
    return UserContext.builder().userId(id).companyId("acme").role("recruiter").build();
  }

  /**
   * Builds the ledger under test: a builder of it, given the test's settings ({@link
   * LedgerBuilder#applyTo}).
   *
   * @param settings what the test set
   * @return the ledger
   */
  protected abstract TestLedger build(LedgerBuilder settings);

  /** Starts the settings of a ledger under test; {@code build()} builds it. */
  protected final LedgerBuilder builder() {
    return new LedgerBuilder();
  }

  /**
   * The name of the ledger's reaper thread.
   *
   * @return the name
   */
  protected abstract String reaperThreadName();

  /**
   * The finest time the ledger keeps: a lease ends this long after the last instant it holds.
   *
   * @return the resolution, 1 ns by default
   */
  protected Duration clockResolution() {
    return Duration.ofNanos(1);
  }

  @BeforeEach
  void buildLedger() {
    ledger = builder().clock(clock).lease(Duration.ofMinutes(10)).settledRetention(Duration.ofHours(1)).build();
  }

  @AfterEach
  void closeLedger() {
    ledger.close();
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
          assertThat(e.attempts()).isZero();
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
  void commitChargesThePricedUsage() {
    ledger.deposit("123", 100);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 50);

    long credits = CreditPricing.perThousandTokens(2, 10).credits(r.operation(), new Usage(1000, 500, 1500));
    Settlement s = ledger.commit(r, credits);

    assertThat(s).isEqualTo(Settlement.COMMITTED);
    assertThat(ledger.balance("123")).isEqualTo(100 - 7);
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
  void commitTwiceChargesOnce() {
    ledger.deposit("123", 100);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 30);

    assertThat(ledger.commit(r, 20)).isEqualTo(Settlement.COMMITTED);
    assertThat(ledger.commit(r, 20)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(ledger.commit(r, 5)).isEqualTo(Settlement.ALREADY_COMMITTED);

    assertThat(ledger.balance("123")).isEqualTo(80);
    assertThat(ledger.reserved("123")).isZero();
  }

  @Test
  void releaseTwiceReturnsOnce() {
    ledger.deposit("123", 100);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 30);

    assertThat(ledger.release(r, "first")).isEqualTo(Settlement.RELEASED);
    assertThat(ledger.release(r, "second")).isEqualTo(Settlement.ALREADY_RELEASED);

    assertThat(ledger.balance("123")).isEqualTo(100);
    assertThat(ledger.reserved("123")).isZero();
  }

  @Test
  void releaseAfterCommitIsAReportedNoOp() {
    ledger.deposit("123", 100);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 30);
    ledger.commit(r, 25);

    assertThat(ledger.release(r, "late failure")).isEqualTo(Settlement.ALREADY_COMMITTED);

    assertThat(ledger.balance("123")).isEqualTo(75);
  }

  @Test
  void commitAfterReleaseIsAReportedNoOp() {
    ledger.deposit("123", 100);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 30);
    ledger.release(r, "cancelled");

    assertThat(ledger.commit(r, 25)).isEqualTo(Settlement.ALREADY_RELEASED);

    assertThat(ledger.balance("123")).isEqualTo(100);
  }

  @Test
  void reservationTheLedgerNeverHeldIsUnknown() {
    ledger.deposit("123", 100);
    Instant now = clock.instant();
    Reservation foreign = new Reservation(UUID.randomUUID(), ADA, Operation.CHAT, 30, now, now, null);

    assertThat(ledger.commit(foreign, 10)).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.release(foreign, "x")).isEqualTo(Settlement.UNKNOWN);
    assertThat(Settlement.UNKNOWN.applied()).isFalse();
    assertThat(ledger.balance("123")).isEqualTo(100);
  }

  @Test
  void concurrentCommitsAndReleasesOfOneReservationSettleItExactlyOnce() throws Exception {
    ledger.deposit("123", 1_000_000);
    for (int round = 0; round < 200; round++) {
      long before = ledger.balance("123");
      Reservation r = ledger.reserve(ADA, Operation.CHAT, 100);
      List<Callable<Settlement>> tasks = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        tasks.add(t % 2 == 0 ? () -> ledger.commit(r, 40) : () -> ledger.release(r, "race"));
      }

      List<Settlement> results = Concurrently.run(tasks);

      assertThat(results.stream().filter(Settlement::applied)).hasSize(1);
      Settlement winner = results.stream().filter(Settlement::applied).findFirst().orElseThrow();
      Settlement loser = winner == Settlement.COMMITTED ? Settlement.ALREADY_COMMITTED : Settlement.ALREADY_RELEASED;
      assertThat(results.stream().filter(s -> !s.applied())).hasSize(7).allMatch(s -> s == loser);
      assertThat(ledger.balance("123")).isEqualTo(winner == Settlement.COMMITTED ? before - 40 : before);
      assertThat(ledger.reserved("123")).isZero();
    }
  }

  @Test
  void concurrentReservationsNeverOverspend() throws Exception {
    ledger.deposit("123", 1_000);
    List<Callable<Boolean>> tasks = new ArrayList<>();
    for (int t = 0; t < 64; t++) {
      tasks.add(() -> {
        try {
          ledger.reserve(ADA, Operation.CHAT, 30);
          return true;
        } catch (InsufficientCreditsException e) {
          return false;
        }
      });
    }

    List<Boolean> results = Concurrently.run(tasks);

    assertThat(results.stream().filter(ok -> ok)).hasSize(33); // 33 * 30 = 990 <= 1000 < 34 * 30
    assertThat(ledger.balance("123")).isEqualTo(10);
    assertThat(ledger.reserved("123")).isEqualTo(990);
    assertThat(ledger.pendingCount()).isEqualTo(33);
  }

  @Test
  void accountsDoNotShareBalancesUnlessTheKeySaysSo() {
    ledger.deposit("123", 50);
    ledger.deposit("456", 5);
    ledger.reserve(ADA, Operation.CHAT, 50);
    assertThatThrownBy(() -> ledger.reserve(BOB, Operation.CHAT, 6))
        .isInstanceOf(InsufficientCreditsException.class);

    TestLedger byCompany = builder().clock(clock).accountKey(AccountKey.COMPANY).build();
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
    Optional<Reservation> found = ledger.findByRequestId("req-7");

    assertThat(found).contains(r);
    assertThat(ledger.commit(found.orElseThrow(), 10)).isEqualTo(Settlement.ALREADY_COMMITTED);
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
    TestLedger reaped = builder().clock(clock).lease(Duration.ofMinutes(10)).expiryListener(expired::add).build();
    reaped.deposit("123", 100);
    Reservation old = reaped.reserve(ADA, Operation.CHAT_STREAM, 30, "req-old");
    clock.advance(Duration.ofMinutes(5));
    Reservation young = reaped.reserve(ADA, Operation.CHAT, 20);

    clock.advance(Duration.ofMinutes(5).minus(clockResolution()));
    assertThat(reaped.releaseExpired()).isZero();
    clock.advance(clockResolution());
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
  void reaperRacingSettlementsStillSettlesOnce() throws Exception {
    ledger.deposit("123", 10_000);
    List<Reservation> reservations = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      reservations.add(ledger.reserve(ADA, Operation.CHAT, 10));
    }
    clock.advance(Duration.ofMinutes(10));
    List<Callable<Integer>> tasks = new ArrayList<>();
    tasks.add(ledger::releaseExpired);
    tasks.add(ledger::releaseExpired);
    tasks.add(() -> (int) reservations.stream().filter(r -> ledger.commit(r, 10).applied()).count());

    List<Integer> results = Concurrently.run(tasks);

    int released = results.get(0) + results.get(1);
    int committed = results.get(2);
    assertThat(released + committed).isEqualTo(100);
    assertThat(ledger.balance("123")).isEqualTo(10_000 - 10L * committed);
    assertThat(ledger.reserved("123")).isZero();
  }

  @Test
  void builtInReaperReleasesOnItsOwnThreadAndStopsOnClose() throws Exception {
    CountDownLatch released = new CountDownLatch(1);
    AtomicReference<Thread> reaperThread = new AtomicReference<>();
    List<Reservation> expired = new CopyOnWriteArrayList<>();
    TestLedger owned = builder()
        .clock(clock)
        .lease(Duration.ofMinutes(10))
        .reaperInterval(Duration.ofMillis(1))
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
      assertThat(reaperThread.get().getName()).isEqualTo(reaperThreadName());
      assertThat(reaperThread.get().isDaemon()).isTrue();
    } finally {
      owned.close();
    }

    reaperThread.get().join(TimeUnit.SECONDS.toMillis(10));
    assertThat(reaperThread.get().isAlive()).isFalse();
    owned.close(); // idempotent
    assertThat(owned.reserve(ADA, Operation.CHAT, 1).credits()).isEqualTo(1); // still usable
  }

  @Test
  void closeWithoutAReaperDoesNothing() {
    ledger.close();
    ledger.deposit("123", 1);
    assertThat(ledger.balance("123")).isEqualTo(1);
  }

  @Test
  void arguments() {
    assertThatThrownBy(() -> ledger.deposit("123", 0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(ledger.deposit("123", 1)).as("the balance after the deposit").isEqualTo(1);
    assertThat(ledger.commit(ledger.reserve(ADA, Operation.CHAT, 1), 0)).as("a free call").isEqualTo(Settlement.COMMITTED);
    assertThat(ledger.balance("123")).isEqualTo(1);
    assertThatThrownBy(() -> ledger.reserve(ADA, Operation.CHAT, -1)).isInstanceOf(IllegalArgumentException.class);
    ledger.deposit("123", 10);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 1);
    assertThatThrownBy(() -> ledger.commit(r, -1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder().lease(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease");
    assertThatThrownBy(() -> builder().reaperInterval(Duration.ofSeconds(-1)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reaperInterval");
    assertThatThrownBy(() -> builder().reaperInterval(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reaperInterval");
    assertThatThrownBy(() -> builder().settledRetention(Duration.ofSeconds(-1)).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("settledRetention");
    assertThatThrownBy(() -> new Reservation(UUID.randomUUID(), ADA, Operation.CHAT, 1,
        Instant.EPOCH, Instant.EPOCH.minusSeconds(1), null)).isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * The settings a test gives the ledger's builder; those it leaves unset keep the builder's
   * defaults. {@link #build()} hands them to {@link CreditLedgerContract#build}.
   */
  protected final class LedgerBuilder {
    private @Nullable Clock clock;
    private @Nullable AccountKey accountKey;
    private @Nullable Duration lease;
    private @Nullable Duration settledRetention;
    private @Nullable Duration reaperInterval;
    private @Nullable Consumer<? super Reservation> expiryListener;

    private LedgerBuilder() {}

    LedgerBuilder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    LedgerBuilder accountKey(AccountKey accountKey) {
      this.accountKey = accountKey;
      return this;
    }

    LedgerBuilder lease(Duration lease) {
      this.lease = lease;
      return this;
    }

    LedgerBuilder settledRetention(Duration retention) {
      this.settledRetention = retention;
      return this;
    }

    LedgerBuilder reaperInterval(Duration interval) {
      this.reaperInterval = interval;
      return this;
    }

    LedgerBuilder expiryListener(Consumer<? super Reservation> listener) {
      this.expiryListener = listener;
      return this;
    }

    /** Builds the ledger under test with these settings. */
    TestLedger build() {
      return CreditLedgerContract.this.build(this);
    }

    /**
     * Calls the real builder's setter of each setting the test gave, in this order.
     *
     * @param clock the builder's {@code clock}
     * @param accountKey the builder's {@code accountKey}
     * @param lease the builder's {@code lease}
     * @param settledRetention the builder's {@code settledRetention}
     * @param reaperInterval the builder's {@code reaperInterval}
     * @param expiryListener the builder's {@code expiryListener}
     */
    public void applyTo(Consumer<Clock> clock, Consumer<AccountKey> accountKey, Consumer<Duration> lease,
        Consumer<Duration> settledRetention, Consumer<Duration> reaperInterval,
        Consumer<Consumer<? super Reservation>> expiryListener) {
      apply(this.clock, clock);
      apply(this.accountKey, accountKey);
      apply(this.lease, lease);
      apply(this.settledRetention, settledRetention);
      apply(this.reaperInterval, reaperInterval);
      apply(this.expiryListener, expiryListener);
    }

    private <T> void apply(@Nullable T value, Consumer<T> setter) {
      if (value != null) {
        setter.accept(value);
      }
    }
  }

  /**
   * A ledger under test: its {@link CreditLedger} methods, and those the ledgers share without an
   * interface (deposit, balances, the reaper, close), as method references to the real ledger's.
   */
  protected static final class TestLedger implements CreditLedger, AutoCloseable {
    /** A ledger's {@code deposit}. */
    @FunctionalInterface
    public interface Deposit {
      /** Adds credits; returns the balance after. */
      long deposit(String account, long credits);
    }

    private final CreditLedger ledger;
    private final Deposit deposit;
    private final ToLongFunction<String> balance;
    private final ToLongFunction<String> reserved;
    private final LongSupplier pendingCount;
    private final IntSupplier releaseExpired;
    private final Runnable close;

    /**
     * Wraps a ledger.
     *
     * @param ledger the ledger
     * @param deposit its {@code deposit}
     * @param balance its {@code balance}
     * @param reserved its {@code reserved}
     * @param pendingCount its {@code pendingCount}
     * @param releaseExpired its {@code releaseExpired}
     * @param close its {@code close}
     */
    public TestLedger(CreditLedger ledger, Deposit deposit, ToLongFunction<String> balance,
        ToLongFunction<String> reserved, LongSupplier pendingCount, IntSupplier releaseExpired, Runnable close) {
      this.ledger = ledger;
      this.deposit = deposit;
      this.balance = balance;
      this.reserved = reserved;
      this.pendingCount = pendingCount;
      this.releaseExpired = releaseExpired;
      this.close = close;
    }

    public long deposit(String account, long credits) {
      return deposit.deposit(account, credits);
    }

    public long balance(String account) {
      return balance.applyAsLong(account);
    }

    public long reserved(String account) {
      return reserved.applyAsLong(account);
    }

    public long pendingCount() {
      return pendingCount.getAsLong();
    }

    public int releaseExpired() {
      return releaseExpired.getAsInt();
    }

    @Override
    public void close() {
      close.run();
    }

    @Override
    public Reservation reserve(
        UserContext user, Operation operation, long estimatedCredits, @Nullable String requestId) {
      return ledger.reserve(user, operation, estimatedCredits, requestId);
    }

    @Override
    public Settlement commit(Reservation reservation, long credits) {
      return ledger.commit(reservation, credits);
    }

    @Override
    public Settlement release(Reservation reservation, String reason) {
      return ledger.release(reservation, reason);
    }

    @Override
    public Optional<Reservation> findByRequestId(String requestId) {
      return ledger.findByRequestId(requestId);
    }
  }
}
