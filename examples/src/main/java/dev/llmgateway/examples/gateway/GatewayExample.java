package dev.llmgateway.examples.gateway;

import com.sun.net.httpserver.HttpServer;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.SettlementListener;
import dev.llmgateway.webhooks.WebhookSecret;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
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
  /** The relay's heartbeat interval ({@link Builder#relayHeartbeat}), e.g. {@code 15s}, {@code 500ms} or {@code PT15S}. */
  public static final String ENV_RELAY_HEARTBEAT = "LLM_RELAY_HEARTBEAT";
  /** The reconnection delay the relay announces ({@link Builder#relayReconnectDelay}). */
  public static final String ENV_RELAY_RECONNECT_DELAY = "LLM_RELAY_RECONNECT_DELAY";
  /** How long a relayed stream waits for its first event ({@link Builder#relayFirstEventTimeout}). */
  public static final String ENV_RELAY_FIRST_EVENT_TIMEOUT = "LLM_RELAY_FIRST_EVENT_TIMEOUT";

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
   * {@value DemoGateway#ENV_WEBHOOK_SECRET} when set (the sandbox uses keys made up at start).
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
    boolean real = environment.apply(LlmGatewayClient.ENV_BASE_URL) != null
        && environment.apply(LlmGatewayClient.ENV_SERVICE_TOKEN) != null;
    if (real) {
      JwtKeySet keys = DemoGateway.streamKeys(environment);
      WebhookSecret webhookSecret = DemoGateway.webhookSecret(environment);
      if (keys != null) {
        builder.streamTokenKeys(keys);
      }
      if (webhookSecret != null) {
        builder.webhookSecret(webhookSecret);
      }
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
   * ledger with {@value GatewayExample#DEFAULT_CREDITS} credits per user, port {@value
   * GatewayExample#DEFAULT_PORT} on the loopback interface. {@link #start} starts the JDK {@code
   * HttpServer} host; {@link #wiring} gives the same wiring to another host (the Spring example).
   * Setters check their argument at once and name it. Not thread-safe: configure it on one thread.
   */
  public static final class Builder {
    private @Nullable LlmGatewayClient client;
    private @Nullable JwtKeySet streamTokenKeys;
    private @Nullable WebhookSecret webhookSecret;
    private byte @Nullable [] userTokenSecret;
    private List<UserContext> users = List.of(DEMO_USER);
    private @Nullable CreditLedger ledger;
    private SettlementListener settlementListener = event -> {};
    private Consumer<ChatGateway.Builder> gateway = settings -> {};
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
     * Sets the users' credits. Default: an {@link InMemoryCreditLedger} with {@value
     * GatewayExample#DEFAULT_CREDITS} credits deposited for each user.
     *
     * @param ledger the ledger (the caller deposits)
     * @return this builder
     */
    public Builder ledger(CreditLedger ledger) {
      this.ledger = Objects.requireNonNull(ledger, "ledger");
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
     * ChatGateway.Builder#heartbeat}). Default {@link dev.llmgateway.host.SseRelay#DEFAULT_HEARTBEAT};
     * env {@value GatewayExample#ENV_RELAY_HEARTBEAT}.
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

    /**
     * Builds the wiring for a host that listens on {@code port} (the Spring example uses this):
     * the routes, the user authentication and, with the sandbox, the service's side of direct
     * streaming.
     *
     * @param port the port the host listens on (the sandbox's direct-stream URL names it)
     * @return the wiring
     * @throws IllegalStateException if no client was given
     */
    public DemoGateway wiring(int port) {
      LlmGatewayClient given = requireClient();
      SecureRandom random = new SecureRandom();
      Map<String, UserContext> directory = new LinkedHashMap<>();
      users.forEach(user -> directory.put(user.userId(), user));
      UserTokens tokens = new UserTokens(userTokenSecret != null ? userTokenSecret : DemoGateway.secret(random),
          Clock.systemUTC(), directory);
      CreditLedger credits = ledger;
      if (credits == null) {
        InMemoryCreditLedger made = InMemoryCreditLedger.create();
        users.forEach(user -> made.deposit(user.userId(), DEFAULT_CREDITS));
        credits = made;
      }
      return DemoGateway.create(given, credits, tokens, users.get(0).userId(),
          streamTokenKeys != null ? streamTokenKeys : JwtKeySet.of("demo", DemoGateway.secret(random)),
          webhookSecret != null ? webhookSecret : WebhookSecret.ofBytes(DemoGateway.secret(random)),
          port, settlementListener, relaySettings().andThen(gateway));
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
     * @return the running server; close it to stop
     * @throws IOException if it cannot listen
     * @throws IllegalStateException if no client was given
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
      GatewayServer server = new GatewayServer(http, demo.routes());
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
