package dev.llmgateway.examples.gateway;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.llmgateway.testkit.PostgresServer;
import dev.llmgateway.testkit.RedisServerExtension;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * One deployment of the example for tests of several instances (of either host): a fresh database
 * in a real PostgreSQL with the example's own role, a flushed real Redis, and the environment
 * variables every instance of the deployment is started with ({@link #environment()}). {@link
 * #close()} closes the test's own admin pool. Not thread-safe.
 */
public final class Deployment implements AutoCloseable {
  /** The demo user, whom every request is made for. */
  public static final String USER = DemoGateway.demoUser().userId();
  /** The example's database role. */
  public static final String DATABASE_USER = "gateway";
  private static final String PASSWORD = "the-database-password-0123";

  private final Map<String, String> environment = new HashMap<>();
  private final HikariDataSource database;

  private Deployment(Map<String, String> environment, HikariDataSource database) {
    this.environment.putAll(environment);
    this.database = database;
  }

  /**
   * Prepares the servers and the environment.
   *
   * @param postgres the shared PostgreSQL
   * @param redis the shared Redis (flushed)
   * @return the deployment
   * @throws SQLException if the database cannot be prepared
   */
  public static Deployment create(PostgresServer postgres, RedisServerExtension redis) throws SQLException {
    redis.command("FLUSHALL");
    String name = postgres.createDatabase();
    try (Connection admin = DriverManager.getConnection(postgres.jdbcUrl(name), PostgresServer.USER, "");
        PreparedStatement role = admin.prepareStatement(
            "DO $$ BEGIN CREATE ROLE " + DATABASE_USER + " LOGIN PASSWORD '" + PASSWORD + "'; EXCEPTION WHEN"
                + " duplicate_object THEN NULL; END $$")) {
      role.execute();
      try (PreparedStatement grant = admin.prepareStatement("GRANT ALL ON SCHEMA public TO " + DATABASE_USER)) {
        grant.execute();
      }
    }
    Map<String, String> env = new HashMap<>();
    env.put(GatewayExample.ENV_PORT, "0");
    env.put(GatewayExample.ENV_REDIS_URL, redis.uri());
    env.put(GatewayExample.ENV_DATABASE_URL, postgres.jdbcUrl(name));
    env.put(GatewayExample.ENV_DATABASE_USER, DATABASE_USER);
    env.put(GatewayExample.ENV_DATABASE_PASSWORD, PASSWORD);
    // Instances of one deployment share the keys: each verifies the stream tokens the other issues.
    env.put(GatewayExample.ENV_USER_TOKEN_SECRET, "user-token-secret-of-the-deployment-0123");
    env.put(DemoGateway.ENV_STREAM_TOKEN_KEYS, "{\"k1\": \"stream-token-secret-of-the-deployment-0123\"}");
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(postgres.jdbcUrl(name));
    config.setUsername(PostgresServer.USER);
    config.setMaximumPoolSize(2);
    return new Deployment(env, new HikariDataSource(config));
  }

  /** @return the variables of every instance (mutable: a test may add some) */
  public Map<String, String> environment() {
    return environment;
  }

  /** @return the test's own pool on the deployment's database (as its superuser) */
  public HikariDataSource database() {
    return database;
  }

  /**
   * Connections of the example's role to the database.
   *
   * @return how many
   * @throws SQLException if the count fails
   */
  public long gatewayConnections() throws SQLException {
    try (Connection c = database.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE usename = ?")) {
      ps.setString(1, DATABASE_USER);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * An answer of an instance.
   *
   * @param code the status
   * @param body the body
   * @param retryAfter the {@code Retry-After} header, {@code "null"} when absent
   */
  public record Reply(int code, String body, String retryAfter) {}

  /**
   * Posts {@code {"query":"hi"}} to a route of the host API as the demo user.
   *
   * @param browser the client
   * @param port the instance's port
   * @param users the instance's user authentication (signs the demo user in)
   * @param route the route under {@link GatewayRoutes#API}, e.g. {@code /chat}
   * @return the answer
   * @throws IOException if the call fails
   */
  public static Reply post(OkHttpClient browser, int port, UserTokens users, String route) throws IOException {
    Request request = new Request.Builder().url("http://127.0.0.1:" + port + GatewayRoutes.API + route)
        .header("Authorization", "Bearer " + users.issue(USER))
        .post(RequestBody.create("{\"query\":\"hi\"}", MediaType.get("application/json"))).build();
    try (Response response = browser.newCall(request).execute()) {
      return new Reply(response.code(), response.body().string(), String.valueOf(response.header("Retry-After")));
    }
  }

  @Override
  public void close() {
    database.close();
  }
}
