package dev.llmgateway.spring.boot4;

import static dev.llmgateway.testkit.ServiceResponses.chatOk;
import static dev.llmgateway.testkit.ServiceResponses.healthOk;
import static dev.llmgateway.testkit.ServiceResponses.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.AuthStrategy;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.ServiceJwtAuth;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.micrometer.GatewayMetrics;
import dev.llmgateway.opentelemetry.GatewayTracing;
import dev.llmgateway.spring.boot.LlmGatewayAuthAutoConfiguration;
import dev.llmgateway.spring.boot.LlmGatewayAutoConfiguration;
import dev.llmgateway.spring.boot.LlmGatewayBoot4HealthIndicator;
import dev.llmgateway.spring.boot.LlmGatewayHostAutoConfiguration;
import dev.llmgateway.spring.boot.LlmGatewayJdbcAutoConfiguration;
import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import dev.llmgateway.webhooks.WebhookVerifier;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.IOException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.sql.DataSource;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.opentelemetry.autoconfigure.OpenTelemetrySdkAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The starter's auto-configuration on Spring Boot 4 (its BOM, its actuator's {@code
 * org.springframework.boot.health.contributor} API): the same behaviour as on Boot 3, which the
 * starter's own tests cover in full.
 */
class Boot4AutoConfigurationTest {
  static final String TOKEN = "svc-token-4b0e-SECRET";
  static final String JWT_SECRET = "jwt-secret-0123456789abcdef0123456789-SECRET";
  static final String STREAM_SECRET = "stream-secret-0123456789abcdef0123456789-SECRET";
  static final String WEBHOOK_SECRET =
      "whsec_" + Base64.getEncoder().encodeToString("webhook-secret-bytes-0123456789".getBytes());
  static final UserContext USER = UserContext.builder().userId("123").companyId("456").role("recruiter").build();

  final MockWebServer server = new MockWebServer();
  ApplicationContextRunner runner;

  @BeforeEach
  void start() throws IOException {
    server.setServerSocketFactory(new NoDelayServerSocketFactory());
    server.start();
    runner = new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(LlmGatewayAutoConfiguration.class,
            LlmGatewayAuthAutoConfiguration.class, LlmGatewayHostAutoConfiguration.class))
        .withPropertyValues("llm-gateway.base-url=" + server.url("/"), "llm-gateway.service-token=" + TOKEN);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void theClientIsBuiltFromThePropertiesAndCallsTheService() {
    server.enqueue(chatOk());
    runner.run(context -> {
      LlmGatewayClient client = context.getBean(LlmGatewayClient.class);
      assertThat(client.baseUrl()).isEqualTo(server.url("/"));
      assertThat(client.chat(ChatRequest.of("hello"), USER).answer()).isEqualTo("hi");
      assertThat(server.takeRequest().getHeaders().get("X-Service-Token")).isEqualTo(TOKEN);
    });
  }

  @Test
  void aClientOfTheHostsOwnWins() {
    try (LlmGatewayClient own = LlmGatewayClient.builder().baseUrl(server.url("/own/").toString())
        .serviceToken("host-token").environment(name -> null).build()) {
      runner.withBean(LlmGatewayClient.class, () -> own).run(context -> {
        assertThat(context).getBeans(LlmGatewayClient.class).hasSize(1);
        assertThat(context.getBean(LlmGatewayClient.class)).isSameAs(own);
        assertThat(context.getBean(ChatGateway.class)).isNotNull();
      });
    }
  }

  @Test
  void theGatewayAndTheAuthBeansAreMadeFromTheirModulesAndSecrets() {
    server.enqueue(chatOk());
    runner.withPropertyValues("llm-gateway.auth.jwt-secret=" + JWT_SECRET,
        "llm-gateway.stream-tokens.secret=" + STREAM_SECRET, "llm-gateway.webhooks.secret=" + WEBHOOK_SECRET)
        .run(context -> {
          assertThat(context).hasSingleBean(ChatGateway.class).hasSingleBean(WebhookVerifier.class)
              .hasSingleBean(StreamTokenIssuer.class);
          assertThat(context.getBean(CreditLedger.class)).isInstanceOf(InMemoryCreditLedger.class);
          assertThat(context.getBean(AuthStrategy.class)).isInstanceOf(ServiceJwtAuth.class);
          context.getBean(LlmGatewayClient.class).chat(ChatRequest.of("hello"), USER);
          RecordedRequest request = server.takeRequest();
          assertThat(request.getHeaders().get("Authorization")).startsWith("Bearer ");
        });
  }

  @Test
  void theHealthIndicatorIsBoot4sAndUpWhenTheServiceIs() {
    server.enqueue(healthOk());
    runner.run(context -> {
      HealthIndicator indicator = context.getBean("llmGatewayHealthIndicator", HealthIndicator.class);
      assertThat(indicator).isInstanceOf(LlmGatewayBoot4HealthIndicator.class);
      Health health = indicator.health();
      assertThat(health.getStatus()).isEqualTo(Status.UP);
      assertThat(health.getDetails()).containsEntry("circuitBreaker", "CLOSED").containsEntry("sandbox", false)
          .containsKeys("checkedAt", "latencyMs").doesNotContainKey("reason");
      assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/health");
    });
  }

  @Test
  void theHealthIndicatorIsDownWithTheReasonWhenTheServiceIsNot() {
    server.enqueue(json(503, "{\"detail\":\"overloaded\"}"));
    runner.run(context -> {
      Health health = context.getBean(LlmGatewayBoot4HealthIndicator.class).health();
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
      Health health = context.getBean(LlmGatewayBoot4HealthIndicator.class).health();
      assertThat(health.getStatus()).isEqualTo(Status.DOWN);
      assertThat(health.getDetails()).containsEntry("circuitBreaker", "OPEN")
          .containsEntry("reason", "circuit breaker open");
    });
  }

  @Test
  void theHealthIndicatorCanBeTurnedOffAndNeedsBoot4sHealthModule() {
    runner.withPropertyValues("management.health.llm-gateway.enabled=false").run(context ->
        assertThat(context).hasNotFailed().doesNotHaveBean("llmGatewayHealthIndicator"));
    runner.withClassLoader(new FilteredClassLoader(HealthIndicator.class)).run(context ->
        assertThat(context).hasNotFailed().hasSingleBean(LlmGatewayClient.class)
            .doesNotHaveBean("llmGatewayHealthIndicator"));
  }

  @Test
  void aHealthIndicatorOfTheHostsOwnUnderEitherNameWins() {
    HealthIndicator own = () -> Health.up().withDetail("own", true).build();
    for (String name : List.of("llmGateway", "llmGatewayHealthIndicator")) {
      runner.withBean(name, HealthIndicator.class, () -> own).run(context -> {
        assertThat(context).doesNotHaveBean(LlmGatewayBoot4HealthIndicator.class);
        assertThat(context.getBean(name)).isSameAs(own);
      });
    }
  }

  @Test
  void theActuatorMasksTheSecretKeys() {
    runner.run(context -> {
      SanitizingFunction sanitizer = context.getBean(SanitizingFunction.class);
      for (String key : List.of("llm-gateway.service-token", "LLM_GATEWAY_SERVICE_TOKEN",
          "llm-gateway.auth.jwt-secret", "llm-gateway.webhooks.secret", "llm-gateway.stream-tokens.secret",
          "llm-gateway.redis.url")) {
        assertThat(sanitizer.apply(new SanitizableData(null, key, "value")).getValue()).as(key)
            .isEqualTo(SanitizableData.SANITIZED_VALUE);
      }
      assertThat(sanitizer.apply(new SanitizableData(null, "llm-gateway.base-url", "value")).getValue())
          .isEqualTo("value");
    });
  }

  @Test
  void theMetricsAreWiredOnBoot4sMeterRegistry() {
    // Boot 4's metrics auto-configurations sort after the starter's by name: only the starter's
    // ordering (after Boot 4's CompositeMeterRegistryAutoConfiguration) lets it see the registry.
    server.enqueue(chatOk());
    runner.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
            CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class))
        .run(context -> {
          assertThat(context).hasSingleBean(GatewayMetrics.class);
          context.getBean(LlmGatewayClient.class).chat(ChatRequest.of("hello"), USER);
          assertThat(context.getBean(MeterRegistry.class).find(GatewayMetrics.CALLS).timers())
              .singleElement().satisfies(timer -> assertThat(timer.count()).isEqualTo(1));
        });
  }

  @Test
  void theTracingIsWiredOnBoot4sOpenTelemetrySdk() {
    // As with the metrics: only the starter's ordering (after Boot 4's OpenTelemetrySdkAutoConfiguration)
    // lets it see the OpenTelemetry bean.
    server.enqueue(chatOk());
    InMemorySpanExporter spans = InMemorySpanExporter.create();
    runner.withConfiguration(AutoConfigurations.of(OpenTelemetrySdkAutoConfiguration.class))
        .withBean(SdkTracerProvider.class,
            () -> SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
        .withBean(ContextPropagators.class, () -> ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
        .run(context -> {
          assertThat(context).hasSingleBean(GatewayTracing.class);
          context.getBean(LlmGatewayClient.class).chat(ChatRequest.of("hello"), USER);
          assertThat(spans.getFinishedSpanItems()).extracting(SpanData::getName).containsExactly("llm-gateway chat");
          assertThat(server.takeRequest().getHeaders().get("traceparent"))
              .contains(spans.getFinishedSpanItems().get(0).getTraceId());
        });
  }

  @Test
  void boot4sDataSourceGetsTheJdbcLedger() throws IOException {
    // Boot 4's DataSourceAutoConfiguration (renamed package) sorts after the starter's by name: only
    // the JDBC ledger's ordering after it lets the ledger see the DataSource. Nothing connects here.
    int refusingPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      refusingPort = socket.getLocalPort();
    }
    runner.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
            LlmGatewayJdbcAutoConfiguration.class))
        .withPropertyValues("spring.datasource.url=jdbc:postgresql://127.0.0.1:" + refusingPort + "/none")
        .run(context -> {
          assertThat(context).hasSingleBean(DataSource.class);
          assertThat(context.getBean(CreditLedger.class)).isInstanceOf(JdbcCreditLedger.class);
        });
  }
}
