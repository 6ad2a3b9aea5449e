package dev.llmgateway.examples.spring;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.examples.gateway.DemoGateway;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.webhooks.WebhookSecret;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
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

  /**
   * Starts the gateway.
   *
   * @param args unused
   */
  public static void main(String[] args) {
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
    boolean real = System.getenv(LlmGatewayClient.ENV_BASE_URL) != null
        && System.getenv(LlmGatewayClient.ENV_SERVICE_TOKEN) != null;
    LlmGatewayClient client = LlmGatewayClient.builder().sandbox(!real).build();
    InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
    ledger.deposit(DemoGateway.demoUser().userId(), 1_000);
    WebhookSecret webhookSecret = DemoGateway.webhookSecret(real);
    ConfigurableApplicationContext context = start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
        client, ledger, real, webhookSecret, (reservation, settlement) -> {});
    System.out.println("Spring gateway on http://localhost:" + port(context) + "/ ("
        + (client.isSandbox() ? "embedded sandbox" : client.baseUrl()) + ")");
  }

  /**
   * Builds and starts a gateway around {@code client}, with demo secrets made up at start.
   *
   * @param address where to listen (port 0 for any free port, see {@link #port})
   * @param client the service's client (the caller closes it)
   * @param ledger the users' credits
   * @param realService whether {@code client} talks to a real service (else the demo plays its
   *     direct-stream endpoint)
   * @param webhookSecret the secret the service signs completion webhooks with
   * @param settled told of every commit and release
   * @return the running application; close it to stop
   */
  public static ConfigurableApplicationContext start(InetSocketAddress address, LlmGatewayClient client,
      InMemoryCreditLedger ledger, boolean realService, WebhookSecret webhookSecret,
      BiConsumer<Reservation, Settlement> settled) {
    return start(address, client, ledger, realService, webhookSecret, settled, Map.of());
  }

  /** As above, with Spring properties ({@code properties}) added to the example's. */
  static ConfigurableApplicationContext start(InetSocketAddress address, LlmGatewayClient client,
      InMemoryCreditLedger ledger, boolean realService, WebhookSecret webhookSecret,
      BiConsumer<Reservation, Settlement> settled, Map<String, Object> properties) {
    DemoGateway demo = DemoGateway.create(client, ledger, realService, webhookSecret, address.getPort(), settled);
    SpringApplication application = new SpringApplication(SpringGatewayApplication.class);
    application.addInitializers(context -> context.getBeanFactory().registerSingleton("demoGateway", demo));
    Map<String, Object> defaults = new HashMap<>(Map.of(
        "server.address", address.getAddress().getHostAddress(),
        "server.port", address.getPort(),
        // The controller serves the chat page itself, as the JDK host does; nothing else is static.
        "spring.web.resources.add-mappings", false,
        "spring.main.banner-mode", "off"));
    defaults.putAll(properties);
    application.setDefaultProperties(defaults);
    return application.run();
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
