package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The in-memory ledger's bookkeeping that issue 16's allocation work touched: settlement times
 * kept as nanoseconds rather than {@code Instant}s, and the request-id index pointing at
 * reservations directly. The behaviour every ledger shares is {@code CreditLedgerContract}'s (in
 * llm-gateway-jdbc).
 */
class InMemoryCreditLedgerBookkeepingTest {
  private static final UserContext ADA =
      UserContext.builder().userId("123").companyId("c1").role("recruiter").build();

  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");

  @Test
  void settledReservationIsRememberedForTheRetentionToTheNanosecond() {
    InMemoryCreditLedger ledger = ledger(Duration.ofNanos(1_500));
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");
    clock.advance(Duration.ofNanos(250));
    ledger.commit(r, 10);

    clock.advance(Duration.ofNanos(1_499));
    ledger.releaseExpired();
    assertThat(ledger.commit(r, 10)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(ledger.findByRequestId("req-1")).contains(r);

    clock.advance(Duration.ofNanos(1));
    ledger.releaseExpired();
    assertThat(ledger.commit(r, 10)).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.findByRequestId("req-1")).isEmpty();
    assertThat(ledger.balance("123")).isEqualTo(90);
  }

  @Test
  void retentionIsCountedOnClocksFarFromTheEpoch() {
    for (String start : new String[] {"3000-01-01T00:00:00.000000001Z", "1000-06-30T23:59:59.999999999Z"}) {
      clock.set(Instant.parse(start));
      InMemoryCreditLedger ledger = ledger(Duration.ofHours(1));
      Reservation r = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");
      ledger.release(r, "done");

      clock.advance(Duration.ofHours(1).minusNanos(1));
      ledger.releaseExpired();
      assertThat(ledger.release(r, "again")).as(start).isEqualTo(Settlement.ALREADY_RELEASED);

      clock.advance(Duration.ofNanos(1));
      ledger.releaseExpired();
      assertThat(ledger.release(r, "again")).as(start).isEqualTo(Settlement.UNKNOWN);
    }
  }

  @Test
  void retentionTooLongForNanosecondsRemembersForever() {
    InMemoryCreditLedger ledger = ledger(Duration.ofSeconds(Long.MAX_VALUE));
    Reservation r = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");
    ledger.commit(r, 10);

    clock.advance(Duration.ofDays(365L * 1_000));
    ledger.releaseExpired();

    assertThat(ledger.commit(r, 10)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void forgettingASettledReservationKeepsItsRequestIdWithTheReservationThatReusedIt() {
    InMemoryCreditLedger ledger = ledger(Duration.ofMinutes(1));
    Reservation first = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");
    ledger.release(first, "retry");
    clock.advance(Duration.ofSeconds(30));
    Reservation second = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");

    clock.advance(Duration.ofSeconds(30));
    ledger.releaseExpired();

    assertThat(ledger.commit(first, 1)).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.findByRequestId("req-1")).contains(second);
    assertThatThrownBy(() -> ledger.reserve(ADA, Operation.CHAT, 30, "req-1"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("req-1");
    assertThat(ledger.reserved("123")).isEqualTo(30);
  }

  @Test
  void reservationsThatTookARequestIdInTurnAreEachSettledOnceAndForgottenInTurn() {
    InMemoryCreditLedger ledger = ledger(Duration.ofMinutes(1));
    Reservation first = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");
    ledger.commit(first, 10);
    clock.advance(Duration.ofSeconds(10));
    Reservation second = ledger.reserve(ADA, Operation.CHAT, 20, "req-1");
    ledger.release(second, "retry");
    clock.advance(Duration.ofSeconds(10));
    Reservation third = ledger.reserve(ADA, Operation.CHAT, 40, "req-1");

    assertThat(ledger.commit(first, 10)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(ledger.release(second, "again")).isEqualTo(Settlement.ALREADY_RELEASED);
    assertThat(ledger.findByRequestId("req-1")).contains(third);
    assertThat(ledger.reserved("123")).isEqualTo(40);
    assertThat(ledger.pendingCount()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(40)); // the first's retention is over, not the second's
    ledger.releaseExpired();
    assertThat(ledger.commit(first, 10)).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.release(second, "again")).isEqualTo(Settlement.ALREADY_RELEASED);

    clock.advance(Duration.ofSeconds(10));
    ledger.releaseExpired();
    assertThat(ledger.release(second, "again")).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.findByRequestId("req-1")).contains(third);
    assertThat(ledger.commit(third, 5)).isEqualTo(Settlement.COMMITTED);
    assertThat(ledger.commit(third, 5)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(ledger.balance("123")).isEqualTo(85);
    assertThat(ledger.reserved("123")).isZero();
  }

  @Test
  void afterTheClockWentBackTheLatestReservationOfARequestIdIsRememberedAsLongAsAnOlderOne() {
    InMemoryCreditLedger ledger = ledger(Duration.ofMinutes(1));
    Reservation older = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");
    ledger.commit(older, 10);
    clock.advance(Duration.ofMinutes(-10));
    Reservation latest = ledger.reserve(ADA, Operation.CHAT, 30, "req-1");
    ledger.commit(latest, 10);

    clock.advance(Duration.ofMinutes(1)); // the latest's retention is over, not the older one's
    ledger.releaseExpired();
    assertThat(ledger.commit(older, 10)).isEqualTo(Settlement.ALREADY_COMMITTED);
    assertThat(ledger.findByRequestId("req-1")).contains(latest);

    clock.advance(Duration.ofMinutes(10));
    ledger.releaseExpired();
    assertThat(ledger.commit(older, 10)).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.commit(latest, 10)).isEqualTo(Settlement.UNKNOWN);
    assertThat(ledger.findByRequestId("req-1")).isEmpty();
  }

  @Test
  void reservedAddsUpTheAccountsPendingReservationsWithAndWithoutRequestIds() {
    InMemoryCreditLedger ledger = ledger(Duration.ofMinutes(1));
    UserContext other = ADA.toBuilder().userId("456").build();
    ledger.deposit("456", 100);
    ledger.reserve(ADA, Operation.CHAT, 30, "req-1");
    Reservation settled = ledger.reserve(ADA, Operation.CHAT, 20);
    ledger.reserve(ADA, Operation.CHAT, 15);
    ledger.reserve(other, Operation.CHAT, 7, "req-2");
    ledger.commit(settled, 20);

    assertThat(ledger.reserved("123")).isEqualTo(45);
    assertThat(ledger.reserved("456")).isEqualTo(7);
    assertThat(ledger.reserved("nobody")).isZero();
    assertThat(ledger.balance("123")).isEqualTo(35);
  }

  private InMemoryCreditLedger ledger(Duration retention) {
    InMemoryCreditLedger ledger = InMemoryCreditLedger.builder().clock(clock).settledRetention(retention).build();
    ledger.deposit("123", 100);
    return ledger;
  }
}
