package dev.llmgateway.host.internal;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.Reservation;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * What every credit ledger of the SDK checks and logs alike: its settings, the arguments of its
 * methods and the lines it logs. Not API.
 */
public final class CreditLedgers {
  /** How long a reservation may stay unsettled before the reaper releases it, by default. */
  public static final Duration DEFAULT_LEASE = Duration.ofMinutes(15);
  /** How long a settled reservation is remembered, by default. */
  public static final Duration DEFAULT_SETTLED_RETENTION = Duration.ofHours(1);

  private CreditLedgers() {}

  /**
   * Checks a lease setting.
   *
   * @param lease the lease
   * @return {@code lease}
   * @throws IllegalArgumentException if it is zero or negative
   */
  public static Duration lease(Duration lease) {
    return positive(lease, "lease");
  }

  /**
   * Checks a settled-retention setting.
   *
   * @param retention the retention
   * @return {@code retention}
   * @throws IllegalArgumentException if it is negative
   */
  public static Duration settledRetention(Duration retention) {
    Objects.requireNonNull(retention, "retention");
    if (retention.isNegative()) {
      throw new IllegalArgumentException("settledRetention < 0: " + retention);
    }
    return retention;
  }

  /**
   * Checks a reaper-interval setting.
   *
   * @param interval the interval
   * @return {@code interval}
   * @throws IllegalArgumentException if it is zero or negative
   */
  public static Duration reaperInterval(Duration interval) {
    return positive(interval, "reaperInterval");
  }

  /**
   * Checks a setting that must be a positive duration.
   *
   * @param value the setting
   * @param name the setting's name, for the messages
   * @return {@code value}
   * @throws IllegalArgumentException if it is zero or negative
   */
  public static Duration positive(Duration value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(name + " <= 0: " + value);
    }
    return value;
  }

  /**
   * Checks the arguments of a deposit.
   *
   * @param account the account key
   * @param credits the credits to add
   * @throws IllegalArgumentException if {@code credits < 1}
   */
  public static void checkDeposit(String account, long credits) {
    Objects.requireNonNull(account, "account");
    if (credits < 1) {
      throw new IllegalArgumentException("credits < 1: " + credits);
    }
  }

  /**
   * Checks the arguments of a reservation.
   *
   * @param user the user
   * @param operation the call
   * @param estimatedCredits the credits to hold
   * @throws IllegalArgumentException if {@code estimatedCredits < 0}
   */
  public static void checkReserve(UserContext user, Operation operation, long estimatedCredits) {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(operation, "operation");
    if (estimatedCredits < 0) {
      throw new IllegalArgumentException("estimatedCredits < 0: " + estimatedCredits);
    }
  }

  /**
   * Checks the arguments of a commit.
   *
   * @param reservation the reservation
   * @param credits the credits to charge
   * @throws IllegalArgumentException if {@code credits < 0}
   */
  public static void checkCommit(Reservation reservation, long credits) {
    Objects.requireNonNull(reservation, "reservation");
    if (credits < 0) {
      throw new IllegalArgumentException("credits < 0: " + credits);
    }
  }

  /**
   * Checks the arguments of a release.
   *
   * @param reservation the reservation
   * @param reason why it is released
   */
  public static void checkRelease(Reservation reservation, String reason) {
    Objects.requireNonNull(reservation, "reservation");
    Objects.requireNonNull(reason, "reason");
  }

  /**
   * The error for a reservation whose request id an unsettled reservation already holds.
   *
   * @param requestId the request id
   * @param cause what told, or null
   * @return the error to throw
   */
  public static IllegalStateException requestIdHeld(@Nullable String requestId, @Nullable Throwable cause) {
    return new IllegalStateException(
        "An unsettled reservation already holds request id " + requestId
            + "; settle it first or use a new request id per call", cause);
  }

  /**
   * Logs, at DEBUG, a release that took effect.
   *
   * @param log the ledger's logger
   * @param reservation the released reservation
   * @param reason why
   */
  public static void logReleased(Logger log, Reservation reservation, String reason) {
    log.debug("Released credit reservation {} ({} credits, request id {}): {}",
        reservation.id(), reservation.credits(), reservation.requestId(), reason);
  }

  /**
   * The default expiry listener: logs a reservation the reaper released at WARN.
   *
   * @param log the ledger's logger
   * @return the listener
   */
  public static Consumer<Reservation> logExpired(Logger log) {
    return reservation -> log.warn("Released credit reservation {} of user {} ({} credits, {}, request id {}):"
            + " not settled before its lease ended at {}",
        reservation.id(), reservation.user().userId(), reservation.credits(), reservation.operation(),
        reservation.requestId(), reservation.expiresAt());
  }

  /**
   * Tells the expiry listener of a reservation the reaper released; logs and ignores its failure.
   *
   * @param log the ledger's logger
   * @param listener the host's listener
   * @param reservation the released reservation
   */
  public static void notifyExpired(Logger log, Consumer<? super Reservation> listener, Reservation reservation) {
    try {
      listener.accept(reservation);
    } catch (RuntimeException e) {
      log.warn("Credit reservation expiry listener failed for reservation {}", reservation.id(), e);
    }
  }
}
