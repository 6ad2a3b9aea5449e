package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.testkit.PostgresServer;
import dev.llmgateway.testkit.RedisServerExtension;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * What several host instances share, as in production: one PostgreSQL database with the ledger's
 * tables (fresh per test) and one Redis (flushed per test). {@link #instance} builds a host
 * instance on them with its own pool, Redis client, ledger, limiter, replay stores, SDK client and
 * {@link dev.llmgateway.host.ChatGateway}. Reads of the truth ({@link #available}, {@link #rows})
 * go through a plain connection of the test's own, never through an instance.
 */
final class SharedStores implements AutoCloseable {
  static {
    // Validate every borrowed connection, so that a pool notices a restarted server at once (without
    // it HikariCP trusts a connection used in the last 500 ms).
    System.setProperty("com.zaxxer.hikari.aliveBypassWindowMs", "0");
  }

  /**
   * Threads that live for the JVM or belong to the fixtures, not to one instance: OkHttp's and
   * Okio's shared daemons, the SDK's timers, MockWebServer's, the server fixtures' log readers,
   * Netty's global executor, the PostgreSQL driver's cleaner, the JDK's cleaner, CompletableFuture's timer and process reaper.
   */
  // The JVM's shared pools are not the instances' threads: CompletableFuture's delayed tasks (the
  // Redis limiter's time-out, the default sleeper) run on "CompletableFutureDelayScheduler" on JDK 17
  // and on the common ForkJoinPool's delay scheduler and workers on JDK 25, which idle out after a minute.
  private static final List<String> SHARED_THREADS = List.of("OkHttp TaskRunner", "OkHttp ConnectionPool",
      "Okio Watchdog", "llm-gateway-stream-watchdog", "llm-gateway-relay-timer", "llm-gateway-relay-heartbeat",
      "MockWebServer", "postgres-server-log", "redis-server-", "globalEventExecutor", "PostgreSQL-JDBC-Cleaner",
      "ObjectCleanerThread", "Cleaner-", "CompletableFutureDelayScheduler", "ForkJoinPool.commonPool-",
      "process reaper");

  final PostgresServer postgres;
  final RedisServerExtension redis;
  private final String database;
  private final Set<Thread> threadsBefore = Set.copyOf(Thread.getAllStackTraces().keySet());
  private final List<HostInstance> instances = new ArrayList<>();

  SharedStores(PostgresServer postgres, RedisServerExtension redis) {
    this.postgres = postgres;
    this.redis = redis;
    postgres.start(); // a no-op unless an earlier test left it stopped
    redis.start();
    redis.thaw();
    redis.command("FLUSHALL");
    this.database = postgres.createDatabase();
    try (HikariDataSource pool = pool(Duration.ofSeconds(10))) {
      JdbcCreditLedger.createSchema(pool);
    }
  }

  /** A new pool on the test's database, as one host instance has. */
  HikariDataSource pool(Duration connectionTimeout) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl());
    config.setUsername(PostgresServer.USER);
    config.setMaximumPoolSize(8);
    // Connections are made on demand: after the database was unreachable, the next request connects
    // at once instead of waiting out the back-off of a pool that keeps trying to refill itself.
    config.setMinimumIdle(0);
    config.setConnectionTimeout(connectionTimeout.toMillis());
    config.setValidationTimeout(Math.min(connectionTimeout.toMillis(), 1_000));
    return new HikariDataSource(config);
  }

  /** The JDBC URL of the test's database. */
  String jdbcUrl() {
    return postgres.jdbcUrl(database);
  }

  /** Builds a host instance calling {@code upstream}, with the default settings changed by {@code settings}. */
  HostInstance instance(String upstream, Consumer<HostInstance.Settings> settings) {
    HostInstance.Settings s = new HostInstance.Settings(upstream);
    settings.accept(s);
    HostInstance instance = new HostInstance(this, s);
    instances.add(instance);
    return instance;
  }

  /** Replaces an instance, as a deploy does: closes it, then builds a new one with its settings. */
  HostInstance replace(HostInstance old) {
    instances.remove(old);
    old.close();
    HostInstance instance = new HostInstance(this, old.settings);
    instances.add(instance);
    return instance;
  }

  /** Builds {@code n} host instances with the same settings. */
  List<HostInstance> instances(int n, String upstream, Consumer<HostInstance.Settings> settings) {
    List<HostInstance> built = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      built.add(instance(upstream, settings));
    }
    return built;
  }

  /** Adds credits to an account, through a ledger of the test's own. */
  void deposit(String account, long credits) {
    try (HikariDataSource pool = pool(Duration.ofSeconds(10))) {
      JdbcCreditLedger.builder(pool).build().deposit(account, credits);
    }
  }

  /** The account's available credits, read from the database. */
  long available(String account) {
    return queryLong("SELECT coalesce((SELECT available FROM " + JdbcCreditLedger.ACCOUNTS_TABLE
        + " WHERE account = ?), 0)", account);
  }

  /** The credits held by the account's pending reservations, read from the database. */
  long held(String account) {
    return queryLong("SELECT coalesce((SELECT held FROM " + JdbcCreditLedger.ACCOUNTS_TABLE
        + " WHERE account = ?), 0)", account);
  }

  /** The reservations in a state, of every instance. */
  long reservations(String state) {
    return queryLong("SELECT count(*) FROM " + JdbcCreditLedger.RESERVATIONS_TABLE + " WHERE state = ?", state);
  }

  /** Every row of both tables, in a stable order, as text: to show that nothing else changed. */
  List<String> rows() {
    List<String> rows = new ArrayList<>();
    try (Connection c = connect()) {
      for (String sql : List.of(
          "SELECT account, available, held FROM " + JdbcCreditLedger.ACCOUNTS_TABLE + " ORDER BY account",
          "SELECT id, account, credits, request_id, state, charged, created_at, expires_at, settled_at FROM "
              + JdbcCreditLedger.RESERVATIONS_TABLE + " ORDER BY seq")) {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
          int columns = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            StringBuilder row = new StringBuilder();
            for (int i = 1; i <= columns; i++) {
              row.append(rs.getMetaData().getColumnName(i)).append('=').append(rs.getString(i)).append(' ');
            }
            rows.add(row.toString().trim());
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return rows;
  }

  /** Connections to the test's database other than the asking one. */
  long databaseConnections() {
    return queryLong("SELECT count(*) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()",
        database);
  }

  /** Cuts every connection to the test's database, as a failover or a network fault does; returns how many. */
  long cutDatabaseConnections() {
    return queryLong("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ?"
        + " AND pid <> pg_backend_pid()", database);
  }

  /** A connection of the test's own to the test's database; the caller closes it. */
  Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), PostgresServer.USER, "");
  }

  private long queryLong(String sql, String parameter) {
    try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, parameter);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Closes every instance, then asserts that none left a thread, a database connection or a Redis
   * connection behind. Exiting threads are joined with a generous bound, never slept for.
   */
  void closeAndAssertNothingLeaked() throws InterruptedException {
    close();
    List<Thread> left = new ArrayList<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (!threadsBefore.contains(thread) && SHARED_THREADS.stream().noneMatch(thread.getName()::startsWith)) {
        thread.join(10_000);
        if (thread.isAlive()) {
          left.add(thread);
        }
      }
    }
    assertThat(left).as("threads the instances started, still running").isEmpty();
    postgres.start();
    redis.start();
    redis.thaw();
    assertThat(awaitZero(this::databaseConnections)).as("database connections left open").isZero();
    assertThat(awaitZero(redis::clientCount)).as("Redis connections left open").isZero();
  }

  /**
   * Asks again until {@code count} is zero or ten seconds have passed (a server notices a closed
   * connection a moment after the client closed it); returns the last answer.
   */
  private static long awaitZero(LongSupplier count) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    long value = count.getAsLong();
    while (value != 0 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      value = count.getAsLong();
    }
    return value;
  }

  /** Closes every instance built here (their pools, Redis clients, SDK clients, gateways). */
  @Override
  public void close() {
    RuntimeException failed = null;
    for (HostInstance instance : instances) {
      try {
        instance.close();
      } catch (RuntimeException e) {
        if (failed == null) {
          failed = e;
        } else {
          failed.addSuppressed(e);
        }
      }
    }
    instances.clear();
    if (failed != null) {
      throw failed;
    }
  }
}
