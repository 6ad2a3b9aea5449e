package dev.llmgateway.benchmarks;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One request's host policy work, as {@code ChatGateway} does it for a stream: take a rate-limit
 * permit for the user ({@link Operation#CHAT_STREAM}, so both buckets), reserve credits under the
 * request id, then commit the actual charge or release the reservation.
 *
 * <p>The SDK's {@link InMemoryRateLimiter} and {@link InMemoryCreditLedger} are measured against a
 * baseline in the same run: the same three steps done simply and correctly under one global lock
 * ({@link GlobalLockPolicies}). Each pair runs on 1 thread, on 4 threads that all use the same
 * user (one bucket pair, one account: the worst contention) and on 4 threads with a user each.
 *
 * <p>The ledger remembers settled reservations for its retention period; here the retention is
 * zero and each thread calls {@link InMemoryCreditLedger#releaseExpired()} every {@value
 * #SWEEP_EVERY} requests, so the reaper's scan is part of the measured cost (amortised) and memory
 * stays flat. The baseline does the same bookkeeping (the same {@link Reservation} record, the
 * remembered settlement and request id, the lease) and is swept as often; until issue 16 it forgot
 * a reservation when it was settled, built no record and was never swept, which made it look
 * cheaper than doing the same work under one lock is.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HostPoliciesBenchmark {
  /** Requests per thread between two reaper sweeps; a power of two. */
  static final int SWEEP_EVERY = 1024;

  private static final long ESTIMATE = 100;
  private static final long CHARGE = 60;
  private static final long DEPOSIT = 1L << 60;
  private static final String RELEASE_REASON = "stream did not open";
  /** One permit per nanosecond with a burst of about two seconds: never refuses here. */
  private static final RateLimit UNLIMITED = new RateLimit(Integer.MAX_VALUE, Duration.ofNanos(Integer.MAX_VALUE),
      Integer.MAX_VALUE);

  /** The policies all threads of one benchmark share. */
  @State(Scope.Benchmark)
  public static class Policies {
    InMemoryRateLimiter limiter;
    InMemoryCreditLedger ledger;
    GlobalLockPolicies baseline;
    final AtomicInteger threads = new AtomicInteger();

    /** Builds the policies and funds the shared user. */
    @Setup
    public void setUp() {
      limiter = InMemoryRateLimiter.create(RateLimits.builder().calls(UNLIMITED).streamStarts(UNLIMITED).build());
      ledger = InMemoryCreditLedger.builder().settledRetention(Duration.ZERO).build();
      baseline = new GlobalLockPolicies(UNLIMITED);
      fund(Caller.SHARED_USER.userId());
    }

    void fund(String userId) {
      ledger.deposit(userId, DEPOSIT);
      baseline.deposit(userId, DEPOSIT);
    }
  }

  /** One calling thread: its own funded user, request ids, and the sweep countdown. */
  @State(Scope.Thread)
  public static class Caller {
    static final UserContext SHARED_USER = user("shared");

    UserContext ownUser;
    String[] requestIds;
    int requests;

    /** Gives this thread a user of its own and a ring of request ids no other thread uses. */
    @Setup
    public void setUp(Policies policies) {
      int thread = policies.threads.getAndIncrement();
      ownUser = user("user-" + thread);
      policies.fund(ownUser.userId());
      requestIds = new String[SWEEP_EVERY];
      for (int i = 0; i < requestIds.length; i++) {
        requestIds[i] = "req-" + thread + "-" + i;
      }
    }

    String nextRequestId() {
      return requestIds[requests++ & (SWEEP_EVERY - 1)];
    }

    boolean sweepDue() {
      return (requests & (SWEEP_EVERY - 1)) == 0;
    }

    private static UserContext user(String id) {
      return UserContext.builder().userId(id).companyId("c1").role("recruiter").build();
    }
  }

  /** SDK, 1 thread: permit, reserve, commit. */
  @Benchmark
  public Settlement sdkCommit(Policies p, Caller c) {
    return sdk(p, c, c.ownUser, true);
  }

  /** SDK, 1 thread: permit, reserve, release. */
  @Benchmark
  public Settlement sdkRelease(Policies p, Caller c) {
    return sdk(p, c, c.ownUser, false);
  }

  /** Baseline, 1 thread: permit, reserve, commit. */
  @Benchmark
  public boolean lockCommit(Policies p, Caller c) {
    return baseline(p, c, c.ownUser, true);
  }

  /** Baseline, 1 thread: permit, reserve, release. */
  @Benchmark
  public boolean lockRelease(Policies p, Caller c) {
    return baseline(p, c, c.ownUser, false);
  }

  /** SDK, 4 threads, one user: permit, reserve, commit. */
  @Benchmark
  @Threads(4)
  public Settlement sdkCommitSameUser(Policies p, Caller c) {
    return sdk(p, c, Caller.SHARED_USER, true);
  }

  /** SDK, 4 threads, one user: permit, reserve, release. */
  @Benchmark
  @Threads(4)
  public Settlement sdkReleaseSameUser(Policies p, Caller c) {
    return sdk(p, c, Caller.SHARED_USER, false);
  }

  /** Baseline, 4 threads, one user: permit, reserve, commit. */
  @Benchmark
  @Threads(4)
  public boolean lockCommitSameUser(Policies p, Caller c) {
    return baseline(p, c, Caller.SHARED_USER, true);
  }

  /** Baseline, 4 threads, one user: permit, reserve, release. */
  @Benchmark
  @Threads(4)
  public boolean lockReleaseSameUser(Policies p, Caller c) {
    return baseline(p, c, Caller.SHARED_USER, false);
  }

  /** SDK, 4 threads, a user each: permit, reserve, commit. */
  @Benchmark
  @Threads(4)
  public Settlement sdkCommitOwnUser(Policies p, Caller c) {
    return sdk(p, c, c.ownUser, true);
  }

  /** SDK, 4 threads, a user each: permit, reserve, release. */
  @Benchmark
  @Threads(4)
  public Settlement sdkReleaseOwnUser(Policies p, Caller c) {
    return sdk(p, c, c.ownUser, false);
  }

  /** Baseline, 4 threads, a user each: permit, reserve, commit. */
  @Benchmark
  @Threads(4)
  public boolean lockCommitOwnUser(Policies p, Caller c) {
    return baseline(p, c, c.ownUser, true);
  }

  /** Baseline, 4 threads, a user each: permit, reserve, release. */
  @Benchmark
  @Threads(4)
  public boolean lockReleaseOwnUser(Policies p, Caller c) {
    return baseline(p, c, c.ownUser, false);
  }

  private static Settlement sdk(Policies p, Caller c, UserContext user, boolean commit) {
    String requestId = c.nextRequestId();
    p.limiter.acquire(user.userId(), Operation.CHAT_STREAM, requestId);
    Reservation reservation = p.ledger.reserve(user, Operation.CHAT_STREAM, ESTIMATE, requestId);
    Settlement settlement = commit ? p.ledger.commit(reservation, CHARGE) : p.ledger.release(reservation, RELEASE_REASON);
    if (c.sweepDue()) {
      p.ledger.releaseExpired();
    }
    return settlement;
  }

  private static boolean baseline(Policies p, Caller c, UserContext user, boolean commit) {
    String requestId = c.nextRequestId();
    GlobalLockPolicies policies = p.baseline;
    if (!policies.tryAcquire(user.userId())) {
      throw new IllegalStateException("rate limited");
    }
    Reservation reservation = policies.reserve(user, ESTIMATE, requestId);
    boolean settled = policies.settle(reservation, commit ? CHARGE : 0);
    if (c.sweepDue()) {
      policies.releaseExpired();
    }
    return settled;
  }

  /**
   * The baseline: the same two token buckets per key (the same GCRA arithmetic), balances,
   * reservations and a request-id index in plain hash maps under one lock. Correct, deliberately
   * simple, and doing the ledger's bookkeeping: it returns the same {@link Reservation} record
   * (id, creation time, lease end), remembers a settled reservation (and its request id) until a
   * sweep finds it older than the retention, releases reservations whose lease ended, and is swept
   * as often as the SDK's ledger.
   */
  static final class GlobalLockPolicies {
    private static final Duration LEASE = InMemoryCreditLedger.DEFAULT_LEASE;
    private static final Duration RETENTION = Duration.ZERO;

    private final long interval;
    private final long tolerance;
    private final Clock clock = Clock.systemUTC();
    /** Per key: the calls bucket's and the stream-starts bucket's theoretical arrival time. */
    private final Map<String, long[]> buckets = new HashMap<>();
    /** Per user: available and held credits. */
    private final Map<String, long[]> accounts = new HashMap<>();
    private final Map<UUID, Hold> holds = new HashMap<>();
    private final Map<String, Hold> byRequestId = new HashMap<>();
    private final long idPrefix = ThreadLocalRandom.current().nextLong();
    private long nextId;

    GlobalLockPolicies(RateLimit limit) {
      this.interval = limit.period().toNanos() / limit.permits();
      this.tolerance = interval * (limit.burst() - 1L);
    }

    synchronized void deposit(String userId, long credits) {
      accounts.computeIfAbsent(userId, k -> new long[2])[0] += credits;
    }

    /** Takes a permit from both of the key's buckets, or from neither. */
    synchronized boolean tryAcquire(String key) {
      long now = System.nanoTime();
      long[] tat = buckets.computeIfAbsent(key, k -> new long[] {Long.MIN_VALUE, Long.MIN_VALUE});
      long calls = Math.max(tat[0], now);
      long streams = Math.max(tat[1], now);
      if (calls - now > tolerance || streams - now > tolerance) {
        return false;
      }
      tat[0] = calls + interval;
      tat[1] = streams + interval;
      return true;
    }

    synchronized Reservation reserve(UserContext user, long credits, String requestId) {
      long[] account = accounts.get(user.userId());
      if (account == null || account[0] < credits) {
        throw new IllegalStateException("insufficient credits");
      }
      Hold previous = byRequestId.get(requestId);
      if (previous != null && previous.settledAt == null) {
        throw new IllegalStateException("request id held by a pending reservation");
      }
      account[0] -= credits;
      account[1] += credits;
      Instant now = clock.instant();
      Reservation reservation = new Reservation(
          new UUID(idPrefix, ++nextId), user, Operation.CHAT_STREAM, credits, now, now.plus(LEASE), requestId);
      Hold hold = new Hold(reservation, account);
      holds.put(reservation.id(), hold);
      byRequestId.put(requestId, hold);
      return reservation;
    }

    /** Commits {@code charge} (0 for a release); false if the reservation was settled already. */
    synchronized boolean settle(Reservation reservation, long charge) {
      Hold hold = holds.get(reservation.id());
      return hold != null && settle(hold, charge, clock.instant());
    }

    private boolean settle(Hold hold, long charge, Instant now) {
      if (hold.settledAt != null) {
        return false;
      }
      hold.settledAt = now;
      long credits = hold.reservation.credits();
      hold.account[1] -= credits;
      hold.account[0] += credits - charge;
      return true;
    }

    /** Releases reservations whose lease ended and forgets settled ones older than the retention. */
    synchronized int releaseExpired() {
      Instant now = clock.instant();
      int released = 0;
      for (Iterator<Hold> it = holds.values().iterator(); it.hasNext(); ) {
        Hold hold = it.next();
        if (hold.settledAt == null) {
          if (!now.isBefore(hold.reservation.expiresAt()) && settle(hold, 0, now)) {
            released++;
          }
        } else if (!now.isBefore(hold.settledAt.plus(RETENTION))) {
          it.remove();
          byRequestId.remove(hold.reservation.requestId(), hold);
        }
      }
      return released;
    }

    /** A reservation, its account, and when it was settled (null while pending). */
    private static final class Hold {
      final Reservation reservation;
      final long[] account;
      @Nullable Instant settledAt;

      Hold(Reservation reservation, long[] account) {
        this.reservation = reservation;
        this.account = account;
      }
    }
  }
}
