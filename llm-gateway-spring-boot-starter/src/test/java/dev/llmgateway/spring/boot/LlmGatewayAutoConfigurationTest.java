package dev.llmgateway.spring.boot;

import static dev.llmgateway.testkit.ServiceResponses.chatOk;
import static dev.llmgateway.testkit.ServiceResponses.healthOk;
import static dev.llmgateway.testkit.ServiceResponses.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.AuthStrategy;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.ServiceJwtAuth;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.BackgroundChat;
import dev.llmgateway.host.ChatEvent;
import dev.llmgateway.host.ChatEventPublisher;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.ChatPolicy;
import dev.llmgateway.host.ForbiddenException;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.jdbc.CreditStoreException;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import dev.llmgateway.testkit.SseResponses;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.IOException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.event.EventListener;

class LlmGatewayAutoConfigurationTest {
  static final String TOKEN = "svc-token-7d1e-SECRET";
  static final String JWT_SECRET = "jwt-secret-0123456789abcdef0123456789-SECRET";
  static final String STREAM_SECRET = "stream-secret-0123456789abcdef0123456789-SECRET";
  static final String WEBHOOK_SECRET = "whsec_" + Base64.getEncoder().encodeToString("webhook-secret-bytes-0123456789".getBytes());
  static final UserContext USER = UserContext.builder().userId("123").companyId("456").role("recruiter").build();

  final MockWebServer server = new MockWebServer();
  ApplicationContextRunner runner;

  @BeforeEach
  void start() throws IOException {
    server.setServerSocketFactory(new NoDelayServerSocketFactory());
    server.start();
    runner = new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(LlmGatewayAutoConfiguration.class,
            LlmGatewayAuthAutoConfiguration.class, LlmGatewayRedisAutoConfiguration.class,
            LlmGatewayJdbcAutoConfiguration.class, LlmGatewayHostAutoConfiguration.class))
        .withPropertyValues("llm-gateway.base-url=" + server.url("/"), "llm-gateway.service-token=" + TOKEN);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void theClientIsBuiltFromThePropertiesAndCallsTheService() {
    server.enqueue(chatOk());
    runner.withPropertyValues("llm-gateway.timeout=3s").run(context -> {
      LlmGatewayClient client = context.getBean(LlmGatewayClient.class);
      assertThat(client.baseUrl()).isEqualTo(server.url("/"));
      assertThat(client.isSandbox()).isFalse();
      client.chat(ChatRequest.of("hello"), USER);
      assertThat(server.takeRequest().getHeaders().get("X-Service-Token")).isEqualTo(TOKEN);
    });
  }

  @Test
  void theClientIsClosedWithTheContext() {
    AtomicReference<LlmGatewayClient> client = new AtomicReference<>();
    runner.run(context -> client.set(context.getBean(LlmGatewayClient.class)));

    assertThatThrownBy(() -> client.get().health()).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aClientOfTheHostsOwnWins() {
    LlmGatewayClient own = LlmGatewayClient.builder().sandbox(true).environment(name -> null).build();
    runner.withBean(LlmGatewayClient.class, () -> own).run(context -> {
      assertThat(context).getBeans(LlmGatewayClient.class).hasSize(1);
      assertThat(context.getBean(LlmGatewayClient.class)).isSameAs(own);
      assertThat(context.getBean(ChatGateway.class)).isNotNull();
    });
  }

  @Test
  void anInvalidValueFailsTheStartNamingTheSetting() {
    runner.withPropertyValues("llm-gateway.timeout=-1s").run(context ->
        assertThat(context).getFailure().rootCause().isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("timeout must be positive"));
    runner.withPropertyValues("llm-gateway.base-url=ftp://llm.example").run(context ->
        assertThat(context).getFailure().rootCause().hasMessageContaining("baseUrl is not an http or https URL"));
    runner.withPropertyValues("llm-gateway.health.cache-ttl=-5s").run(context ->
        assertThat(context).getFailure().rootCause().hasMessageContaining("healthCacheTtl must not be negative"));
    runner.withPropertyValues("llm-gateway.breaker.failure-threshold=0").run(context ->
        assertThat(context).getFailure().rootCause().hasMessageContaining("failureThreshold"));
  }

  @Test
  void aValueOfTheWrongTypeFailsTheBindingNamingTheProperty() {
    runner.withPropertyValues("llm-gateway.max-concurrent-requests=many").run(context ->
        assertThat(causes(context.getStartupFailure())).anySatisfy(e -> assertThat(e).isInstanceOf(BindException.class)
            .hasMessageContaining("llm-gateway.max-concurrent-requests")));
  }

  @Test
  void withoutAServiceTokenTheStartFailsSayingHowToSetOne() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(LlmGatewayAutoConfiguration.class))
        .withPropertyValues("llm-gateway.base-url=" + server.url("/"))
        .run(context -> {
          if (System.getenv(LlmGatewayClient.ENV_SERVICE_TOKEN) == null
              && System.getenv(LlmGatewayClient.ENV_SANDBOX) == null) {
            assertThat(context).getFailure().rootCause().hasMessageContaining("No service token");
          }
        });
  }

  @Test
  void theSecretsAreNeitherInToStringNorSerialized() {
    runner.withPropertyValues("llm-gateway.auth.jwt-secret=" + JWT_SECRET,
        "llm-gateway.stream-tokens.secret=" + STREAM_SECRET, "llm-gateway.webhooks.secret=" + WEBHOOK_SECRET,
        "llm-gateway.redis.url=redis://:redis-password-SECRET@localhost:1")
        .withClassLoader(new FilteredClassLoader(dev.llmgateway.redis.RedisRateLimiter.class))
        .run(context -> {
          LlmGatewayProperties properties = context.getBean(LlmGatewayProperties.class);
          String shown = properties + " " + context.getBean(LlmGatewayClient.class) + " "
              + context.getBean(StreamTokenIssuer.class) + " " + context.getBean(WebhookVerifier.class) + " "
              + context.getBean(AuthStrategy.class) + " " + new ObjectMapper().findAndRegisterModules()
                  .disable(com.fasterxml.jackson.databind.SerializationFeature.FAIL_ON_EMPTY_BEANS).writeValueAsString(properties);
          assertThat(shown).doesNotContain(TOKEN, JWT_SECRET, STREAM_SECRET, WEBHOOK_SECRET, "SECRET")
              .contains("serviceToken=<set>");
        });
  }

  @Test
  void theActuatorMasksTheSecretKeysInEveryForm() {
    runner.run(context -> {
      SanitizingFunction sanitizer = context.getBean(SanitizingFunction.class);
      for (String key : List.of("llm-gateway.service-token", "LLM_GATEWAY_SERVICETOKEN", "llm-gateway.auth.jwt-secret",
          "llm-gateway.webhooks.secret", "llm-gateway.stream-tokens.secret", "llm-gateway.redis.url")) {
        assertThat(sanitizer.apply(new SanitizableData(null, key, "value")).getValue()).as(key)
            .isEqualTo(SanitizableData.SANITIZED_VALUE);
      }
      assertThat(sanitizer.apply(new SanitizableData(null, "llm-gateway.base-url", "value")).getValue())
          .isEqualTo("value");
    });
  }

  @Test
  void aServiceJwtSecretAuthenticatesTheClientWithJwts() {
    server.enqueue(chatOk());
    runner.withPropertyValues("llm-gateway.auth.jwt-secret=" + JWT_SECRET, "llm-gateway.auth.issuer=host-api")
        .run(context -> {
          assertThat(context.getBean(AuthStrategy.class)).isInstanceOf(ServiceJwtAuth.class);
          context.getBean(LlmGatewayClient.class).chat(ChatRequest.of("hello"), USER);
          RecordedRequest request = server.takeRequest();
          assertThat(request.getHeaders().get("Authorization")).startsWith("Bearer ");
          assertThat(request.getHeaders().get("X-Service-Token")).isNull();
        });
  }

  @Test
  void aStrategyOfTheHostsOwnWinsOverTheServiceJwt() {
    AuthStrategy own = AuthStrategy.serviceToken("host-token");
    runner.withPropertyValues("llm-gateway.auth.jwt-secret=" + JWT_SECRET)
        .withBean(AuthStrategy.class, () -> own)
        .run(context -> assertThat(context).getBean(AuthStrategy.class).isSameAs(own));
  }

  @Test
  void theAuthBeansNeedTheirSecrets() {
    runner.run(context -> assertThat(context).doesNotHaveBean(ServiceJwtAuth.class)
        .doesNotHaveBean(StreamTokenIssuer.class).doesNotHaveBean(WebhookVerifier.class));
  }

  @Test
  void streamTokensAndWebhooksAreWiredIntoTheGateway() {
    runner.withPropertyValues("llm-gateway.stream-tokens.secret=" + STREAM_SECRET,
        "llm-gateway.webhooks.secret=" + WEBHOOK_SECRET).run(context -> {
          assertThat(context.getBean(StreamTokenIssuer.class).streamUrl()).startsWith(server.url("/").toString());
          assertThat(context).hasSingleBean(WebhookVerifier.class).hasSingleBean(ChatGateway.class);
        });
  }

  @Test
  void aChatPolicyBeanIsAskedByTheGatewayBeforeTheServiceIsCalled() {
    UserContext candidate = USER.toBuilder().role("candidate").build();
    runner.withBean(ChatPolicy.class, () -> ChatPolicy.denyByDefault().allowRoles(Set.of("recruiter"), ChatPolicy.Action.ALL))
        .run(context -> {
          ChatGateway gateway = context.getBean(ChatGateway.class);
          assertThatThrownBy(() -> gateway.chat(candidate, ChatRequest.of("hello")))
              .isInstanceOf(ForbiddenException.class);
          assertThatThrownBy(() -> gateway.listSessions(candidate, 10, null)).isInstanceOf(ForbiddenException.class);
          assertThat(server.getRequestCount()).isZero();
        });
  }

  @Test
  void withoutAChatPolicyBeanTheGatewayAllowsEveryRole() {
    server.enqueue(chatOk());
    runner.run(context -> {
      context.getBean(InMemoryCreditLedger.class).deposit(USER.userId(), 100);
      context.getBean(ChatGateway.class).chat(USER.toBuilder().role("candidate").build(), ChatRequest.of("hello"));
      assertThat(server.getRequestCount()).isEqualTo(1);
    });
  }

  static final String STREAM = "data: {\"type\":\"session\",\"session_id\":\"s\",\"message_id\":\"m\"}\n\n"
      + "data: {\"type\":\"token\",\"content\":\"Hi\"}\n\n"
      + "data: {\"type\":\"done\",\"finish_reason\":\"stop\","
      + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1,\"total_tokens\":11}}\n\ndata: [DONE]\n\n";

  /** Receives the context's chat events as an application's {@code @EventListener} would. */
  static class ChatEventRecorder {
    final List<ChatEvent> received = new CopyOnWriteArrayList<>();

    @EventListener
    public void on(ChatEvent event) {
      received.add(event);
    }
  }

  @Test
  void backgroundChatsPublishTheirEventsAsSpringApplicationEventsByDefault() {
    server.enqueue(SseResponses.sse(STREAM));
    runner.withBean(ChatEventRecorder.class).run(context -> {
      context.getBean(InMemoryCreditLedger.class).deposit(USER.userId(), 100);

      BackgroundChat chat = context.getBean(ChatGateway.class).chatInBackground(USER, ChatRequest.of("hello"));
      chat.completion().get(10, TimeUnit.SECONDS);

      assertThat(context.getBean(ChatEventRecorder.class).received).extracting(ChatEvent::type)
          .containsExactly("started", "token", "completed");
    });
  }

  @Test
  void aChatEventPublisherOfTheHostsOwnReplacesTheApplicationEvents() {
    List<ChatEvent> own = new CopyOnWriteArrayList<>();
    server.enqueue(SseResponses.sse(STREAM));
    runner.withBean(ChatEventRecorder.class).withBean(ChatEventPublisher.class, () -> own::add).run(context -> {
      context.getBean(InMemoryCreditLedger.class).deposit(USER.userId(), 100);

      context.getBean(ChatGateway.class).chatInBackground(USER, ChatRequest.of("hello")).completion()
          .get(10, TimeUnit.SECONDS);

      assertThat(context).getBeans(ChatEventPublisher.class).hasSize(1);
      assertThat(own).extracting(ChatEvent::type).containsExactly("started", "token", "completed");
      assertThat(context.getBean(ChatEventRecorder.class).received).isEmpty();
    });
  }

  @Test
  void twoChatPoliciesWithoutAPrimaryFailTheStartRatherThanAllowEverything() {
    runner.withBean("one", ChatPolicy.class, ChatPolicy::denyByDefault)
        .withBean("two", ChatPolicy.class, ChatPolicy::denyByDefault)
        .run(context -> assertThat(context).hasFailed());
  }

  @Test
  void anInvalidWebhookSecretFailsTheStart() {
    runner.withPropertyValues("llm-gateway.webhooks.secret=not-a-whsec").run(context ->
        assertThat(context).getFailure().rootCause().isInstanceOf(IllegalArgumentException.class));
  }

  @Test
  void withoutTheAuthModuleNoAuthBeanIsMade() {
    runner.withPropertyValues("llm-gateway.auth.jwt-secret=" + JWT_SECRET)
        .withClassLoader(new FilteredClassLoader(ServiceJwtAuth.class))
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ServiceJwtAuth.class)
            .hasSingleBean(LlmGatewayClient.class));
  }

  @Test
  void theGatewayRunsOnACreditLedgerInMemoryByDefault() {
    runner.run(context -> {
      assertThat(context).hasSingleBean(ChatGateway.class);
      assertThat(context.getBean(CreditLedger.class)).isInstanceOf(InMemoryCreditLedger.class);
    });
  }

  @Test
  void aLedgerAndAGatewayOfTheHostsOwnWin() {
    InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
    runner.withBean(CreditLedger.class, () -> ledger).run(context ->
        assertThat(context).getBean(CreditLedger.class).isSameAs(ledger));
    runner.withBean("mine", ChatGateway.class, () -> ChatGateway.builder()
            .client(LlmGatewayClient.builder().sandbox(true).environment(name -> null).build())
            .ledger(ledger).build())
        .run(context -> assertThat(context).getBeans(ChatGateway.class).containsOnlyKeys("mine"));
  }

  @Test
  void withoutTheHostModuleThereIsOnlyTheClient() {
    runner.withClassLoader(new FilteredClassLoader(ChatGateway.class)).run(context ->
        assertThat(context).hasNotFailed().hasSingleBean(LlmGatewayClient.class).doesNotHaveBean(ChatGateway.class)
            .doesNotHaveBean(CreditLedger.class));
  }

  @Test
  void aDataSourceGetsTheJdbcLedgerWhoseSchemaIsCreatedOnlyWhenAskedFor() throws IOException {
    PGSimpleDataSource refusing = new PGSimpleDataSource();
    refusing.setURL("jdbc:postgresql://127.0.0.1:" + freePort() + "/none?connectTimeout=2");
    runner.withBean(DataSource.class, () -> refusing).run(context -> {
      assertThat(context.getBean(CreditLedger.class)).isInstanceOf(JdbcCreditLedger.class);
      assertThat(context.getBean(ChatGateway.class)).isNotNull();
    });
    runner.withBean(DataSource.class, () -> refusing).withPropertyValues("llm-gateway.jdbc.create-schema=true")
        .run(context -> assertThat(context).getFailure().hasRootCauseInstanceOf(java.net.ConnectException.class)
            .satisfies(e -> assertThat(causes(e)).anyMatch(CreditStoreException.class::isInstance)));
  }

  @Test
  void withoutTheJdbcModuleADataSourceLeavesTheLedgerInMemory() {
    runner.withBean(DataSource.class, PGSimpleDataSource::new)
        .withClassLoader(new FilteredClassLoader(JdbcCreditLedger.class))
        .run(context -> assertThat(context.getBean(CreditLedger.class)).isInstanceOf(InMemoryCreditLedger.class));
  }

  @Test
  void theHealthIndicatorIsUpWhenTheServiceIs() {
    server.enqueue(healthOk());
    runner.run(context -> {
      Health health = context.getBean("llmGatewayHealthIndicator", HealthIndicator.class).health();
      assertThat(health.getStatus()).isEqualTo(Status.UP);
      assertThat(health.getDetails()).containsEntry("circuitBreaker", "CLOSED").doesNotContainKey("reason");
    });
  }

  @Test
  void theHealthIndicatorIsDownWithTheReasonWhenTheServiceIsNot() {
    server.enqueue(json(503, "{\"detail\":\"overloaded\"}"));
    runner.run(context -> {
      Health health = context.getBean(LlmGatewayHealthIndicator.class).health();
      assertThat(health.getStatus()).isEqualTo(Status.DOWN);
      assertThat(health.getDetails()).containsEntry("reason", "HTTP 503");
      assertThat(health.getDetails().toString()).doesNotContain(TOKEN);
    });
  }

  @Test
  void theHealthIndicatorIsDownWhileTheBreakerIsOpen() {
    server.enqueue(healthOk());
    CircuitBreaker breaker = CircuitBreaker.builder().failureThreshold(1).openDuration(Duration.ofHours(1)).build();
    runner.withBean(CircuitBreaker.class, () -> breaker).run(context -> {
      assertThat(breaker.tryAcquire()).isTrue();
      breaker.onFailure();
      Health health = context.getBean(LlmGatewayHealthIndicator.class).health();
      assertThat(health.getStatus()).isEqualTo(Status.DOWN);
      assertThat(health.getDetails()).containsEntry("circuitBreaker", "OPEN")
          .containsEntry("reason", "circuit breaker open");
    });
  }

  @Test
  void theHealthIndicatorCanBeTurnedOffAndNeedsTheActuator() {
    runner.withPropertyValues("management.health.llm-gateway.enabled=false").run(context ->
        assertThat(context).doesNotHaveBean(LlmGatewayHealthIndicator.class));
    // The secrets' masking does not hang on the health API (which Boot 4 moved).
    runner.withClassLoader(new FilteredClassLoader(HealthIndicator.class)).run(context ->
        assertThat(context).hasNotFailed().doesNotHaveBean(LlmGatewayHealthIndicator.class)
            .hasSingleBean(SanitizingFunction.class));
  }

  @Test
  void aHealthIndicatorOfTheHostsOwnUnderEitherNameWins() {
    HealthIndicator own = () -> Health.up().withDetail("own", true).build();
    for (String name : List.of("llmGateway", "llmGatewayHealthIndicator")) {
      runner.withBean(name, HealthIndicator.class, () -> own).run(context -> {
        assertThat(context).doesNotHaveBean(LlmGatewayHealthIndicator.class);
        assertThat(context.getBean(name)).isSameAs(own);
      });
    }
  }

  @Test
  void theHealthPropertiesReachTheClient() {
    server.enqueue(healthOk());
    server.enqueue(healthOk());
    runner.withPropertyValues("llm-gateway.health.cache-ttl=0s").run(context -> {
      LlmGatewayClient client = context.getBean(LlmGatewayClient.class);
      client.health();
      client.health();
      assertThat(server.getRequestCount()).isEqualTo(2);
    });
  }

  @Test
  void listenerFactoriesAndCustomizersAreApplied() {
    server.enqueue(chatOk());
    List<String> seen = new CopyOnWriteArrayList<>();
    GatewayListener.Factory first = call -> new GatewayListener() {
      @Override
      public void callStart(dev.llmgateway.CallInfo info) {
        seen.add("first");
      }
    };
    GatewayListener.Factory second = call -> new GatewayListener() {
      @Override
      public void callStart(dev.llmgateway.CallInfo info) {
        seen.add("second");
      }
    };
    runner.withBean("first", GatewayListener.Factory.class, () -> first)
        .withBean("second", GatewayListener.Factory.class, () -> second)
        .withBean(LlmGatewayClientBuilderCustomizer.class, () -> builder -> builder.userAgent("custom-agent/1"))
        .run(context -> {
          context.getBean(LlmGatewayClient.class).chat(ChatRequest.of("hello"), USER);
          assertThat(server.takeRequest().getHeaders().get("User-Agent")).isEqualTo("custom-agent/1");
          assertThat(seen).containsExactlyInAnyOrder("first", "second");
        });
  }

  @Test
  void theSandboxAnswersWithoutAService() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(LlmGatewayAutoConfiguration.class))
        .withPropertyValues("llm-gateway.sandbox=true")
        .run(context -> {
          LlmGatewayClient client = context.getBean(LlmGatewayClient.class);
          assertThat(client.isSandbox()).isTrue();
          assertThat(client.health().up()).isTrue();
          assertThat(client.chat(ChatRequest.of("Find senior Rails engineers in Berlin"), USER).answer()).isNotBlank();
        });
  }

  private static List<Throwable> causes(Throwable e) {
    List<Throwable> all = new java.util.ArrayList<>();
    for (Throwable t = e; t != null && !all.contains(t); t = t.getCause()) {
      all.add(t);
    }
    return all;
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
