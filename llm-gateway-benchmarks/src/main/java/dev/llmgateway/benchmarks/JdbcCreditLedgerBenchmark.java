package dev.llmgateway.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.testkit.PostgresServer;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One call's credit work on {@link JdbcCreditLedger} (a reservation, then its commit: two
 * statements, each its own short transaction) against, in the same run, a bare {@code SELECT 1}
 * round trip on the same pool, a bare one-row {@code UPDATE} transaction, and the same work on
 * {@link InMemoryCreditLedger}. The server is a
 * throwaway PostgreSQL on loopback ({@link PostgresServer}, started in the trial's setup), reached
 * through a HikariCP pool of 4 connections; one thread.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class JdbcCreditLedgerBenchmark {
  private static final UserContext USER =
      UserContext.builder().userId("bench").companyId("c1").role("recruiter").build();
  private static final long DEPOSIT = 1L << 60;

  /** The server, the pool and both ledgers. */
  @State(Scope.Benchmark)
  public static class Ledgers {
    PostgresServer server;
    HikariDataSource pool;
    JdbcCreditLedger jdbc;
    InMemoryCreditLedger memory;

    /**
     * Starts PostgreSQL, creates the tables and funds the user.
     *
     * @throws IOException if the server's directory could not be made
     */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
      server = new PostgresServer();
      server.boot();
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(server.jdbcUrl(server.createDatabase()));
      config.setUsername(PostgresServer.USER);
      config.setMaximumPoolSize(4);
      pool = new HikariDataSource(config);
      JdbcCreditLedger.createSchema(pool);
      try (Connection c = pool.getConnection();
          PreparedStatement ps = c.prepareStatement(
              "CREATE TABLE bench_counter (id INT PRIMARY KEY, n BIGINT NOT NULL);"
                  + " INSERT INTO bench_counter VALUES (1, 0)")) {
        ps.execute();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
      // Retention zero: the sweep in tearDownIteration keeps the table small between iterations.
      jdbc = JdbcCreditLedger.builder(pool).settledRetention(Duration.ZERO).build();
      jdbc.deposit(USER.userId(), DEPOSIT);
      memory = InMemoryCreditLedger.builder().settledRetention(Duration.ZERO).build();
      memory.deposit(USER.userId(), DEPOSIT);
    }

    /** Deletes the settled reservations of the iteration, outside the measurement. */
    @TearDown(Level.Iteration)
    public void sweep() {
      jdbc.releaseExpired();
      memory.releaseExpired();
    }

    /**
     * Closes the pool and stops the server.
     *
     * @throws IOException if the server's directory could not be deleted
     */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      pool.close();
      server.close();
    }
  }

  /**
   * A bare round trip: borrow a connection, {@code SELECT 1}, return it.
   *
   * @param ledgers the shared state
   * @return the selected value
   * @throws SQLException if the database failed
   */
  @Benchmark
  public int selectOne(Ledgers ledgers) throws SQLException {
    try (Connection c = ledgers.pool.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT 1");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * A bare write transaction: borrow a connection, update one row by its key (autocommit), return
   * it. Reserve + commit are two such transactions, each a little larger.
   *
   * @param ledgers the shared state
   * @return the rows updated
   * @throws SQLException if the database failed
   */
  @Benchmark
  public int updateOne(Ledgers ledgers) throws SQLException {
    try (Connection c = ledgers.pool.getConnection();
        PreparedStatement ps = c.prepareStatement("UPDATE bench_counter SET n = n + 1 WHERE id = 1")) {
      return ps.executeUpdate();
    }
  }

  /**
   * Reserve, then commit, on PostgreSQL.
   *
   * @param ledgers the shared state
   * @return the settlement
   */
  @Benchmark
  public Settlement jdbcReserveCommit(Ledgers ledgers) {
    Reservation r = ledgers.jdbc.reserve(USER, Operation.CHAT, 100);
    return ledgers.jdbc.commit(r, 60);
  }

  /**
   * Reserve, then commit, in memory.
   *
   * @param ledgers the shared state
   * @return the settlement
   */
  @Benchmark
  public Settlement memoryReserveCommit(Ledgers ledgers) {
    Reservation r = ledgers.memory.reserve(USER, Operation.CHAT, 100);
    return ledgers.memory.commit(r, 60);
  }
}
