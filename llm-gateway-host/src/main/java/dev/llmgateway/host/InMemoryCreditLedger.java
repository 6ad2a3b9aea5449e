package dev.llmgateway.host;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.internal.CreditLedgers;
import dev.llmgateway.host.internal.LedgerReaper;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link CreditLedger} in this JVM's memory: balances per account, reservations by id. For one
 * host instance, tests and demos; a host with several instances needs a shared ledger.
 *
 * <p><b>Accounts.</b> Who pays is the {@linkplain Builder#accountKey account key}: by default
 * {@link AccountKey#USER}, so each user id is an account; with {@link AccountKey#COMPANY} the users
 * of a company spend its credits. {@link #deposit}, {@link #balance} and {@link #reserved} take the
 * account key (a user id, a company id, or whatever the host's function answers).
 *
 * <p>This class is thread-safe and takes no lock: a reservation is one compare-and-set on the
 * user's balance, so concurrent reservations for one user never spend more than the user has, and
 * a settlement is one compare-and-set on the reservation's state, so exactly one of any number of
 * concurrent commits and releases takes effect.
 *
 * <p><b>Reaping.</b> A reservation not settled within its lease ({@linkplain Builder#lease default}
 * 15 minutes) is released by {@link #releaseExpired()}; settled reservations are remembered for
 * {@linkplain Builder#settledRetention a retention period} (default 1 hour) so that a repeated
 * settlement is reported as such, then forgotten by the same method. Call it on a schedule, or let
 * the ledger run it on its own thread with {@link Builder#reaperInterval}; {@link #close()} stops
 * that thread. Without either, unsettled reservations hold credits forever and memory grows.
 * Choose a lease longer than the longest call plus the completion webhook's redelivery window: a
 * commit that arrives after the reaper released the reservation is a no-op ({@link
 * Settlement#ALREADY_RELEASED}) and the charge is lost.
 *
 * <pre>{@code
 * InMemoryCreditLedger ledger = InMemoryCreditLedger.builder()
 *     .lease(Duration.ofMinutes(20))
 *     .reaperInterval(Duration.ofSeconds(30))
 *     .build();
 * ledger.deposit("123", 1_000);
 * }</pre>
 */
public final class InMemoryCreditLedger implements CreditLedger, AutoCloseable {
  /** How long a reservation may stay unsettled before the reaper releases it. */
  public static final Duration DEFAULT_LEASE = CreditLedgers.DEFAULT_LEASE;
  /** How long a settled reservation is remembered. */
  public static final Duration DEFAULT_SETTLED_RETENTION = CreditLedgers.DEFAULT_SETTLED_RETENTION;

  private static final Logger log = LoggerFactory.getLogger(InMemoryCreditLedger.class);
  private static final String REAPER_THREAD_NAME = "llm-gateway-credit-reaper";
  /** {@link Entry#settledAt()} of a reservation not settled yet. */
  private static final long UNSET = Long.MIN_VALUE;
  /** {@link #retentionNanos} of a retention too long to count in nanoseconds. */
  private static final long FOREVER = Long.MAX_VALUE;
  private static final long NANOS_PER_SECOND = 1_000_000_000L;
  /** Seconds from the origin from which (or up to which) nanoseconds no longer fit a long. */
  private static final long MAX_NANOS_SECONDS = Long.MAX_VALUE / NANOS_PER_SECOND;
  private static final long MIN_NANOS_SECONDS = Long.MIN_VALUE / NANOS_PER_SECOND;

  private final Clock clock;
  private final AccountKey accountKey;
  private final Duration lease;
  private final Duration settledRetention;
  /**
   * The clock's time when this ledger was built: settlement times are kept as nanoseconds since
   * it (exact for any clock, fake ones far from the epoch included).
   */
  private final Instant origin;
  /**
   * {@link #settledRetention} in nanoseconds; {@link #FOREVER} for 292 years or more (which
   * nanoseconds cannot count, so such a retention never ends).
   */
  private final long retentionNanos;
  private final Consumer<? super Reservation> expiryListener;
  private final LedgerReaper reaper;
  private final ConcurrentHashMap<String, Account> accounts = new ConcurrentHashMap<>();
  /** The reservations made without a request id, by id. */
  private final ConcurrentHashMap<UUID, Entry> entries = new ConcurrentHashMap<>();
  /**
   * The reservations made with a request id, by request id: the one that took it last (pending, or
   * settled and not yet forgotten), followed through {@link Entry#previous} by the settled ones
   * that held it before and are not yet forgotten. One map write per reservation instead of two
   * (by id and by request id), and one removal when it is forgotten.
   */
  private final ConcurrentHashMap<String, Entry> byRequestId = new ConcurrentHashMap<>();
  /** The high half of this ledger's reservation ids: random, so ids differ between ledgers too. */
  private final long idPrefix = new SecureRandom().nextLong();
  /** The low half of the reservation ids: a count, so ids never repeat within this ledger. */
  private final AtomicLong idCount = new AtomicLong();

  private InMemoryCreditLedger(Builder b) {
    this.clock = b.clock;
    this.accountKey = b.accountKey;
    this.lease = b.lease;
    this.settledRetention = b.settledRetention;
    this.retentionNanos = nanos(b.settledRetention);
    this.origin = b.clock.instant();
    this.expiryListener = b.expiryListener;
    this.reaper = LedgerReaper.start(b.reaperInterval, REAPER_THREAD_NAME, this::releaseExpired, log);
  }

  /**
   * Returns a ledger with the defaults: the system clock, a 15-minute lease, a 1-hour retention
   * and no reaper thread (call {@link #releaseExpired()} yourself).
   *
   * @return a new, empty ledger
   */
  public static InMemoryCreditLedger create() {
    return builder().build();
  }

  /**
   * Starts a builder holding the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Adds credits to an account's available balance.
   *
   * @param account the account key: a user id with the default {@link AccountKey#USER}, a company
   *     id with {@link AccountKey#COMPANY}
   * @param credits the credits to add, at least 1
   * @return the account's available balance afterwards
   * @throws IllegalArgumentException if {@code credits < 1}
   */
  public long deposit(String account, long credits) {
    CreditLedgers.checkDeposit(account, credits);
    return account(account).available.addAndGet(credits);
  }

  /**
   * Returns the credits an account can reserve now: deposits, minus credits held by unsettled
   * reservations, minus credits charged.
   *
   * @param account the account key (see {@link #deposit})
   * @return the available balance; 0 for an unknown account, negative after a charge overran its
   *     reservation
   */
  public long balance(String account) {
    Account a = accounts.get(Objects.requireNonNull(account, "account"));
    return a == null ? 0 : a.available.get();
  }

  /**
   * Returns the credits held by an account's unsettled reservations.
   *
   * <p>Adds up the account's pending reservations, so it takes time in proportion to the
   * reservations held (like {@link #pendingCount()}): meant for checks, tests and dashboards, not
   * for every request. The ledger keeps no running total, which would cost every reservation and
   * settlement one more atomic update.
   *
   * @param account the account key (see {@link #deposit})
   * @return the held credits; 0 for an unknown account
   */
  public long reserved(String account) {
    Account a = accounts.get(Objects.requireNonNull(account, "account"));
    return a == null ? 0 : held(entries, a) + held(byRequestId, a);
  }

  /** The credits of {@code account}'s pending reservations among {@code entries}' values. */
  private static long held(ConcurrentHashMap<?, Entry> entries, Account account) {
    long held = 0;
    for (Entry entry : entries.values()) {
      if (entry.account == account && entry.pending()) {
        held += entry.reservation.credits();
      }
    }
    return held;
  }

  /**
   * Returns the number of reservations not yet settled.
   *
   * @return the count, at this moment
   */
  public int pendingCount() {
    // Only the first reservation of a request id can be pending: a request id is re-used only
    // once its reservation is settled.
    return pendingCount(entries) + pendingCount(byRequestId);
  }

  private static int pendingCount(ConcurrentHashMap<?, Entry> entries) {
    int count = 0;
    for (Entry entry : entries.values()) {
      if (entry.pending()) {
        count++;
      }
    }
    return count;
  }

  @Override
  public Reservation reserve(
      UserContext user, Operation operation, long estimatedCredits, @Nullable String requestId) {
    CreditLedgers.checkReserve(user, operation, estimatedCredits);
    Account account = account(accountKey.requireAccountOf(user));
    while (true) {
      long available = account.available.get();
      if (available < estimatedCredits) {
        throw new InsufficientCreditsException(user.userId(), available, estimatedCredits, requestId);
      }
      if (account.available.compareAndSet(available, available - estimatedCredits)) {
        break;
      }
    }

    // Not UUID.randomUUID(): its SecureRandom takes JVM-wide locks on every call (HostPoliciesBenchmark).
    UUID id = new UUID(idPrefix, idCount.incrementAndGet());
    Instant now = clock.instant();
    Reservation reservation = new Reservation(
        id, user, operation, estimatedCredits, now, now.plus(lease), requestId);
    Entry entry = new Entry(reservation, account);
    if (requestId == null) {
      entries.put(id, entry);
    } else if (!index(requestId, entry)) {
      account.available.addAndGet(estimatedCredits);
      throw CreditLedgers.requestIdHeld(requestId, null);
    }
    return reservation;
  }

  @Override
  public Settlement commit(Reservation reservation, long credits) {
    CreditLedgers.checkCommit(reservation, credits);
    return settle(reservation, State.COMMITTED, credits);
  }

  @Override
  public Settlement release(Reservation reservation, String reason) {
    CreditLedgers.checkRelease(reservation, reason);
    Settlement settlement = settle(reservation, State.RELEASED, 0);
    if (settlement.applied()) {
      CreditLedgers.logReleased(log, reservation, reason);
    }
    return settlement;
  }

  @Override
  public Optional<Reservation> findByRequestId(String requestId) {
    Entry entry = byRequestId.get(Objects.requireNonNull(requestId, "requestId"));
    return entry == null ? Optional.empty() : Optional.of(entry.reservation);
  }

  /**
   * Releases every reservation whose lease has ended and forgets settled reservations older than
   * the retention. Safe to call from any thread at any time, concurrently with everything else; a
   * reservation settled concurrently is settled once either way.
   *
   * @return the number of reservations this call released
   */
  public int releaseExpired() {
    Instant now = clock.instant();
    long nowNanos = nanosSinceOrigin(now);
    int released = 0;
    for (Entry entry : entries.values()) {
      if (releaseIfExpired(entry, now, nowNanos)) {
        released++;
      } else if (isForgettable(entry, nowNanos)) {
        entries.remove(entry.reservation.id(), entry);
      }
    }
    for (Entry entry : byRequestId.values()) {
      forgetOlder(entry, nowNanos);
      if (releaseIfExpired(entry, now, nowNanos)) {
        released++;
      } else if (isForgettable(entry, nowNanos) && entry.previous == null) {
        // With older ones still remembered (only when the clock went back: they were settled
        // first), the latest stays too, so that findByRequestId keeps finding the latest.
        byRequestId.remove(Objects.requireNonNull(entry.reservation.requestId()), entry);
      }
    }
    return released;
  }

  /** Releases {@code entry} if it is pending and its lease ended; true if this call did. */
  private boolean releaseIfExpired(Entry entry, Instant now, long nowNanos) {
    Reservation reservation = entry.reservation;
    if (!entry.pending() || now.isBefore(reservation.expiresAt())
        || !settle(entry, State.RELEASED, 0, nowNanos).applied()) {
      return false;
    }
    CreditLedgers.notifyExpired(log, expiryListener, reservation);
    return true;
  }

  /** Whether {@code entry} was settled at least the retention before {@code nowNanos}. */
  private boolean isForgettable(Entry entry, long nowNanos) {
    long settledAt = entry.settledAt();
    return settledAt != UNSET && retentionNanos != FOREVER && elapsed(settledAt, nowNanos) >= retentionNanos;
  }

  /**
   * Unlinks the forgettable reservations among those that held {@code first}'s request id before
   * it. The chain only ever shrinks below its first entry (a new reservation goes in front), so a
   * concurrent sweep can at worst keep a forgettable one until the next sweep, never drop another.
   */
  private void forgetOlder(Entry first, long nowNanos) {
    Entry kept = first;
    Entry older;
    while ((older = kept.previous) != null) {
      if (isForgettable(older, nowNanos)) {
        kept.previous = older.previous;
      } else {
        kept = older;
      }
    }
  }

  /**
   * Stops the reaper thread, if this ledger started one, waiting briefly for a run in progress.
   * The ledger stays usable; only automatic reaping ends. Idempotent.
   */
  @Override
  public void close() {
    reaper.close();
  }

  @Override
  public String toString() {
    return "InMemoryCreditLedger{accounts=" + accounts.size()
        + ", reservations=" + (entries.size() + byRequestId.size())
        + ", lease=" + lease + ", settledRetention=" + settledRetention
        + (reaper.hasThread() ? ", reaping" : "") + "}";
  }

  private Account account(String key) {
    Account account = accounts.get(key); // a plain read first: computeIfAbsent may lock the bin
    return account != null ? account : accounts.computeIfAbsent(key, id -> new Account());
  }

  /**
   * Puts {@code entry} first under {@code requestId}, in front of the settled reservations that
   * held it before, unless a pending reservation holds it.
   */
  private boolean index(String requestId, Entry entry) {
    while (true) {
      Entry previous = byRequestId.putIfAbsent(requestId, entry);
      if (previous == null) {
        return true;
      }
      if (previous.pending()) {
        return false; // entry.previous is null: set only below, and reset when that fails
      }
      entry.previous = previous;
      if (byRequestId.replace(requestId, previous, entry)) {
        return true;
      }
      entry.previous = null; // forgotten or replaced meanwhile: try again
    }
  }

  /**
   * The entry of {@code reservation}, looked up the way it was stored (by request id, else by id);
   * null if not held, or no longer.
   */
  private @Nullable Entry find(Reservation reservation) {
    UUID id = reservation.id();
    String requestId = reservation.requestId();
    if (requestId == null) {
      return entries.get(id);
    }
    for (Entry entry = byRequestId.get(requestId); entry != null; entry = entry.previous) {
      if (entry.reservation.id().equals(id)) {
        return entry;
      }
    }
    return null;
  }

  private Settlement settle(Reservation reservation, State target, long charge) {
    Entry entry = find(reservation);
    if (entry == null) {
      return Settlement.UNKNOWN;
    }
    return settle(entry, target, charge, nanosSinceOrigin(clock.instant()));
  }

  private Settlement settle(Entry entry, State target, long charge, long nowNanos) {
    if (!entry.settle(target)) {
      return entry.state == State.COMMITTED ? Settlement.ALREADY_COMMITTED : Settlement.ALREADY_RELEASED;
    }
    entry.settledAt(nowNanos);
    entry.account.available.addAndGet(entry.reservation.credits() - charge);
    return target == State.COMMITTED ? Settlement.COMMITTED : Settlement.RELEASED;
  }

  /**
   * {@code time} in nanoseconds since {@link #origin}: exact within 292 years of it, clamped beyond
   * (never {@link #UNSET}).
   */
  private long nanosSinceOrigin(Instant time) {
    long seconds = time.getEpochSecond() - origin.getEpochSecond();
    if (seconds >= MAX_NANOS_SECONDS) {
      return Long.MAX_VALUE;
    }
    if (seconds <= MIN_NANOS_SECONDS) {
      return UNSET + 1;
    }
    return seconds * NANOS_PER_SECOND + (time.getNano() - origin.getNano());
  }

  /** {@code to - from}, saturated instead of overflowing. */
  private static long elapsed(long from, long to) {
    long difference = to - from;
    if (((to ^ from) & (to ^ difference)) < 0) {
      return to > from ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
    return difference;
  }

  private static long nanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException tooLong) {
      return FOREVER;
    }
  }

  /** How a reservation was settled; a pending one has none (null). */
  private enum State {
    COMMITTED,
    RELEASED
  }

  private static final class Account {
    /** Deposits minus pending reservations minus charges. */
    final AtomicLong available = new AtomicLong();
  }

  private static final class Entry {
    final Reservation reservation;
    final Account account;
    // No field initializers: a volatile write in the constructor would cost each reservation a
    // fence; the default values (null, 0) mean "pending" and "not settled".
    /** Null while pending; changed once, from null, by {@link #settle}. */
    volatile @Nullable State state;
    /**
     * When it was settled, in nanoseconds since the ledger's origin (a long, not an {@code
     * Instant}, so that settling allocates nothing), with its sign bit flipped so that the default
     * 0 stands for {@link #UNSET}: see {@link #settledAt()}.
     */
    volatile long settledStamp;
    /**
     * The settled reservation that held this one's request id before it, not yet forgotten; null
     * if none. Set before this entry is published, then only shortened by the sweep.
     */
    volatile @Nullable Entry previous;

    Entry(Reservation reservation, Account account) {
      this.reservation = reservation;
      this.account = account;
    }

    /** Moves this reservation from pending to {@code target}; true for exactly one caller. */
    boolean settle(State target) {
      return STATE.compareAndSet(this, (State) null, target);
    }

    boolean pending() {
      return state == null;
    }

    /** When it was settled, in nanoseconds since the ledger's origin; {@link #UNSET} until then. */
    long settledAt() {
      return settledStamp ^ UNSET;
    }

    /**
     * Records the settlement time, {@code nanos} never {@link #UNSET}. A release store, not a
     * volatile one (which costs a fence): a sweep that does not see it yet skips the entry, as it
     * skips one settled a moment later.
     */
    void settledAt(long nanos) {
      SETTLED_STAMP.setRelease(this, nanos ^ UNSET);
    }

    private static final VarHandle STATE;
    private static final VarHandle SETTLED_STAMP;

    static {
      try {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        STATE = lookup.findVarHandle(Entry.class, "state", State.class);
        SETTLED_STAMP = lookup.findVarHandle(Entry.class, "settledStamp", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }
  }

  /** Builds an {@link InMemoryCreditLedger}. Not thread-safe. */
  public static final class Builder {
    private Clock clock = Clock.systemUTC();
    private AccountKey accountKey = AccountKey.USER;
    private Duration lease = DEFAULT_LEASE;
    private Duration settledRetention = DEFAULT_SETTLED_RETENTION;
    private @Nullable Duration reaperInterval;
    private Consumer<? super Reservation> expiryListener = CreditLedgers.logExpired(log);

    private Builder() {}

    /**
     * Sets the clock that stamps reservations and decides when leases end.
     *
     * @param clock the clock; a fake one in tests
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets who pays: the account whose credits a user's calls reserve and spend. Default {@link
     * AccountKey#USER} (each user pays for their own calls); {@link AccountKey#COMPANY} makes the
     * users of a company share its credits.
     *
     * @param accountKey maps a user to the paying account
     * @return this builder
     */
    public Builder accountKey(AccountKey accountKey) {
      this.accountKey = Objects.requireNonNull(accountKey, "accountKey");
      return this;
    }

    /**
     * Sets how long a reservation may stay unsettled before the reaper releases it. Default
     * {@link #DEFAULT_LEASE}.
     *
     * @param lease a positive duration
     * @return this builder
     * @throws IllegalArgumentException if {@code lease} is zero or negative
     */
    public Builder lease(Duration lease) {
      this.lease = CreditLedgers.lease(lease);
      return this;
    }

    /**
     * Sets how long a settled reservation is remembered, so that settling it again is reported
     * as {@link Settlement#ALREADY_COMMITTED} or {@link Settlement#ALREADY_RELEASED} rather than
     * {@link Settlement#UNKNOWN}, and {@link #findByRequestId} still finds it. Default {@link
     * #DEFAULT_SETTLED_RETENTION}. Kept to the nanosecond; 292 years or more means forever.
     *
     * @param retention zero or a positive duration
     * @return this builder
     * @throws IllegalArgumentException if {@code retention} is negative
     */
    public Builder settledRetention(Duration retention) {
      this.settledRetention = CreditLedgers.settledRetention(retention);
      return this;
    }

    /**
     * Makes the ledger run {@link #releaseExpired()} on a daemon thread of its own every {@code
     * interval}, until {@link #close()}. Default: no thread; the host calls it.
     *
     * @param interval a positive duration, e.g. 30 seconds
     * @return this builder
     * @throws IllegalArgumentException if {@code interval} is zero or negative
     */
    public Builder reaperInterval(Duration interval) {
      this.reaperInterval = CreditLedgers.reaperInterval(interval);
      return this;
    }

    /**
     * Sets what is told of each reservation the reaper releases, in place of the default, which
     * logs a warning on the logger {@code dev.llmgateway.host.InMemoryCreditLedger}. Called on
     * the thread that runs {@link #releaseExpired()}; an exception it throws is logged and
     * ignored.
     *
     * @param listener receives each expired reservation
     * @return this builder
     */
    public Builder expiryListener(Consumer<? super Reservation> listener) {
      this.expiryListener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Builds the ledger, starting its reaper thread if {@link #reaperInterval} was set.
     *
     * @return a new, empty ledger
     */
    public InMemoryCreditLedger build() {
      return new InMemoryCreditLedger(this);
    }
  }
}
