package dev.llmgateway.examples.spring;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.examples.gateway.ChatEventHub;
import dev.llmgateway.examples.gateway.DemoGateway;
import dev.llmgateway.examples.gateway.ExamplePolicy;
import dev.llmgateway.examples.gateway.GatewayExample;
import dev.llmgateway.examples.gateway.GatewayRoutes;
import dev.llmgateway.examples.gateway.SandboxService;
import dev.llmgateway.examples.gateway.UserTokens;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.ChatPolicy;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.spring.boot.ChatGatewayBuilderCustomizer;
import dev.llmgateway.spring.boot.LlmGatewayProperties;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;
import org.springframework.web.servlet.config.annotation.AsyncSupportConfigurer;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The example gateway hosted in Spring Boot 3 (Spring MVC on Tomcat) on {@code
 * llm-gateway-spring-boot-starter}: the same routes, envelopes and chat page as {@code
 * GatewayExample} on the JDK's {@code HttpServer}, served by {@link GatewayController}. The client,
 * the {@code ChatGateway}, stream tokens, the webhook verifier, Redis rate limits and replay stores
 * and the JDBC ledger are the starter's, configured in {@code application.properties} from the same
 * environment variables as the JDK example. This class adds what is the host's own: its users'
 * authentication ({@link UserTokens}), its authorization policy ({@link ExamplePolicy}), the demo's starting credits, the relay's threads, and the
 * sandbox's side of direct streaming.
 *
 * <p>{@code mvn -q -pl examples-spring -am compile exec:java} then open http://localhost:8080/.
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
  public static final String RELAY_THREADS_PROPERTY = "example.relay-threads";
  /**
   * The users' subscriptions to their background answers ({@code GET /events}) open at once by
   * default: each holds one thread of a pool of their own ({@link #EVENTS_EXECUTOR}) while its
   * browser stays, so open pages never take the relay's threads; one more is refused with 503. Set
   * {@value #EVENT_SUBSCRIPTIONS_PROPERTY} to change it.
   */
  public static final int EVENT_SUBSCRIPTIONS = 200;
  /** The property that sets how many event subscriptions may be open at once. */
  public static final String EVENT_SUBSCRIPTIONS_PROPERTY = "example.event-subscriptions";
  /** The name of the event subscriptions' pool. */
  public static final String EVENTS_EXECUTOR = "eventsExecutor";
  /** The name of the relay's pool. */
  static final String RELAY_EXECUTOR = "relayExecutor";
  /** The property of the HMAC secret of the users' tokens (at least 32 bytes; env LLM_USER_TOKEN_SECRET). */
  public static final String USER_TOKEN_SECRET_PROPERTY = "example.user-token-secret";
  /** The property of the credits the demo user's account opens with (0: none, the ledger is the host's). */
  public static final String STARTING_CREDITS_PROPERTY = "example.starting-credits";
  /**
   * The property of the companies the assistant is off for, comma-separated company ids (env
   * LLM_DISABLED_COMPANIES, as the JDK example's {@link GatewayExample#ENV_DISABLED_COMPANIES}).
   */
  public static final String DISABLED_COMPANIES_PROPERTY = "example.disabled-companies";

  /**
   * Starts the gateway. Without both {@value LlmGatewayClient#ENV_BASE_URL} and {@value
   * LlmGatewayClient#ENV_SERVICE_TOKEN}, on the embedded sandbox, which this host then also plays
   * the service's direct-stream endpoint for ({@link #defaults}).
   *
   * @param args Spring Boot's ({@code --server.port=9090}...)
   */
  public static void main(String[] args) {
    SpringApplication application = new SpringApplication(SpringGatewayApplication.class);
    application.setDefaultProperties(defaults(System::getenv));
    ConfigurableApplicationContext context = application.run(args);
    LlmGatewayClient client = context.getBean(LlmGatewayClient.class);
    System.out.println("Spring gateway on http://localhost:" + port(context) + "/ ("
        + (client.isSandbox() ? "embedded sandbox" : client.baseUrl()) + ")");
  }

  /** The stream-token key id, when not from {@value DemoGateway#ENV_STREAM_TOKEN_KEYS}. */
  public static final String ENV_STREAM_TOKEN_KEY_ID = "LLM_STREAM_TOKEN_KEY_ID";
  /** The stream-token secret, when not from {@value DemoGateway#ENV_STREAM_TOKEN_KEYS}. */
  public static final String ENV_STREAM_TOKEN_SECRET = "LLM_STREAM_TOKEN_SECRET";

  /**
   * What {@code application.properties} cannot say, as the JDK example decides it: the sandbox
   * unless a real service is configured, and then the stream tokens' URL is this host's sandbox
   * service; the JDK example's {@value DemoGateway#ENV_STREAM_TOKEN_KEYS} (JSON, its first key
   * signs) as {@value #ENV_STREAM_TOKEN_KEY_ID} and {@value #ENV_STREAM_TOKEN_SECRET}, which {@code
   * application.properties} reads. Defaults: any property source (the environment's {@code
   * LLM_GATEWAY_SANDBOX}, {@code LLM_STREAM_TOKEN_SECRET}...) overrides them.
   *
   * @param environment reads a variable; null when it is unset
   * @return the default properties
   * @throws IllegalArgumentException if {@value DemoGateway#ENV_STREAM_TOKEN_KEYS} is malformed
   *     (named in the message, never its value)
   */
  static Map<String, Object> defaults(Function<String, @Nullable String> environment) {
    boolean real = environment.apply(LlmGatewayClient.ENV_BASE_URL) != null
        && environment.apply(LlmGatewayClient.ENV_SERVICE_TOKEN) != null;
    Map<String, Object> defaults = new HashMap<>();
    defaults.put("llm-gateway.sandbox", Boolean.toString(!real));
    if (!real) {
      defaults.put("llm-gateway.stream-tokens.service-base-url", "http://localhost:${server.port}" + SandboxService.PATH);
    }
    Map.Entry<String, String> key = DemoGateway.signingStreamKey(environment);
    if (key != null) {
      defaults.put(ENV_STREAM_TOKEN_KEY_ID, key.getKey());
      defaults.put(ENV_STREAM_TOKEN_SECRET, key.getValue());
    }
    return defaults;
  }

  /**
   * The port a started application listens on.
   *
   * @param context the running application
   * @return its port
   */
  public static int port(ApplicationContext context) {
    return ((WebServerApplicationContext) context).getWebServer().getPort();
  }

  /**
   * The host's own user authentication (a Devise-JWT-like bearer token): the demo user.
   *
   * @param secret {@value #USER_TOKEN_SECRET_PROPERTY}, at least 32 bytes of UTF-8
   * @return the authentication
   * @throws IllegalArgumentException if the secret is shorter (the message names the property)
   */
  @Bean
  @ConditionalOnMissingBean
  UserTokens userTokens(@Value("${" + USER_TOKEN_SECRET_PROPERTY + "}") String secret) {
    byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
    if (bytes.length < GatewayExample.MIN_USER_TOKEN_SECRET_BYTES) {
      throw new IllegalArgumentException(USER_TOKEN_SECRET_PROPERTY + " must be at least "
          + GatewayExample.MIN_USER_TOKEN_SECRET_BYTES + " bytes");
    }
    return new UserTokens(bytes, Clock.systemUTC(), Map.of(DemoGateway.demoUser().userId(), DemoGateway.demoUser()));
  }

  /**
   * The example's authorization policy ({@link ExamplePolicy}, as the JDK example's): only the
   * roles {@link ExamplePolicy#CHAT_ROLES} may use the assistant, and not for the companies of
   * {@value #DISABLED_COMPANIES_PROPERTY}. The starter's {@code ChatGateway} asks it first.
   *
   * @param disabledCompanies {@value #DISABLED_COMPANIES_PROPERTY}, comma-separated; empty for none
   * @return the policy
   */
  @Bean
  @ConditionalOnMissingBean
  ChatPolicy chatPolicy(@Value("${" + DISABLED_COMPANIES_PROPERTY + ":}") String disabledCompanies) {
    return ExamplePolicy.of(ExamplePolicy.companies(disabledCompanies));
  }

  /**
   * The users' subscriptions to their background answers ({@code GET /events}), in memory, with the
   * relay's heartbeat ({@code llm-gateway.relay.heartbeat}, env {@code LLM_RELAY_HEARTBEAT}). Closed
   * with the application, ending the subscriptions' responses.
   *
   * @param properties the starter's properties
   * @return the hub
   */
  @Bean
  ChatEventHub chatEventHub(LlmGatewayProperties properties) {
    Duration heartbeat = properties.getRelay().getHeartbeat();
    return ChatEventHub.builder().heartbeat(heartbeat != null ? heartbeat : ChatEventHub.DEFAULT_HEARTBEAT).build();
  }

  /**
   * Ends the users' event subscriptions as soon as the application starts to stop (and refuses new
   * ones), before the web server's graceful shutdown waits for the requests in progress: an open
   * subscription never ends by itself, and would hold the shutdown for its whole timeout
   * ({@code spring.lifecycle.timeout-per-shutdown-phase}). The default phase ({@link
   * SmartLifecycle#DEFAULT_PHASE}) stops before the web server's.
   *
   * @param events the users' subscriptions
   * @return the lifecycle
   */
  @Bean
  SmartLifecycle eventSubscriptionsEndFirst(ChatEventHub events) {
    return new SmartLifecycle() {
      private volatile boolean running;

      @Override
      public void start() {
        running = true;
      }

      @Override
      public void stop() {
        running = false;
        events.close();
      }

      @Override
      public boolean isRunning() {
        return running;
      }
    };
  }

  /**
   * Makes the starter's {@code ChatGateway} publish its background chats' events to {@code events}.
   *
   * @param events the users' subscriptions
   * @return the customizer
   */
  @Bean
  ChatGatewayBuilderCustomizer backgroundAnswers(ChatEventHub events) {
    return gateway -> gateway.eventPublisher(events);
  }

  /**
   * The host API on the starter's {@code ChatGateway}, with background answers.
   *
   * @param gateway the gateway
   * @param users the users' authentication
   * @param events the users' subscriptions, which the gateway publishes to
   * @return the routes
   */
  @Bean
  GatewayRoutes gatewayRoutes(ChatGateway gateway, UserTokens users, ChatEventHub events) {
    return new GatewayRoutes(gateway, users, events);
  }

  /**
   * Opens the demo user's account before the server takes requests: once in the database (every
   * instance may try, {@link JdbcCreditLedger#openAccount} never gives twice), or a deposit in
   * memory. Another ledger (the host's own bean) is left alone.
   *
   * @param ledger the starter's ledger
   * @param credits {@value #STARTING_CREDITS_PROPERTY}
   * @return the step
   */
  @Bean
  SmartInitializingSingleton demoAccounts(CreditLedger ledger,
      @Value("${" + STARTING_CREDITS_PROPERTY + ":" + GatewayExample.DEFAULT_CREDITS + "}") long credits) {
    String user = DemoGateway.demoUser().userId();
    return () -> {
      if (credits <= 0) {
        return;
      }
      if (ledger instanceof JdbcCreditLedger database) {
        database.openAccount(user, credits);
      } else if (ledger instanceof InMemoryCreditLedger memory) {
        memory.deposit(user, credits);
      }
    };
  }

  /**
   * The threads relayed streams run on: bounded, and with no queue, so a stream never waits for
   * another to end.
   *
   * @param threads how many ({@value #RELAY_THREADS_PROPERTY}, default {@value #RELAY_THREADS})
   * @return the pool (shut down with the application)
   */
  @Bean(RELAY_EXECUTOR)
  ThreadPoolTaskExecutor relayExecutor(@Value("${" + RELAY_THREADS_PROPERTY + ":" + RELAY_THREADS + "}") int threads) {
    return boundedPool(threads, "sse-relay-");
  }

  /**
   * The threads the users' event subscriptions ({@code GET /events}) run on, apart from the
   * relay's: bounded, and with no queue.
   *
   * @param threads how many ({@value #EVENT_SUBSCRIPTIONS_PROPERTY}, default {@value #EVENT_SUBSCRIPTIONS})
   * @return the pool (shut down with the application)
   */
  @Bean(EVENTS_EXECUTOR)
  ThreadPoolTaskExecutor eventsExecutor(
      @Value("${" + EVENT_SUBSCRIPTIONS_PROPERTY + ":" + EVENT_SUBSCRIPTIONS + "}") int threads) {
    return boundedPool(threads, "sse-events-");
  }

  private static ThreadPoolTaskExecutor boundedPool(int threads, String namePrefix) {
    ThreadPoolTaskExecutor executor = new ThreadPoolTaskExecutor();
    executor.setCorePoolSize(threads);
    executor.setMaxPoolSize(threads);
    executor.setQueueCapacity(0);
    executor.setAllowCoreThreadTimeOut(true);
    executor.setThreadNamePrefix(namePrefix);
    return executor;
  }

  /**
   * Runs Spring MVC's async requests (the relay) on {@code relayExecutor} with {@link #RELAY_TIMEOUT}.
   *
   * @param relayExecutor the relay's threads
   * @return the configuration
   */
  @Bean
  WebMvcConfigurer relayAsyncSupport(@Qualifier(RELAY_EXECUTOR) ThreadPoolTaskExecutor relayExecutor) {
    return new WebMvcConfigurer() {
      @Override
      public void configureAsyncSupport(AsyncSupportConfigurer configurer) {
        configurer.setTaskExecutor(relayExecutor).setDefaultTimeout(RELAY_TIMEOUT.toMillis());
      }
    };
  }

  /**
   * Boot's DataSource ({@code spring.datasource.*}, HikariCP), only when {@code
   * spring.datasource.url} ({@code LLM_DATABASE_URL}) names a database: Boot's auto-configuration
   * would otherwise fail without a URL, so {@code application.properties} excludes it and it is
   * imported here. The starter then keeps the credits in that database.
   */
  @Configuration(proxyBeanMethods = false)
  @Conditional(DatabaseConfigured.class)
  @Import(DataSourceAutoConfiguration.class)
  static class Database {}

  /** Whether {@code spring.datasource.url} has a value. */
  static final class DatabaseConfigured implements Condition {
    @Override
    public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
      String url = context.getEnvironment().getProperty("spring.datasource.url");
      return url != null && !url.isBlank();
    }
  }
}
