package dev.llmgateway.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.llmgateway.testkit.PostgresServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A fresh database with the ledger's tables per test, and HikariCP pools on it standing for host
 * instances; {@link #close()} closes every pool.
 */
final class Databases implements AutoCloseable {
  static {
    // Validate every borrowed connection, so that a pool notices a restarted server at once (without
    // it HikariCP trusts a connection used in the last 500 ms).
    System.setProperty("com.zaxxer.hikari.aliveBypassWindowMs", "0");
  }

  private final PostgresServer server;
  private final String database;
  private final List<HikariDataSource> pools = new ArrayList<>();

  Databases(PostgresServer server) {
    this.server = server;
    this.database = server.createDatabase();
    JdbcCreditLedger.createSchema(pool());
  }

  /** The JDBC URL of the test's database. */
  String jdbcUrl() {
    return server.jdbcUrl(database);
  }

  /** A new pool on the test's database: one host instance. */
  HikariDataSource pool() {
    return pool(Duration.ofSeconds(10));
  }

  /** A new pool that gives up getting a connection after {@code connectionTimeout}. */
  HikariDataSource pool(Duration connectionTimeout) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(server.jdbcUrl(database));
    config.setUsername(PostgresServer.USER);
    config.setMaximumPoolSize(8);
    config.setConnectionTimeout(connectionTimeout.toMillis());
    config.setValidationTimeout(Math.min(connectionTimeout.toMillis(), 1_000));
    HikariDataSource pool = new HikariDataSource(config);
    pools.add(pool);
    return pool;
  }

  @Override
  public void close() {
    pools.forEach(HikariDataSource::close);
  }

  /** Runs the tasks on their own threads, all released at once, and returns their results in order. */
  static <T> List<T> concurrently(List<Callable<T>> tasks) throws Exception {
    ExecutorService executor = Executors.newFixedThreadPool(Math.min(tasks.size(), 32));
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<T>> futures = new ArrayList<>();
      for (Callable<T> task : tasks) {
        futures.add(executor.submit(() -> {
          start.await();
          return task.call();
        }));
      }
      start.countDown();
      List<T> results = new ArrayList<>();
      for (Future<T> future : futures) {
        results.add(future.get(60, TimeUnit.SECONDS));
      }
      return results;
    } finally {
      executor.shutdownNow();
      executor.awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
