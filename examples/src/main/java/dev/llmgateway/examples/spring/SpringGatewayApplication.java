package dev.llmgateway.examples.spring;

import dev.llmgateway.examples.gateway.DemoGateway;
import dev.llmgateway.examples.gateway.GatewayExample;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;
import org.springframework.web.servlet.config.annotation.AsyncSupportConfigurer;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The example gateway hosted in Spring Boot 3 (Spring MVC on Tomcat): the same routes, user
 * authentication, envelopes, rate limits, credits and audit as {@code GatewayExample} on the JDK's
 * {@code HttpServer}, served by {@link GatewayController}, and the same chat page. Runs against the
 * embedded sandbox unless {@code LLM_SERVICE_BASE_URL} and {@code LLM_SERVICE_TOKEN} point at a
 * real service.
 *
 * <p>{@code mvn -q -pl examples -am compile exec:java -Dexec.mainClass=dev.llmgateway.examples.spring.SpringGatewayApplication}
 * then open http://localhost:8080/.
 *
 * <p>A relayed stream runs on Spring MVC's async support ({@code StreamingResponseBody}), on its own
 * bounded pool ({@link #RELAY_THREADS}) and with {@link #RELAY_TIMEOUT} instead of the container's
 * 30-second default, which would cut a long answer off.
 */
@SpringBootApplication(proxyBeanMethods = false)
public class SpringGatewayApplication {
  /**
   * How long Spring MVC lets one relayed stream run. A stalled service is caught sooner by the
   * client's stream timeout (silence); this only bounds a stream that keeps talking.
   */
  public static final Duration RELAY_TIMEOUT = Duration.ofMinutes(30);
  /**
   * Streams relayed at once by default; one more is refused with 503 rather than queued behind
   * them. Set {@value #RELAY_THREADS_PROPERTY} to change it.
   */
  public static final int RELAY_THREADS = 100;
  /** The property that sets how many streams are relayed at once. */
  public static final String RELAY_THREADS_PROPERTY = "llm-gateway.example.relay-threads";
  /** The relay's heartbeat interval, e.g. {@code 15s} ({@link GatewayExample.Builder#relayHeartbeat}). */
  public static final String RELAY_HEARTBEAT_PROPERTY = "llm-gateway.example.relay-heartbeat";
  /** The reconnection delay the relay announces ({@link GatewayExample.Builder#relayReconnectDelay}). */
  public static final String RELAY_RECONNECT_DELAY_PROPERTY = "llm-gateway.example.relay-reconnect-delay";
  /** How long a relayed stream waits for its first event ({@link GatewayExample.Builder#relayFirstEventTimeout}). */
  public static final String RELAY_FIRST_EVENT_TIMEOUT_PROPERTY = "llm-gateway.example.relay-first-event-timeout";

  /**
   * Starts the gateway with its configuration from the environment ({@link
   * GatewayExample#fromEnvironment}).
   *
   * @param args unused
   * @throws IllegalArgumentException if a variable is set but malformed (named in the message)
   */
  public static void main(String[] args) {
    GatewayExample.Builder settings = GatewayExample.fromEnvironment(System::getenv);
    ConfigurableApplicationContext context = start(settings);
    System.out.println("Spring gateway on http://localhost:" + port(context) + "/ ("
        + (settings.client().isSandbox() ? "embedded sandbox" : settings.client().baseUrl()) + ")");
  }

  /**
   * Starts the gateway in Spring Boot with the same wiring as the JDK host ({@link
   * GatewayExample.Builder#wiring}): its client, keys, users, ledger and settlement listener, on
   * its bind address and port. With port 0 and the sandbox, whose direct-stream URL names the port
   * before Spring binds it, a free port is picked first (another program could take it in between:
   * then the start fails).
   *
   * @param settings the example's configuration; its {@code backlog} is not used
   * @return the running application; close it to stop (which closes the gateway and what it
   *     opened from the environment: Redis, the database pool; the caller closes the client)
   * @throws IllegalStateException if {@code settings} has no client, or Redis or the database of
   *     the environment cannot be reached
   * @throws java.io.UncheckedIOException if no free port can be found
   */
  public static ConfigurableApplicationContext start(GatewayExample.Builder settings) {
    return start(settings, Map.of());
  }

  /**
   * As above, with Spring properties ({@code properties}) added to the example's. The relay
   * properties ({@value #RELAY_HEARTBEAT_PROPERTY}, {@value #RELAY_RECONNECT_DELAY_PROPERTY},
   * {@value #RELAY_FIRST_EVENT_TIMEOUT_PROPERTY}), from {@code properties}, system properties or
   * the environment ({@code LLM_GATEWAY_EXAMPLE_RELAY_HEARTBEAT}...), are set on {@code settings}.
   */
  static ConfigurableApplicationContext start(GatewayExample.Builder settings, Map<String, Object> properties) {
    StandardEnvironment environment = new StandardEnvironment();
    environment.getPropertySources().addFirst(new MapPropertySource("example", properties));
    Binder binder = Binder.get(environment);
    binder.bind(RELAY_HEARTBEAT_PROPERTY, Duration.class).ifBound(settings::relayHeartbeat);
    binder.bind(RELAY_RECONNECT_DELAY_PROPERTY, Duration.class).ifBound(settings::relayReconnectDelay);
    binder.bind(RELAY_FIRST_EVENT_TIMEOUT_PROPERTY, Duration.class).ifBound(settings::relayFirstEventTimeout);
    int port = settings.port() == 0 && settings.client().isSandbox() ? freePort(settings.bindAddress()) : settings.port();
    DemoGateway demo = settings.wiring(port);
    SpringApplication application = new SpringApplication(SpringGatewayApplication.class);
    // A bean the context creates (from the supplier), not a registered singleton: the context closes
    // it (AutoCloseable) when it shuts down, and with it the gateway, Redis and the database pool.
    application.addInitializers(context -> ((GenericApplicationContext) context)
        .registerBean("demoGateway", DemoGateway.class, () -> demo));
    Map<String, Object> defaults = new HashMap<>(Map.of(
        "server.address", settings.bindAddress().getHostAddress(),
        "server.port", port,
        // The controller serves the chat page itself, as the JDK host does; nothing else is static.
        "spring.web.resources.add-mappings", false,
        "spring.main.banner-mode", "off"));
    defaults.putAll(properties);
    application.setDefaultProperties(defaults);
    try {
      return application.run();
    } catch (RuntimeException e) {
      demo.close(); // idempotent: a context that got as far as creating the bean closed it already
      throw e;
    }
  }

  private static int freePort(InetAddress address) {
    try (ServerSocket probe = new ServerSocket(0, 1, address)) {
      return probe.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on " + address.getHostAddress(), e);
    }
  }

  /**
   * The port a started application listens on.
   *
   * @param context what {@link #start} returned
   * @return its port
   */
  public static int port(ApplicationContext context) {
    return ((WebServerApplicationContext) context).getWebServer().getPort();
  }

  /**
   * The threads relayed streams run on: bounded, and with no queue, so a stream never waits for
   * another to end.
   *
   * @param threads how many ({@value #RELAY_THREADS_PROPERTY}, default {@value #RELAY_THREADS})
   * @return the pool (shut down with the application)
   */
  @Bean
  ThreadPoolTaskExecutor relayExecutor(@Value("${" + RELAY_THREADS_PROPERTY + ":" + RELAY_THREADS + "}") int threads) {
    ThreadPoolTaskExecutor executor = new ThreadPoolTaskExecutor();
    executor.setCorePoolSize(threads);
    executor.setMaxPoolSize(threads);
    executor.setQueueCapacity(0);
    executor.setAllowCoreThreadTimeOut(true);
    executor.setThreadNamePrefix("sse-relay-");
    return executor;
  }

  /**
   * Runs Spring MVC's async requests (the relay) on {@code relayExecutor} with {@link #RELAY_TIMEOUT}.
   *
   * @param relayExecutor the relay's threads
   * @return the configuration
   */
  @Bean
  WebMvcConfigurer relayAsyncSupport(ThreadPoolTaskExecutor relayExecutor) {
    return new WebMvcConfigurer() {
      @Override
      public void configureAsyncSupport(AsyncSupportConfigurer configurer) {
        configurer.setTaskExecutor(relayExecutor).setDefaultTimeout(RELAY_TIMEOUT.toMillis());
      }
    };
  }
}
