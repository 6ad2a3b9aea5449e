package dev.llmgateway.examples.gateway;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.ChatPolicy;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.host.SettlementListener;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.redis.RedisRateLimiter;
import dev.llmgateway.redis.RedisReplayStore;
import dev.llmgateway.webhooks.WebhookSecret;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Locale;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The example gateway: the host API on the JDK's {@code HttpServer} with a chat page. Runs against
 * the embedded sandbox unless {@code LLM_SERVICE_BASE_URL} and {@code LLM_SERVICE_TOKEN} point at a
 * real service. In sandbox mode it also plays the service's direct-stream endpoint and sends
 * itself the signed completion webhook, so the whole direct-streaming flow runs on one machine.
 *
 * <p>{@code mvn -q -pl examples -am compile exec:java -Dexec.mainClass=dev.llmgateway.examples.gateway.GatewayExample}
 * then open http://localhost:8080/.
 *
 * <p>Another program or a test starts it in-process with its configuration in code:
 *
 * <pre>{@code
 * try (GatewayServer gateway = GatewayExample.builder()
 *     .client(client)                         // the sandbox or a real service
 *     .users(List.of(ada, grace))             // who may sign in
 *     .streamTokenKeys(JwtKeySet.of("2026-11", streamSecret))
 *     .webhookSecret(WebhookSecret.parse(whsec))
 *     .port(0)                                // any free port: gateway.port()
 *     .gateway(settings -> settings.rateLimiter(limiter))
 *     .start()) {
 *   String bearer = "Bearer " + gateway.users().issue(ada.userId());
 *   ...
 * }
 * }</pre>
 *
 * <p>{@link #main} is a thin layer over {@link #fromEnvironment}, which reads the environment into
 * that builder.
 *
 * <p><b>Several instances.</b> By default every piece of state (credits, rate limits, used stream
 * tokens and webhook ids) lives in the instance's memory. Given a Redis ({@link Builder#redis},
 * or {@value #ENV_REDIS_URL}) and a PostgreSQL database ({@link Builder#database}, or {@value
 * #ENV_DATABASE_URL}), any number of instances share it: one rate limit per user, one balance, and
 * a stream token or a webhook accepted by one instance is refused as a replay by every other.
 */
public final class GatewayExample {
  /** The port {@link #main} listens on without {@value #ENV_PORT}, and the builder's default. */
  public static final int DEFAULT_PORT = 8080;
  /** The credits each user gets in the ledger the builder makes when it is given none. */
  public static final long DEFAULT_CREDITS = 1_000;
  /** The variable {@link #fromEnvironment} reads the port from. */
  public static final String ENV_PORT = "PORT";
  /** The shortest user-token secret the builder takes, in bytes (HS256's key size). */
  public static final int MIN_USER_TOKEN_SECRET_BYTES = 32;
  /**
   * A Redis URI ({@code redis://[:password@]host:port[/database]}, {@code rediss://} for TLS):
   * rate limits and the replay stores of stream tokens and webhooks in that Redis.
   */
  public static final String ENV_REDIS_URL = "LLM_REDIS_URL";
  /** What the rate limiter does when Redis fails: {@code open} (the default: let calls through) or {@code closed}. */
  public static final String ENV_RATE_LIMIT_FAILURE = "LLM_RATE_LIMIT_FAILURE";
  /** A PostgreSQL JDBC URL ({@code jdbc:postgresql://host:port/database}): the users' credits in that database. */
  public static final String ENV_DATABASE_URL = "LLM_DATABASE_URL";
  /** The database user, with {@value #ENV_DATABASE_URL}. */
  public static final String ENV_DATABASE_USER = "LLM_DATABASE_USER";
  /** The database user's password, with {@value #ENV_DATABASE_URL}; never shown in any message. */
  public static final String ENV_DATABASE_PASSWORD = "LLM_DATABASE_PASSWORD";
  /**
   * The HMAC secret of the host's user tokens ({@link Builder#userTokenSecret}), at least {@value
   * #MIN_USER_TOKEN_SECRET_BYTES} bytes of UTF-8: instances behind one load balancer share it, so
   * a user signed in on one is signed in on every other. Default: made up at start.
   */
  public static final String ENV_USER_TOKEN_SECRET = "LLM_USER_TOKEN_SECRET";
  /** How often the example's database ledger releases reservations whose lease ended, on every instance. */
  public static final Duration LEDGER_REAPER_INTERVAL = Duration.ofSeconds(30);
  /** The relay's heartbeat interval ({@link Builder#relayHeartbeat}), e.g. {@code 15s}, {@code 500ms} or {@code PT15S}. */
  public static final String ENV_RELAY_HEARTBEAT = "LLM_RELAY_HEARTBEAT";
  /** The reconnection delay the relay announces ({@link Builder#relayReconnectDelay}). */
  public static final String ENV_RELAY_RECONNECT_DELAY = "LLM_RELAY_RECONNECT_DELAY";
  /** How long a relayed stream waits for its first event ({@link Builder#relayFirstEventTimeout}). */
  public static final String ENV_RELAY_FIRST_EVENT_TIMEOUT = "LLM_RELAY_FIRST_EVENT_TIMEOUT";

  /**
   * The companies the assistant is off for ({@link Builder#disabledCompanies}), comma-separated
   * company ids, e.g. {@code 456,789}. Default: none.
   */
  public static final String ENV_DISABLED_COMPANIES = "LLM_DISABLED_COMPANIES";

  static final UserContext DEMO_USER = DemoGateway.DEMO_USER;

  private GatewayExample() {}

  /**
   * Starts the gateway with its configuration from the environment ({@link #fromEnvironment}).
   *
   * @param args unused
   * @throws IOException if it cannot listen
   * @throws IllegalArgumentException if a variable is set but malformed (named in the message)
   */
  public static void main(String[] args) throws IOException {
    Builder builder = fromEnvironment(System::getenv);
    GatewayServer server = builder.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close(); // the gateway, then the Redis client and the pool it opened
      builder.client().close();
    }, "gateway-example-shutdown"));
    System.out.println("Gateway on http://localhost:" + server.port() + "/ ("
        + (builder.client().isSandbox() ? "embedded sandbox" : builder.client().baseUrl()) + ")");
  }

  /**
   * Starts a builder with no settings: give it at least {@link Builder#client}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder configured from the environment, as {@link #main} and the Spring example's {@code
   * main} use it: the port from {@value #ENV_PORT} (default {@value #DEFAULT_PORT}); a client of
   * the service when {@value LlmGatewayClient#ENV_BASE_URL} and {@value
   * LlmGatewayClient#ENV_SERVICE_TOKEN} are set, else of the embedded sandbox; against a real
   * service, the keys it shares with the host from {@value DemoGateway#ENV_STREAM_TOKEN_KEYS} and
   * {@value DemoGateway#ENV_WEBHOOK_SECRET} when set (the sandbox uses them too when they are set,
   * else keys made up at start; instances of one deployment set the same ones); the shared state
   * from {@value #ENV_REDIS_URL} (with {@value #ENV_RATE_LIMIT_FAILURE}) and {@value
   * #ENV_DATABASE_URL} (with {@value #ENV_DATABASE_USER} and {@value #ENV_DATABASE_PASSWORD}); the
   * user-token secret from {@value #ENV_USER_TOKEN_SECRET}; the companies the assistant is off for
   * from {@value #ENV_DISABLED_COMPANIES}.
   * Redis and the database are connected to when the gateway starts ({@link Builder#start} or
   * {@link Builder#wiring}); the gateway owns those connections and closes them when it stops.
   *
   * @param environment reads a variable; null when it is unset
   * @return the builder, with its client built
   * @throws IllegalArgumentException if a variable is set but malformed; the message names the
   *     variable, never a secret
   */
  public static Builder fromEnvironment(Function<String, @Nullable String> environment) {
    Objects.requireNonNull(environment, "environment");
    String port = environment.apply(ENV_PORT);
    Builder builder = builder().port(port == null ? DEFAULT_PORT : port(port));
    String heartbeat = environment.apply(ENV_RELAY_HEARTBEAT);
    if (heartbeat != null) {
      builder.relayHeartbeat(duration(ENV_RELAY_HEARTBEAT, heartbeat, false));
    }
    String reconnect = environment.apply(ENV_RELAY_RECONNECT_DELAY);
    if (reconnect != null) {
      builder.relayReconnectDelay(duration(ENV_RELAY_RECONNECT_DELAY, reconnect, true));
    }
    String firstEvent = environment.apply(ENV_RELAY_FIRST_EVENT_TIMEOUT);
    if (firstEvent != null) {
      builder.relayFirstEventTimeout(duration(ENV_RELAY_FIRST_EVENT_TIMEOUT, firstEvent, false));
    }
    String userTokenSecret = environment.apply(ENV_USER_TOKEN_SECRET);
    if (userTokenSecret != null) {
      byte[] secret = userTokenSecret.getBytes(StandardCharsets.UTF_8);
      if (secret.length < MIN_USER_TOKEN_SECRET_BYTES) {
        throw new IllegalArgumentException(
            ENV_USER_TOKEN_SECRET + " must be at least " + MIN_USER_TOKEN_SECRET_BYTES + " bytes");
      }
      builder.userTokenSecret(secret);
    }
    String redisUrl = environment.apply(ENV_REDIS_URL);
    if (redisUrl != null) {
      builder.redisUri = redisUri(redisUrl);
    }
    String failure = environment.apply(ENV_RATE_LIMIT_FAILURE);
    if (failure != null) {
      builder.rateLimitFailure(failurePolicy(failure));
    }
    builder.databaseSettings = DatabaseSettings.of(environment);
    builder.disabledCompanies(ExamplePolicy.companies(environment.apply(ENV_DISABLED_COMPANIES)));
    boolean real = environment.apply(LlmGatewayClient.ENV_BASE_URL) != null
        && environment.apply(LlmGatewayClient.ENV_SERVICE_TOKEN) != null;
    // Read in sandbox mode too: instances that share state must verify each other's stream tokens.
    JwtKeySet keys = DemoGateway.streamKeys(environment);
    WebhookSecret webhookSecret = DemoGateway.webhookSecret(environment);
    if (keys != null) {
      builder.streamTokenKeys(keys);
    }
    if (webhookSecret != null) {
      builder.webhookSecret(webhookSecret);
    }
    return builder.client(LlmGatewayClient.builder().sandbox(!real).environment(environment).build());
  }

  /**
   * Reads a duration: whole milliseconds ({@code 500ms}), whole seconds ({@code 15s}) or ISO-8601
   * ({@code PT15S}).
   */
  static Duration duration(String variable, String value, boolean zeroAllowed) {
    String v = value.trim();
    Duration parsed = null;
    try {
      if (v.matches("[0-9]{1,9}ms")) {
        parsed = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      } else if (v.matches("[0-9]{1,9}s")) {
        parsed = Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
      } else if (v.startsWith("P") || v.startsWith("p")) {
        parsed = Duration.parse(v);
      }
    } catch (DateTimeParseException e) {
      parsed = null;
    }
    if (parsed == null || parsed.isNegative() || (parsed.isZero() && !zeroAllowed)) {
      throw new IllegalArgumentException(variable + " must be a " + (zeroAllowed ? "" : "positive ")
          + "duration such as 15s, 500ms or PT15S");
    }
    return parsed;
  }

  /** Reads {@value #ENV_REDIS_URL}; the message never holds the value, which may hold a password. */
  static RedisURI redisUri(String value) {
    String v = value.trim();
    try {
      URI uri = new URI(v);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      boolean hostAndPort = scheme.equals("redis") || scheme.equals("rediss");
      if (!hostAndPort || uri.getHost() != null) {
        return RedisURI.create(v);
      }
    } catch (URISyntaxException | RuntimeException e) {
      // answered below, without the parser's message: it quotes the URL
    }
    throw new IllegalArgumentException(ENV_REDIS_URL + " must be a Redis URI such as redis://127.0.0.1:6379");
  }

  /** Reads {@value #ENV_RATE_LIMIT_FAILURE}. */
  static RedisRateLimiter.FailurePolicy failurePolicy(String value) {
    switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "open":
        return RedisRateLimiter.FailurePolicy.FAIL_OPEN;
      case "closed":
        return RedisRateLimiter.FailurePolicy.FAIL_CLOSED;
      default:
        throw new IllegalArgumentException(ENV_RATE_LIMIT_FAILURE + " must be open or closed");
    }
  }

  /**
   * The database of {@value #ENV_DATABASE_URL}, {@value #ENV_DATABASE_USER} and {@value
   * #ENV_DATABASE_PASSWORD}; its {@code toString} shows none of them (the URL may hold a password).
   */
  static final class DatabaseSettings {
    private final String url;
    private final @Nullable String user;
    private final @Nullable String password;

    private DatabaseSettings(String url, @Nullable String user, @Nullable String password) {
      this.url = url;
      this.user = user;
      this.password = password;
    }

    /**
     * Reads the variables.
     *
     * @return the settings, or null when {@value #ENV_DATABASE_URL} is unset
     * @throws IllegalArgumentException if the URL is not a PostgreSQL JDBC URL, or a user or
     *     password is set without it
     */
    static @Nullable DatabaseSettings of(Function<String, @Nullable String> environment) {
      String url = environment.apply(ENV_DATABASE_URL);
      String user = environment.apply(ENV_DATABASE_USER);
      String password = environment.apply(ENV_DATABASE_PASSWORD);
      if (url == null) {
        if (user != null || password != null) {
          throw new IllegalArgumentException((user != null ? ENV_DATABASE_USER : ENV_DATABASE_PASSWORD)
              + " is set but " + ENV_DATABASE_URL + " is not");
        }
        return null;
      }
      String trimmed = url.trim();
      if (!trimmed.startsWith("jdbc:postgresql:") || !driverAccepts(trimmed)) {
        throw new IllegalArgumentException(
            ENV_DATABASE_URL + " must be a PostgreSQL JDBC URL such as jdbc:postgresql://127.0.0.1:5432/llm_gateway");
      }
      return new DatabaseSettings(trimmed, user, password);
    }

    /** Whether a registered driver (PostgreSQL's parses it) accepts the URL; no message quotes it. */
    private static boolean driverAccepts(String url) {
      try {
        return DriverManager.getDriver(url) != null;
      } catch (SQLException e) {
        return false;
      }
    }

    /** Opens a pool on the database (HikariCP checks a first connection at once). */
    HikariDataSource open() {
      HikariConfig config = new HikariConfig();
      config.setPoolName("llm-gateway-example");
      config.setJdbcUrl(url);
      if (user != null) {
        config.setUsername(user);
      }
      if (password != null) {
        config.setPassword(password);
      }
      try {
        return new HikariDataSource(config);
      } catch (RuntimeException e) {
        throw new IllegalStateException("Cannot connect to the database of " + ENV_DATABASE_URL, e);
      }
    }

    @Override
    public String toString() {
      return "DatabaseSettings{" + ENV_DATABASE_URL + "=<set>}";
    }
  }

  private static int port(String value) {
    try {
      int port = Integer.parseInt(value.trim());
      if (port >= 0 && port <= 65_535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new IllegalArgumentException(ENV_PORT + " must be a port number from 0 to 65535");
  }

  /**
   * The example gateway's configuration in code: the service's client, the keys it shares with the
   * service, the users who may sign in, the ledger and where to listen. Everything but the client
   * has a default: keys and secrets made up at start (enough for the sandbox; against a real
   * service direct streaming then fails, everything else works), the demo user, an in-memory
   * ledger with {@value GatewayExample#DEFAULT_CREDITS} credits per user, in-memory rate limits and
   * replay stores, port {@value GatewayExample#DEFAULT_PORT} on the loopback interface. {@link
   * #redis} and {@link #database} share that state between instances. {@link #start} starts the
   * JDK {@code HttpServer} host; {@link #wiring} gives the same wiring to another host (the Spring
   * example).
   * Setters check their argument at once and name it. Not thread-safe: configure it on one thread.
   */
  public static final class Builder {
    private @Nullable LlmGatewayClient client;
    private @Nullable JwtKeySet streamTokenKeys;
    private @Nullable WebhookSecret webhookSecret;
    private byte @Nullable [] userTokenSecret;
    private List<UserContext> users = List.of(DEMO_USER);
    private @Nullable CreditLedger ledger;
    private @Nullable DataSource database;
    /** From {@value GatewayExample#ENV_DATABASE_URL}: a pool the gateway opens, owns and closes. */
    private @Nullable DatabaseSettings databaseSettings;
    private @Nullable StatefulRedisConnection<String, String> redis;
    /** From {@value GatewayExample#ENV_REDIS_URL}: a client the gateway creates, owns and shuts down. */
    private @Nullable RedisURI redisUri;
    private RedisRateLimiter.FailurePolicy rateLimitFailure = RedisRateLimiter.DEFAULT_FAILURE_POLICY;
    private RateLimits rateLimits = RateLimits.ofDefaults();
    private SettlementListener settlementListener = event -> {};
    private Consumer<ChatGateway.Builder> gateway = settings -> {};
    private Set<String> disabledCompanies = Set.of();
    private @Nullable Duration relayHeartbeat;
    private @Nullable Duration relayReconnectDelay;
    private @Nullable Duration relayFirstEventTimeout;
    private InetAddress bindAddress = InetAddress.getLoopbackAddress();
    private int port = DEFAULT_PORT;
    private int backlog;

    private Builder() {}

    /**
     * Sets the service's client: the embedded sandbox (then the example also plays the service's
     * direct-stream endpoint and webhook) or a real service. Required. The caller closes it.
     *
     * @param client the client
     * @return this builder
     */
    public Builder client(LlmGatewayClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * Sets the stream-token keys shared with the service (its active key signs). Default: made up
     * at start.
     *
     * @param keys the keys
     * @return this builder
     */
    public Builder streamTokenKeys(JwtKeySet keys) {
      this.streamTokenKeys = Objects.requireNonNull(keys, "keys");
      return this;
    }

    /**
     * Sets the secret the service signs completion webhooks with. Default: made up at start.
     *
     * @param secret the secret
     * @return this builder
     */
    public Builder webhookSecret(WebhookSecret secret) {
      this.webhookSecret = Objects.requireNonNull(secret, "secret");
      return this;
    }

    /**
     * Sets the HMAC secret of the host's own user tokens ({@link UserTokens}), e.g. the one the
     * host's sign-in shares. Default: made up at start.
     *
     * @param secret at least {@value GatewayExample#MIN_USER_TOKEN_SECRET_BYTES} bytes (copied)
     * @return this builder
     * @throws IllegalArgumentException if it is shorter
     */
    public Builder userTokenSecret(byte[] secret) {
      Objects.requireNonNull(secret, "secret");
      if (secret.length < MIN_USER_TOKEN_SECRET_BYTES) {
        throw new IllegalArgumentException("secret must be at least " + MIN_USER_TOKEN_SECRET_BYTES + " bytes");
      }
      this.userTokenSecret = secret.clone();
      return this;
    }

    /**
     * Sets the users who may sign in (the host's user directory). The first is the one the demo
     * page's {@code /demo/token} signs in. Default: the demo user ({@link DemoGateway#demoUser()}).
     *
     * @param users at least one, with distinct user ids
     * @return this builder
     * @throws IllegalArgumentException if there is none, or two share a user id
     */
    public Builder users(Collection<UserContext> users) {
      Objects.requireNonNull(users, "users");
      List<UserContext> copy = new ArrayList<>(users.size());
      for (UserContext user : users) {
        copy.add(Objects.requireNonNull(user, "users contains null"));
      }
      if (copy.isEmpty()) {
        throw new IllegalArgumentException("users must not be empty");
      }
      if (copy.stream().map(UserContext::userId).distinct().count() != copy.size()) {
        throw new IllegalArgumentException("users must have distinct user ids");
      }
      this.users = List.copyOf(copy);
      return this;
    }

    /**
     * Sets the users' credits, in place of a {@link #database}. Default: an {@link
     * InMemoryCreditLedger} with {@value GatewayExample#DEFAULT_CREDITS} credits deposited for each
     * user.
     *
     * @param ledger the ledger (the caller deposits, and closes it)
     * @return this builder
     */
    public Builder ledger(CreditLedger ledger) {
      this.ledger = Objects.requireNonNull(ledger, "ledger");
      this.database = null;
      this.databaseSettings = null;
      return this;
    }

    /**
     * Keeps the users' credits in a PostgreSQL database that every instance shares, in place of a
     * {@link #ledger}: at start the gateway creates the tables where missing ({@link
     * JdbcCreditLedger#createSchema}, safe when instances start at once), opens an account with
     * {@value GatewayExample#DEFAULT_CREDITS} credits for each user who has none ({@link
     * JdbcCreditLedger#openAccount}: never twice, whether instances start at once or restart) and
     * runs a {@link JdbcCreditLedger} with a reaper every {@link
     * GatewayExample#LEDGER_REAPER_INTERVAL}, which it closes when it stops. Env {@value
     * GatewayExample#ENV_DATABASE_URL}.
     *
     * @param dataSource the host's pool (e.g. HikariCP); the gateway never closes it
     * @return this builder
     */
    public Builder database(DataSource dataSource) {
      this.database = Objects.requireNonNull(dataSource, "dataSource");
      this.databaseSettings = null;
      this.ledger = null;
      return this;
    }

    /**
     * Keeps rate limits ({@link RedisRateLimiter}), used stream-token ids (the sandbox's
     * direct-stream endpoint: {@link RedisReplayStore#forStreamTokens}) and used webhook ids
     * ({@link RedisReplayStore#forWebhooks}) in a Redis that every instance shares. Default: in
     * memory. Env {@value GatewayExample#ENV_REDIS_URL}.
     *
     * @param connection the host's connection; the gateway never closes it
     * @return this builder
     */
    public Builder redis(StatefulRedisConnection<String, String> connection) {
      this.redis = Objects.requireNonNull(connection, "connection");
      this.redisUri = null;
      return this;
    }

    /**
     * Sets what the Redis rate limiter does when Redis fails or is too slow. Default {@link
     * RedisRateLimiter#DEFAULT_FAILURE_POLICY} (let calls through: credits still fail closed). Env
     * {@value GatewayExample#ENV_RATE_LIMIT_FAILURE} ({@code open} or {@code closed}).
     *
     * @param policy the policy
     * @return this builder
     */
    public Builder rateLimitFailure(RedisRateLimiter.FailurePolicy policy) {
      this.rateLimitFailure = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Sets the limits of the rate limiter the gateway makes (in memory, or in Redis with {@link
     * #redis}), per user. Default {@link RateLimits#ofDefaults()}. A {@link #gateway} customizer
     * that sets its own rate limiter replaces it.
     *
     * @param limits the limits
     * @return this builder
     */
    public Builder rateLimits(RateLimits limits) {
      this.rateLimits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /**
     * Sets who is told of every commit and release. Default: nobody.
     *
     * @param listener the listener ({@link ChatGateway.Builder#settlementListener})
     * @return this builder
     */
    public Builder settlementListener(SettlementListener listener) {
      this.settlementListener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Sets the longest silence on a relayed stream before a {@code : ping} heartbeat ({@link
     * ChatGateway.Builder#heartbeat}), and on a user's event subscription ({@code GET /events},
     * {@link ChatEventHub.Builder#heartbeat}). Default {@link
     * dev.llmgateway.host.SseRelay#DEFAULT_HEARTBEAT}; env {@value GatewayExample#ENV_RELAY_HEARTBEAT}.
     *
     * @param heartbeat positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder relayHeartbeat(Duration heartbeat) {
      this.relayHeartbeat = positive(heartbeat, "heartbeat");
      return this;
    }

    /**
     * Sets the reconnection delay the relay announces to the browser with {@code retry:} ({@link
     * ChatGateway.Builder#reconnectDelay}). Default {@link
     * dev.llmgateway.host.SseRelay#DEFAULT_RECONNECT_DELAY}; env {@value
     * GatewayExample#ENV_RELAY_RECONNECT_DELAY}.
     *
     * @param reconnectDelay zero or positive
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder relayReconnectDelay(Duration reconnectDelay) {
      Objects.requireNonNull(reconnectDelay, "reconnectDelay");
      if (reconnectDelay.isNegative()) {
        throw new IllegalArgumentException("reconnectDelay must not be negative: " + reconnectDelay);
      }
      this.relayReconnectDelay = reconnectDelay;
      return this;
    }

    /**
     * Sets how long a relayed stream waits for its first event, and so the browser for the
     * response's headers ({@link ChatGateway.Builder#streamFirstEventTimeout}). Default: the
     * client's {@code timeout}; env {@value GatewayExample#ENV_RELAY_FIRST_EVENT_TIMEOUT}.
     *
     * @param timeout positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder relayFirstEventTimeout(Duration timeout) {
      this.relayFirstEventTimeout = positive(timeout, "timeout");
      return this;
    }

    private static Duration positive(Duration value, String name) {
      Objects.requireNonNull(value, name);
      if (value.isZero() || value.isNegative()) {
        throw new IllegalArgumentException(name + " must be positive: " + value);
      }
      return value;
    }

    /**
     * Sets the companies the assistant is off for: every request of their users is refused with
     * {@code 403} by the example's policy ({@link ExamplePolicy}), which also lets only the roles
     * {@link ExamplePolicy#CHAT_ROLES} use it. Env {@value GatewayExample#ENV_DISABLED_COMPANIES}.
     * Default: none.
     *
     * @param companyIds the company ids; may be empty
     * @return this builder
     */
    public Builder disabledCompanies(Collection<String> companyIds) {
      this.disabledCompanies = Set.copyOf(Objects.requireNonNull(companyIds, "companyIds"));
      return this;
    }

    /**
     * Adds settings of the {@link ChatGateway} (rate limiter, pricing, estimate, relay settings...),
     * applied after the example's own (client, ledger, stream tokens, webhooks, settlement
     * listener), in the order added; a customizer may override those too.
     *
     * @param customizer applies the settings
     * @return this builder
     */
    public Builder gateway(Consumer<ChatGateway.Builder> customizer) {
      Objects.requireNonNull(customizer, "customizer");
      this.gateway = this.gateway.andThen(customizer);
      return this;
    }

    /**
     * Sets the interface to listen on. Default: the loopback interface.
     *
     * @param address the address
     * @return this builder
     */
    public Builder bindAddress(InetAddress address) {
      this.bindAddress = Objects.requireNonNull(address, "address");
      return this;
    }

    /**
     * Sets the port to listen on. Default {@value GatewayExample#DEFAULT_PORT}.
     *
     * @param port 0 (any free port: see {@link GatewayServer#port()}) to 65535
     * @return this builder
     * @throws IllegalArgumentException if it is out of range
     */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be from 0 to 65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Sets the listen backlog of the JDK host, for bursts of connections. Default: the system's.
     *
     * @param backlog connections the OS may queue before they are accepted; 0 or less for the
     *     system default
     * @return this builder
     */
    public Builder backlog(int backlog) {
      this.backlog = backlog;
      return this;
    }

    /** The example's policy with {@link #disabledCompanies}: set first, so a customizer may replace it. */
    private Consumer<ChatGateway.Builder> policy() {
      ChatPolicy policy = ExamplePolicy.of(disabledCompanies);
      return settings -> settings.policy(policy);
    }

    /**
     * Builds the wiring for a host that listens on {@code port} (the Spring example uses this):
     * the routes, the user authentication and, with the sandbox, the service's side of direct
     * streaming. Connects to Redis and the database when they are configured; the wiring owns
     * what it opened from the environment and closes it with {@link DemoGateway#close()}.
     *
     * @param port the port the host listens on (the sandbox's direct-stream URL names it)
     * @return the wiring; close it when the host stops
     * @throws IllegalStateException if no client was given, or Redis or the database of the
     *     environment cannot be reached
     * @throws RuntimeException what the host's Redis or database throws when they fail at start
     *     (e.g. a {@link dev.llmgateway.jdbc.CreditStoreException})
     */
    public DemoGateway wiring(int port) {
      LlmGatewayClient given = requireClient();
      SecureRandom random = new SecureRandom();
      Map<String, UserContext> directory = new LinkedHashMap<>();
      users.forEach(user -> directory.put(user.userId(), user));
      UserTokens tokens = new UserTokens(userTokenSecret != null ? userTokenSecret : DemoGateway.secret(random),
          Clock.systemUTC(), directory);
      Owned owned = new Owned();
      try {
        StatefulRedisConnection<String, String> connection = redisConnection(owned);
        RateLimiter limiter = connection == null
            ? InMemoryRateLimiter.create(rateLimits)
            : RedisRateLimiter.builder(connection).limits(rateLimits).failurePolicy(rateLimitFailure).build();
        DemoGateway.Stores stores = new DemoGateway.Stores(ledger(owned), limiter,
            connection == null ? null : RedisReplayStore.forStreamTokens(connection),
            connection == null ? null : RedisReplayStore.forWebhooks(connection), owned);
        return DemoGateway.create(given, stores, tokens, users.get(0).userId(),
            streamTokenKeys != null ? streamTokenKeys : JwtKeySet.of("demo", DemoGateway.secret(random)),
            webhookSecret != null ? webhookSecret : WebhookSecret.ofBytes(DemoGateway.secret(random)),
            port, settlementListener, events(), policy().andThen(relaySettings()).andThen(gateway));
      } catch (RuntimeException e) {
        owned.close();
        throw e;
      }
    }

    /** The host's Redis connection, or one to {@value GatewayExample#ENV_REDIS_URL} (owned), or null. */
    private @Nullable StatefulRedisConnection<String, String> redisConnection(Owned owned) {
      RedisURI uri = redisUri;
      if (redis != null || uri == null) {
        return redis;
      }
      RedisClient client = RedisClient.create(uri);
      owned.add(client::shutdown);
      try {
        StatefulRedisConnection<String, String> connection = client.connect();
        owned.add(connection);
        return connection;
      } catch (RuntimeException e) {
        throw new IllegalStateException("Cannot connect to the Redis of " + ENV_REDIS_URL, e);
      }
    }

    /** The ledger given, or one on the database (with its tables and the users' accounts), or in memory. */
    private CreditLedger ledger(Owned owned) {
      if (ledger != null) {
        return ledger;
      }
      DataSource dataSource = database;
      DatabaseSettings settings = databaseSettings;
      if (dataSource == null && settings != null) {
        HikariDataSource pool = settings.open();
        owned.add(pool);
        dataSource = pool;
      }
      if (dataSource == null) {
        InMemoryCreditLedger made = InMemoryCreditLedger.create();
        users.forEach(user -> made.deposit(user.userId(), DEFAULT_CREDITS));
        return made;
      }
      JdbcCreditLedger.createSchema(dataSource);
      JdbcCreditLedger made = JdbcCreditLedger.builder(dataSource).reaperInterval(LEDGER_REAPER_INTERVAL).build();
      owned.add(made);
      users.forEach(user -> made.openAccount(user.userId(), DEFAULT_CREDITS));
      return made;
    }

    /**
     * The users' event subscriptions of background answers, with the relay's heartbeat ({@link
     * #relayHeartbeat}) as theirs.
     */
    private ChatEventHub events() {
      Duration heartbeat = relayHeartbeat;
      return ChatEventHub.builder().heartbeat(heartbeat != null ? heartbeat : ChatEventHub.DEFAULT_HEARTBEAT).build();
    }

    /** The relay settings given, applied before the customizers (which may override them). */
    private Consumer<ChatGateway.Builder> relaySettings() {
      Duration heartbeat = relayHeartbeat;
      Duration reconnect = relayReconnectDelay;
      Duration firstEvent = relayFirstEventTimeout;
      return settings -> {
        if (heartbeat != null) {
          settings.heartbeat(heartbeat);
        }
        if (reconnect != null) {
          settings.reconnectDelay(reconnect);
        }
        if (firstEvent != null) {
          settings.streamFirstEventTimeout(firstEvent);
        }
      };
    }

    /**
     * Starts the gateway on the JDK's {@code HttpServer} (with TCP_NODELAY: see {@link
     * GatewayServer}): binds first, so with port 0 the sandbox's direct-stream URL names the port
     * actually bound.
     *
     * @return the running server; close it to stop (which also closes the gateway and what it
     *     opened from the environment, not the client)
     * @throws IOException if it cannot listen
     * @throws IllegalStateException if no client was given, or Redis or the database of the
     *     environment cannot be reached
     */
    public GatewayServer start() throws IOException {
      requireClient();
      HttpServer http = GatewayServer.bind(new InetSocketAddress(bindAddress, port), backlog);
      DemoGateway demo;
      try {
        demo = wiring(http.getAddress().getPort());
      } catch (RuntimeException e) {
        http.stop(0);
        throw e;
      }
      GatewayServer server = new GatewayServer(http, demo.routes(), demo);
      server.addRoute("/demo/token", exchange -> GatewayServer.send(exchange, demo.demoToken()));
      if (demo.playsService()) {
        server.addRoute(DemoGateway.SANDBOX_SERVICE, exchange -> demo.playDirectStream(
            exchange.getRequestURI().getRawQuery(), exchange.getLocalAddress().getPort(), headers -> {
              headers.forEach(exchange.getResponseHeaders()::set);
              exchange.sendResponseHeaders(200, 0);
              return exchange.getResponseBody();
            }).ifPresent(refused -> GatewayServer.send(exchange, refused)));
      }
      server.start();
      return server;
    }

    /**
     * The port to listen on, as set.
     *
     * @return the port; 0 for any free port
     */
    public int port() {
      return port;
    }

    /**
     * The interface to listen on, as set.
     *
     * @return the address
     */
    public InetAddress bindAddress() {
      return bindAddress;
    }

    /**
     * The service's client, as set.
     *
     * @return the client
     * @throws IllegalStateException if none was given
     */
    public LlmGatewayClient client() {
      return requireClient();
    }

    private LlmGatewayClient requireClient() {
      LlmGatewayClient given = client;
      if (given == null) {
        throw new IllegalStateException("GatewayExample needs a client: call client(LlmGatewayClient)");
      }
      return given;
    }
  }
}
