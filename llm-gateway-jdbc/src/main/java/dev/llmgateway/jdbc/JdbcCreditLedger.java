package dev.llmgateway.jdbc;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.AccountKey;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.InsufficientCreditsException;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.host.internal.CreditLedgers;
import dev.llmgateway.host.internal.LedgerReaper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link CreditLedger} in a SQL database (PostgreSQL 12 or later; tested on 15) that any number
 * of host instances share: balances per account and reservations by id live in the tables {@value
 * #ACCOUNTS_TABLE} and {@value #RESERVATIONS_TABLE}, so a reservation made on one instance can be
 * committed, released or reaped on any other, and a restart of an instance or of the database
 * loses nothing.
 *
 * <p><b>Exactly once, by construction.</b> Every change is one SQL statement, atomic on its own: a
 * reservation debits the account with {@code UPDATE ... WHERE available >= ?} (the row lock makes
 * concurrent reservations for one account wait in turn and re-check the balance, so they never
 * spend more than it holds) and inserts the reservation in the same statement; a settlement moves
 * the reservation with {@code UPDATE ... WHERE state = 'PENDING'} and credits the account in the
 * same statement, so of any number of commits and releases from any instances exactly one takes
 * effect and every other answers why ({@link Settlement#ALREADY_COMMITTED}, {@link
 * Settlement#ALREADY_RELEASED}, {@link Settlement#UNKNOWN}). At most one unsettled reservation
 * holds a request id, across all instances (a unique index). The reaper ({@link
 * #releaseExpired()}) claims expired reservations with {@code FOR UPDATE SKIP LOCKED}, so it can
 * run on every instance at once without two of them releasing the same reservation.
 *
 * <p><b>The database.</b> The ledger borrows connections from the host's {@link DataSource} (a
 * pool such as HikariCP: the ledger owns no pool and closes only the connections it borrowed) and
 * uses each in auto-commit mode for one statement at a time. Create the tables once with {@link
 * #createSchema(DataSource)}, or let the host's own migrations run {@value #MIGRATION_RESOURCE}
 * (Flyway: add the location {@code classpath:db/migration/llm_gateway} with its own history
 * table). Every statement runs with the {@linkplain Builder#statementTimeout statement timeout}. A
 * database failure is a {@link CreditStoreException} (a retryable {@code 503}): credits fail
 * closed, so a reservation that could not be made means the call must not be sent. A settlement
 * or a {@link #findByRequestId} whose borrowed connection turns out to be closed (a database
 * restart or failover the pool has not noticed yet) is repeated once on a new connection, which
 * is safe because settlements are guarded; a reservation is not repeated (its first attempt may
 * have been applied), so it fails and holds at most credits the reaper returns after the lease.
 *
 * <p><b>Time.</b> Leases and retention are measured with the ledger's {@link Clock}; keep the
 * instances' clocks in sync (NTP) — a lease is minutes long, so seconds of skew do not matter.
 *
 * <p>This class is thread-safe.
 *
 * <pre>{@code
 * JdbcCreditLedger.createSchema(dataSource); // once, at startup; idempotent
 * JdbcCreditLedger ledger = JdbcCreditLedger.builder(dataSource)
 *     .accountKey(AccountKey.COMPANY)
 *     .reaperInterval(Duration.ofSeconds(30))
 *     .build();
 * }</pre>
 */
public final class JdbcCreditLedger implements CreditLedger, AutoCloseable {
  /** The table of balances: one row per paying account. */
  public static final String ACCOUNTS_TABLE = "llm_gateway_credit_accounts";
  /** The table of reservations: one row per reservation, kept until the retention after settling. */
  public static final String RESERVATIONS_TABLE = "llm_gateway_credit_reservations";
  /** The class-path resource holding the tables' definitions, named as Flyway expects. */
  public static final String MIGRATION_RESOURCE = "db/migration/llm_gateway/V1__llm_gateway_credits.sql";
  /**
   * How long a reservation may stay unsettled before the reaper releases it: {@link
   * InMemoryCreditLedger#DEFAULT_LEASE}.
   */
  public static final Duration DEFAULT_LEASE = InMemoryCreditLedger.DEFAULT_LEASE;
  /** How long a settled reservation is remembered: {@link InMemoryCreditLedger#DEFAULT_SETTLED_RETENTION}. */
  public static final Duration DEFAULT_SETTLED_RETENTION = InMemoryCreditLedger.DEFAULT_SETTLED_RETENTION;
  /** How long one statement may run before it is cancelled. */
  public static final Duration DEFAULT_STATEMENT_TIMEOUT = Duration.ofSeconds(5);

  private static final Logger log = LoggerFactory.getLogger(JdbcCreditLedger.class);
  private static final String REAPER_THREAD_NAME = "llm-gateway-jdbc-credit-reaper";
  private static final String UNIQUE_VIOLATION = "23505";
  private static final int MAX_ATTEMPTS = 3;
  /** A bound on one reaper run, so that a run always ends; the next run takes the rest. */
  private static final int MAX_REAPED_PER_RUN = 10_000;

  private static final String RESERVATION_COLUMNS =
      "id, user_id, company_id, role, company_role, operation, credits, created_at, expires_at, request_id";

  private static final String RESERVE = "WITH debit AS ("
      + " UPDATE " + ACCOUNTS_TABLE + " SET available = available - ?, held = held + ?"
      + " WHERE account = ? AND available >= ? RETURNING account)"
      + " INSERT INTO " + RESERVATIONS_TABLE
      + " (id, account, user_id, company_id, role, company_role, operation, credits, request_id, state,"
      + " created_at, expires_at)"
      + " SELECT ?, account, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ? FROM debit";
  private static final String SETTLE = "WITH settled AS ("
      + " UPDATE " + RESERVATIONS_TABLE + " SET state = ?, charged = ?, settled_at = ?"
      + " WHERE id = ? AND state = 'PENDING' RETURNING account, credits)"
      + " UPDATE " + ACCOUNTS_TABLE + " a SET available = a.available + s.credits - ?,"
      + " held = a.held - s.credits FROM settled s WHERE a.account = s.account";
  private static final String REAP_ONE = "WITH expired AS ("
      + " SELECT id FROM " + RESERVATIONS_TABLE + " WHERE state = 'PENDING' AND expires_at <= ?"
      + " ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED),"
      + " released AS (UPDATE " + RESERVATIONS_TABLE + " r SET state = 'RELEASED', charged = 0, settled_at = ?"
      + " FROM expired e WHERE r.id = e.id AND r.state = 'PENDING' RETURNING r.account, "
      + prefixed("r.", RESERVATION_COLUMNS) + "),"
      + " credited AS (UPDATE " + ACCOUNTS_TABLE + " a SET available = a.available + x.credits,"
      + " held = a.held - x.credits FROM released x WHERE a.account = x.account RETURNING a.account)"
      + " SELECT " + RESERVATION_COLUMNS + " FROM released";
  private static final String FORGET =
      "DELETE FROM " + RESERVATIONS_TABLE + " WHERE state <> 'PENDING' AND settled_at <= ?";
  private static final String STATE = "SELECT state FROM " + RESERVATIONS_TABLE + " WHERE id = ?";
  private static final String FIND = "SELECT " + RESERVATION_COLUMNS + " FROM " + RESERVATIONS_TABLE
      + " WHERE request_id = ? ORDER BY seq DESC LIMIT 1";
  private static final String DEPOSIT = "INSERT INTO " + ACCOUNTS_TABLE + " (account, available) VALUES (?, ?)"
      + " ON CONFLICT (account) DO UPDATE SET available = " + ACCOUNTS_TABLE + ".available + EXCLUDED.available"
      + " RETURNING available";
  private static final String OPEN_FUNDED_ACCOUNT = "INSERT INTO " + ACCOUNTS_TABLE + " (account, available)"
      + " VALUES (?, ?) ON CONFLICT (account) DO NOTHING";
  private static final String OPEN_ACCOUNT =
      "INSERT INTO " + ACCOUNTS_TABLE + " (account) VALUES (?) ON CONFLICT (account) DO NOTHING";
  private static final String ACCOUNT = "SELECT available, held FROM " + ACCOUNTS_TABLE + " WHERE account = ?";
  private static final String PENDING_COUNT =
      "SELECT count(*) FROM " + RESERVATIONS_TABLE + " WHERE state = 'PENDING'";
  /** Serializes concurrent {@link #createSchema} calls of several instances (any constant key). */
  private static final String SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(7342015214)";

  private final DataSource dataSource;
  private final Clock clock;
  private final AccountKey accountKey;
  private final Duration lease;
  private final Duration settledRetention;
  private final int timeoutSeconds;
  private final Consumer<? super Reservation> expiryListener;
  private final LedgerReaper reaper;
  /** The high half of this ledger's reservation ids: random, so ids differ between instances. */
  private final long idPrefix = new SecureRandom().nextLong();
  /** The low half of the reservation ids: a count, so ids never repeat within this ledger. */
  private final AtomicLong idCount = new AtomicLong();

  private JdbcCreditLedger(Builder b) {
    this.dataSource = b.dataSource;
    this.clock = b.clock;
    this.accountKey = b.accountKey;
    this.lease = b.lease;
    this.settledRetention = b.settledRetention;
    this.timeoutSeconds = (int) Math.min(Integer.MAX_VALUE,
        (b.statementTimeout.toMillis() + 999) / 1000);
    this.expiryListener = b.expiryListener;
    this.reaper = LedgerReaper.start(b.reaperInterval, REAPER_THREAD_NAME, this::releaseExpired, log);
  }

  /**
   * Starts a builder for a ledger on a data source, holding the defaults: {@link AccountKey#USER},
   * the system clock, {@link #DEFAULT_LEASE}, {@link #DEFAULT_SETTLED_RETENTION}, {@link
   * #DEFAULT_STATEMENT_TIMEOUT} and no reaper thread.
   *
   * @param dataSource where the tables are; the host's pool, which the ledger never closes
   * @return a new builder
   */
  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /**
   * Creates the ledger's tables and indexes where they are missing, by running {@value
   * #MIGRATION_RESOURCE} in one transaction. Idempotent, and safe when several instances call it
   * at once at startup (they take turns, by a PostgreSQL advisory lock). Hosts that run their own
   * migrations run that file instead.
   *
   * @param dataSource where to create them; needs the right to create tables
   * @throws CreditStoreException if the database refused or failed
   */
  public static void createSchema(DataSource dataSource) {
    Objects.requireNonNull(dataSource, "dataSource");
    List<String> statements = schemaStatements();
    try (Connection connection = dataSource.getConnection()) {
      boolean autoCommit = connection.getAutoCommit();
      connection.setAutoCommit(false);
      try (Statement statement = connection.createStatement()) {
        statement.execute(SCHEMA_LOCK);
        for (String sql : statements) {
          statement.execute(sql);
        }
        connection.commit();
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      } finally {
        connection.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw new CreditStoreException("createSchema", null, e);
    }
  }

  /**
   * Adds credits to an account's available balance, creating the account when it is new.
   *
   * @param account the account key: a user id with the default {@link AccountKey#USER}, a company
   *     id with {@link AccountKey#COMPANY}
   * @param credits the credits to add, at least 1
   * @return the account's available balance afterwards
   * @throws IllegalArgumentException if {@code credits < 1}
   * @throws CreditStoreException if the database failed; nothing was added
   */
  public long deposit(String account, long credits) {
    CreditLedgers.checkDeposit(account, credits);
    try (Connection c = connection(); PreparedStatement ps = prepare(c, DEPOSIT)) {
      ps.setString(1, account);
      ps.setLong(2, credits);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new CreditStoreException("deposit", null, e);
    }
  }

  /**
   * Creates an account holding {@code credits} unless the account exists, in one statement: of
   * any number of calls for one account, from any instances at once, exactly one creates it, and
   * an account that exists (with any balance, even after it was spent) is left as it is. For
   * starting balances that must not be given twice, such as a demo's credits deposited by every
   * instance at startup.
   *
   * @param account the account key (see {@link #deposit})
   * @param credits the starting balance, at least 1
   * @return true if this call created the account, false if it existed
   * @throws IllegalArgumentException if {@code credits < 1}
   * @throws CreditStoreException if the database failed; nothing was created
   */
  public boolean openAccount(String account, long credits) {
    Objects.requireNonNull(account, "account");
    if (credits < 1) {
      throw new IllegalArgumentException("credits < 1: " + credits);
    }
    try (Connection c = connection(); PreparedStatement ps = prepare(c, OPEN_FUNDED_ACCOUNT)) {
      ps.setString(1, account);
      ps.setLong(2, credits);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw new CreditStoreException("openAccount", null, e);
    }
  }

  /**
   * Returns the credits an account can reserve now: deposits, minus credits held by unsettled
   * reservations, minus credits charged.
   *
   * @param account the account key (see {@link #deposit})
   * @return the available balance; 0 for an unknown account, negative after a charge overran its
   *     reservation
   * @throws CreditStoreException if the database failed
   */
  public long balance(String account) {
    return accountRow(Objects.requireNonNull(account, "account"), "balance")[0];
  }

  /**
   * Returns the credits held by an account's unsettled reservations.
   *
   * @param account the account key (see {@link #deposit})
   * @return the held credits; 0 for an unknown account
   * @throws CreditStoreException if the database failed
   */
  public long reserved(String account) {
    return accountRow(Objects.requireNonNull(account, "account"), "reserved")[1];
  }

  /**
   * Returns the number of reservations not yet settled, of every instance.
   *
   * @return the count, at this moment
   * @throws CreditStoreException if the database failed
   */
  public long pendingCount() {
    try (Connection c = connection(); PreparedStatement ps = prepare(c, PENDING_COUNT);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new CreditStoreException("pendingCount", null, e);
    }
  }

  @Override
  public Reservation reserve(
      UserContext user, Operation operation, long estimatedCredits, @Nullable String requestId) {
    CreditLedgers.checkReserve(user, operation, estimatedCredits);
    String account = accountKey.requireAccountOf(user);
    UUID id = new UUID(idPrefix, idCount.incrementAndGet());
    Instant now = now();
    Reservation reservation =
        new Reservation(id, user, operation, estimatedCredits, now, now.plus(lease), requestId);
    try (Connection c = connection()) {
      long available = 0;
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (insert(c, account, reservation)) {
          return reservation;
        }
        // Not debited: the balance is short, or the account has no row yet.
        long[] row = accountRow(c, account);
        available = row[0];
        if (available < estimatedCredits) {
          break;
        }
        if (row[2] == 0) {
          open(c, account); // a reservation of 0 credits on a new account
        } // else a deposit came in between: try again
      }
      throw new InsufficientCreditsException(user.userId(), available, estimatedCredits, requestId);
    } catch (SQLException e) {
      if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
        throw CreditLedgers.requestIdHeld(requestId, e);
      }
      throw new CreditStoreException("reserve", requestId, e);
    }
  }

  @Override
  public Settlement commit(Reservation reservation, long credits) {
    CreditLedgers.checkCommit(reservation, credits);
    return settle(reservation, "COMMITTED", credits);
  }

  @Override
  public Settlement release(Reservation reservation, String reason) {
    CreditLedgers.checkRelease(reservation, reason);
    Settlement settlement = settle(reservation, "RELEASED", 0);
    if (settlement.applied()) {
      CreditLedgers.logReleased(log, reservation, reason);
    }
    return settlement;
  }

  @Override
  public Optional<Reservation> findByRequestId(String requestId) {
    Objects.requireNonNull(requestId, "requestId");
    return retryingOnLostConnection("findByRequestId", requestId, c -> {
      try (PreparedStatement ps = prepare(c, FIND)) {
        ps.setString(1, requestId);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(reservation(rs)) : Optional.empty();
        }
      }
    });
  }

  /**
   * Releases every reservation whose lease has ended, of every instance, and deletes settled
   * reservations older than the retention. Safe to run on every instance at once: each expired
   * reservation is claimed by one run ({@code FOR UPDATE SKIP LOCKED}) and released exactly once,
   * also when a commit or release races with it. Each release is its own short statement.
   *
   * @return the number of reservations this call released
   * @throws CreditStoreException if the database failed; what was released so far stays released
   */
  public int releaseExpired() {
    Instant now = now();
    List<Reservation> released = new ArrayList<>();
    try (Connection c = connection()) {
      try (PreparedStatement ps = prepare(c, REAP_ONE)) {
        ps.setObject(1, timestamp(now));
        ps.setObject(2, timestamp(now));
        while (released.size() < MAX_REAPED_PER_RUN) {
          try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
              break;
            }
            released.add(reservation(rs));
          }
        }
      }
      try (PreparedStatement ps = prepare(c, FORGET)) {
        ps.setObject(1, timestamp(now.minus(settledRetention)));
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new CreditStoreException("releaseExpired", null, e);
    } finally {
      released.forEach(r -> CreditLedgers.notifyExpired(log, expiryListener, r));
    }
    return released.size();
  }

  /**
   * Stops the reaper thread, if this ledger started one, waiting briefly for a run in progress.
   * The ledger stays usable; the data source is not closed. Idempotent.
   */
  @Override
  public void close() {
    reaper.close();
  }

  @Override
  public String toString() {
    return "JdbcCreditLedger{lease=" + lease + ", settledRetention=" + settledRetention
        + ", statementTimeout=" + timeoutSeconds + "s" + (reaper.hasThread() ? ", reaping" : "") + "}";
  }

  private boolean insert(Connection c, String account, Reservation r) throws SQLException {
    UserContext user = r.user();
    try (PreparedStatement ps = prepare(c, RESERVE)) {
      ps.setLong(1, r.credits());
      ps.setLong(2, r.credits());
      ps.setString(3, account);
      ps.setLong(4, r.credits());
      ps.setObject(5, r.id());
      ps.setString(6, user.userId());
      ps.setString(7, user.companyId());
      ps.setString(8, user.role());
      ps.setString(9, user.companyRole());
      ps.setString(10, r.operation().name());
      ps.setLong(11, r.credits());
      ps.setString(12, r.requestId());
      ps.setObject(13, timestamp(r.createdAt()));
      ps.setObject(14, timestamp(r.expiresAt()));
      return ps.executeUpdate() == 1;
    }
  }

  private void open(Connection c, String account) throws SQLException {
    try (PreparedStatement ps = prepare(c, OPEN_ACCOUNT)) {
      ps.setString(1, account);
      ps.executeUpdate();
    }
  }

  private Settlement settle(Reservation reservation, String target, long charge) {
    String operation = target.equals("COMMITTED") ? "commit" : "release";
    return retryingOnLostConnection(operation, reservation.requestId(), c -> settle(c, reservation, target, charge));
  }

  private Settlement settle(Connection c, Reservation reservation, String target, long charge)
      throws SQLException {
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try (PreparedStatement ps = prepare(c, SETTLE)) {
        ps.setString(1, target);
        ps.setLong(2, charge);
        ps.setObject(3, timestamp(now()));
        ps.setObject(4, reservation.id());
        ps.setLong(5, charge);
        if (ps.executeUpdate() == 1) {
          return target.equals("COMMITTED") ? Settlement.COMMITTED : Settlement.RELEASED;
        }
      }
      try (PreparedStatement ps = prepare(c, STATE)) {
        ps.setObject(1, reservation.id());
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return Settlement.UNKNOWN;
          }
          String state = rs.getString(1);
          if (state.equals("COMMITTED")) {
            return Settlement.ALREADY_COMMITTED;
          }
          if (state.equals("RELEASED")) {
            return Settlement.ALREADY_RELEASED;
          }
          // PENDING: not possible after the guarded update found it settled; ask again.
        }
      }
    }
    throw new IllegalStateException("Reservation " + reservation.id() + " could not be settled");
  }

  /**
   * Runs an operation that is safe to repeat (a guarded settlement, a read) on a borrowed
   * connection, once more on a new one when the first was lost (a pooled connection the database
   * closed, as after a restart or a failover). A repeat after a lost reply cannot apply twice: the
   * settlement then answers {@code ALREADY_*}.
   */
  private <T> T retryingOnLostConnection(String operation, @Nullable String requestId, SqlWork<T> work) {
    SQLException lost = null;
    for (int attempt = 0; ; attempt++) {
      try (Connection c = connection()) {
        return work.run(c);
      } catch (SQLException e) {
        if (lost != null) {
          e.addSuppressed(lost);
        }
        if (attempt > 0 || !isLostConnection(e)) {
          throw new CreditStoreException(operation, requestId, e);
        }
        lost = e;
        log.debug("Credit ledger: {} lost its connection (SQLState {}); trying once more", operation, e.getSQLState());
      }
    }
  }

  /** Tells whether a failure means the connection is gone: class 08, or the server shutting it. */
  private static boolean isLostConnection(SQLException e) {
    String state = e.getSQLState();
    return state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02"));
  }

  /** Work on one connection. */
  @FunctionalInterface
  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  /** Returns {available, held, exists (1 or 0)} of an account. */
  private long[] accountRow(Connection c, String account) throws SQLException {
    try (PreparedStatement ps = prepare(c, ACCOUNT)) {
      ps.setString(1, account);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2), 1} : new long[] {0, 0, 0};
      }
    }
  }

  private long[] accountRow(String account, String operation) {
    try (Connection c = connection()) {
      return accountRow(c, account);
    } catch (SQLException e) {
      throw new CreditStoreException(operation, null, e);
    }
  }

  private Connection connection() throws SQLException {
    Connection c = dataSource.getConnection();
    try {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      return c;
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private PreparedStatement prepare(Connection c, String sql) throws SQLException {
    PreparedStatement ps = c.prepareStatement(sql);
    try {
      ps.setQueryTimeout(timeoutSeconds);
      return ps;
    } catch (SQLException | RuntimeException e) {
      ps.close();
      throw e;
    }
  }

  private Instant now() {
    // The database keeps microseconds: a reservation read back equals the one returned.
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  private static OffsetDateTime timestamp(Instant instant) {
    return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    return rs.getObject(column, OffsetDateTime.class).toInstant();
  }

  private static Reservation reservation(ResultSet rs) throws SQLException {
    UserContext user = UserContext.builder()
        .userId(rs.getString("user_id"))
        .companyId(rs.getString("company_id"))
        .role(rs.getString("role"))
        .companyRole(rs.getString("company_role"))
        .build();
    return new Reservation(rs.getObject("id", UUID.class), user, Operation.valueOf(rs.getString("operation")),
        rs.getLong("credits"), instant(rs, "created_at"), instant(rs, "expires_at"), rs.getString("request_id"));
  }

  private static String prefixed(String prefix, String columns) {
    return prefix + String.join(", " + prefix, columns.split(", ", -1));
  }

  private static List<String> schemaStatements() {
    String script;
    try (InputStream in = JdbcCreditLedger.class.getClassLoader().getResourceAsStream(MIGRATION_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("Missing resource " + MIGRATION_RESOURCE);
      }
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    StringBuilder sql = new StringBuilder();
    for (String line : script.split("\n", -1)) {
      if (!line.strip().startsWith("--")) {
        sql.append(line).append('\n');
      }
    }
    List<String> statements = new ArrayList<>();
    for (String statement : sql.toString().split(";", -1)) {
      if (!statement.isBlank()) {
        statements.add(statement.strip());
      }
    }
    return statements;
  }

  /** Builds a {@link JdbcCreditLedger}. Not thread-safe. */
  public static final class Builder {
    private final DataSource dataSource;
    private Clock clock = Clock.systemUTC();
    private AccountKey accountKey = AccountKey.USER;
    private Duration lease = DEFAULT_LEASE;
    private Duration settledRetention = DEFAULT_SETTLED_RETENTION;
    private Duration statementTimeout = DEFAULT_STATEMENT_TIMEOUT;
    private @Nullable Duration reaperInterval;
    private Consumer<? super Reservation> expiryListener = CreditLedgers.logExpired(log);

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Sets who pays: the account whose credits a user's calls reserve and spend. Default {@link
     * AccountKey#USER}. Every instance sharing the tables must use the same key.
     *
     * @param accountKey maps a user to the paying account
     * @return this builder
     */
    public Builder accountKey(AccountKey accountKey) {
      this.accountKey = Objects.requireNonNull(accountKey, "accountKey");
      return this;
    }

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
     * Sets how long a reservation may stay unsettled before a reaper releases it. Default {@link
     * #DEFAULT_LEASE}. Choose it longer than the longest call plus the completion webhook's
     * redelivery window: a commit after the reaper released the reservation is a no-op ({@link
     * Settlement#ALREADY_RELEASED}).
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
     * Sets how long a settled reservation is kept, so that settling it again is reported as
     * {@link Settlement#ALREADY_COMMITTED} or {@link Settlement#ALREADY_RELEASED} and {@link
     * #findByRequestId} still finds it. Default {@link #DEFAULT_SETTLED_RETENTION}.
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
     * Sets how long one statement may run before the driver cancels it ({@link
     * Statement#setQueryTimeout}, whole seconds, rounded up), so that a locked row or a slow
     * database fails the call with a {@link CreditStoreException} instead of holding the
     * caller's thread. Default {@link #DEFAULT_STATEMENT_TIMEOUT}. The time to get a connection
     * is the pool's setting (HikariCP's {@code connectionTimeout}).
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public Builder statementTimeout(Duration timeout) {
      this.statementTimeout = CreditLedgers.positive(timeout, "statementTimeout");
      return this;
    }

    /**
     * Makes the ledger run {@link #releaseExpired()} on a daemon thread of its own every {@code
     * interval}, until {@link #close()}. Run it on every instance: the runs share the work
     * without releasing any reservation twice. Default: no thread; the host calls it.
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
     * Sets what is told of each reservation this ledger's reaper releases, in place of the
     * default, which logs a warning on the logger {@code dev.llmgateway.jdbc.JdbcCreditLedger}.
     * Called on the thread that runs {@link #releaseExpired()}, after the release is written; an
     * exception it throws is logged and ignored.
     *
     * @param listener receives each expired reservation
     * @return this builder
     */
    public Builder expiryListener(Consumer<? super Reservation> listener) {
      this.expiryListener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Builds the ledger, starting its reaper thread if {@link #reaperInterval} was set. The
     * tables must exist (see {@link #createSchema}).
     *
     * @return a new ledger
     */
    public JdbcCreditLedger build() {
      return new JdbcCreditLedger(this);
    }
  }
}
