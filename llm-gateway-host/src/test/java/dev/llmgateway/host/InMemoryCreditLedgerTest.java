package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.Operation;
import dev.llmgateway.Usage;
import dev.llmgateway.UserContext;
import dev.llmgateway.testkit.MutableClock;
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
import org.junit.jupiter.api.Test;

class InMemoryCreditLedgerTest {
  private static final UserContext ADA = user("123");
  private static final UserContext BOB = user("456");

  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.builder()
      .clock(clock)
      .lease(Duration.ofMinutes(10))
      .settledRetention(Duration.ofHours(1))
      .build();

  private static UserContext user(String id) {
    return UserContext.builder().userId(id).companyId("c-" + id).role("recruiter").build();
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
  }

  @Test
  void unknownUserHasNoCredits() {
    assertThatThrownBy(() -> ledger.reserve(BOB, Operation.CHAT, 1))
        .isInstanceOf(InsufficientCreditsException.class);
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
  }

  @Test
  void releaseTwiceReturnsOnce() {
    ledger.deposit("123", 100);
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 30);

    assertThat(ledger.release(r, "first")).isEqualTo(Settlement.RELEASED);
    assertThat(ledger.release(r, "second")).isEqualTo(Settlement.ALREADY_RELEASED);

    assertThat(ledger.balance("123")).isEqualTo(100);
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
  void reservationOfAnotherLedgerIsUnknown() {
    ledger.deposit("123", 100);
    InMemoryCreditLedger other = InMemoryCreditLedger.builder().clock(clock).build();
    other.deposit("123", 100);
    Reservation foreign = other.reserve(ADA, Operation.CHAT, 30);

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
  void usersDoNotShareBalances() {
    ledger.deposit("123", 50);
    ledger.deposit("456", 5);

    ledger.reserve(ADA, Operation.CHAT, 50);

    assertThatThrownBy(() -> ledger.reserve(BOB, Operation.CHAT, 6))
        .isInstanceOf(InsufficientCreditsException.class);
    assertThat(ledger.balance("456")).isEqualTo(5);
  }

  @Test
  void findByRequestIdFindsPendingAndRememberedSettledReservations() {
    ledger.deposit("123", 100);
    Reservation r = ledger.reserve(ADA, Operation.CHAT_STREAM, 30, "req-7");

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
    InMemoryCreditLedger reaped = InMemoryCreditLedger.builder()
        .clock(clock).lease(Duration.ofMinutes(10)).expiryListener(expired::add).build();
    reaped.deposit("123", 100);
    Reservation old = reaped.reserve(ADA, Operation.CHAT_STREAM, 30, "req-old");
    clock.advance(Duration.ofMinutes(5));
    Reservation young = reaped.reserve(ADA, Operation.CHAT, 20);

    clock.advance(Duration.ofMinutes(5).minusNanos(1));
    assertThat(reaped.releaseExpired()).isZero();
    clock.advance(Duration.ofNanos(1));
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
    InMemoryCreditLedger owned = InMemoryCreditLedger.builder()
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
      assertThat(reaperThread.get().getName()).isEqualTo("llm-gateway-credit-reaper");
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
    assertThatThrownBy(() -> InMemoryCreditLedger.builder().lease(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> InMemoryCreditLedger.builder().reaperInterval(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> InMemoryCreditLedger.builder().settledRetention(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Reservation(UUID.randomUUID(), ADA, Operation.CHAT, 1,
        Instant.EPOCH, Instant.EPOCH.minusSeconds(1), null)).isInstanceOf(IllegalArgumentException.class);
  }
}
