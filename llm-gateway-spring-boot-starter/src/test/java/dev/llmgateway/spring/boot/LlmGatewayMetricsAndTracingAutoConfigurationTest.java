package dev.llmgateway.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.CallInfo;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.SettlementListener;
import dev.llmgateway.micrometer.GatewayMetrics;
import dev.llmgateway.micrometer.HostMetrics;
import dev.llmgateway.opentelemetry.GatewayTracing;
import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The starter wires llm-gateway-micrometer and llm-gateway-opentelemetry when the host has them. */
class LlmGatewayMetricsAndTracingAutoConfigurationTest {
  static final UserContext USER = LlmGatewayAutoConfigurationTest.USER;
  static final ChatRequest QUERY = ChatRequest.of("Find senior Rails engineers in Berlin");

  final InMemorySpanExporter spans = InMemorySpanExporter.create();
  final ApplicationContextRunner sandbox = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(LlmGatewayAutoConfiguration.class, LlmGatewayHostAutoConfiguration.class))
      .withPropertyValues("llm-gateway.sandbox=true");
  OpenTelemetrySdk openTelemetry;

  @BeforeEach
  void openTelemetry() {
    openTelemetry = OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
        .build();
  }

  @AfterEach
  void close() {
    openTelemetry.close();
  }

  private static double calls(MeterRegistry registry) {
    return registry.find(GatewayMetrics.CALLS).timers().stream().mapToLong(t -> t.count()).sum();
  }

  private List<SpanData> chatSpans() {
    return spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("llm-gateway chat")).toList();
  }

  @Test
  void aChatThroughTheAutoConfiguredClientIsCountedInTheHostsMeterRegistry() {
    sandbox.withBean(MeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
      assertThat(context).hasSingleBean(GatewayMetrics.class);
      MeterRegistry registry = context.getBean(MeterRegistry.class);
      context.getBean(LlmGatewayClient.class).chat(QUERY, USER);
      assertThat(calls(registry)).isEqualTo(1);
      assertThat(registry.find(GatewayMetrics.CIRCUIT_STATE).tag("state", "closed").gauge()).isNotNull()
          .satisfies(gauge -> assertThat(gauge.value()).isEqualTo(1));
    });
  }

  @Test
  void bootsOwnMeterRegistryIsUsedWhateverTheOrderOfTheAutoConfigurations() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(LlmGatewayAutoConfiguration.class, MetricsAutoConfiguration.class,
            CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class))
        .withPropertyValues("llm-gateway.sandbox=true")
        .run(context -> {
          assertThat(context).hasSingleBean(GatewayMetrics.class);
          context.getBean(LlmGatewayClient.class).chat(QUERY, USER);
          assertThat(calls(context.getBean(MeterRegistry.class))).isEqualTo(1);
        });
  }

  @Test
  void breakerTransitionsReachTheMetricsThroughTheClientsSharedListener() throws IOException {
    try (MockWebServer server = new MockWebServer()) {
      server.setServerSocketFactory(new NoDelayServerSocketFactory());
      server.start();
      server.enqueue(new MockResponse.Builder().code(503).build());
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(LlmGatewayAutoConfiguration.class))
          .withPropertyValues("llm-gateway.base-url=" + server.url("/"), "llm-gateway.service-token=t0ken-SECRET",
              "llm-gateway.retry.max-retries=0", "llm-gateway.breaker.failure-threshold=1")
          .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
          .run(context -> {
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            LlmGatewayClient client = context.getBean(LlmGatewayClient.class);
            assertThat(catchThrowable(() -> client.chat(QUERY, USER))).isNotNull();
            assertThat(registry.find(GatewayMetrics.CIRCUIT_TRANSITIONS).counters()).singleElement()
                .satisfies(counter -> assertThat(counter.count()).isEqualTo(1));
            assertThat(registry.find(GatewayMetrics.CIRCUIT_STATE).tag("state", "open").gauge().value()).isEqualTo(1);
          });
    }
  }

  @Test
  void theAutoConfiguredChatGatewayReportsItsSettlements() {
    sandbox.withBean(MeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
      context.getBean(InMemoryCreditLedger.class).deposit("123", 1_000);
      context.getBean(ChatGateway.class).chat(USER, QUERY);
      assertThat(context.getBean(MeterRegistry.class).find(HostMetrics.CREDIT_SETTLEMENTS).counters().stream()
          .mapToDouble(counter -> counter.count()).sum()).isEqualTo(1);
    });
  }

  @Test
  void aHostsOwnSettlementListenerAndTheMetricsAreBothTold() {
    AtomicInteger hostSettlements = new AtomicInteger();
    sandbox.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withBean("hostSettlements", SettlementListener.class, () -> event -> {
          hostSettlements.incrementAndGet();
          throw new IllegalStateException("the host's listener fails");
        })
        .run(context -> {
          context.getBean(InMemoryCreditLedger.class).deposit("123", 1_000);
          context.getBean(ChatGateway.class).chat(USER, QUERY);
          assertThat(hostSettlements).hasValue(1);
          assertThat(context.getBean(MeterRegistry.class).find(HostMetrics.CREDIT_SETTLEMENTS).counters().stream()
              .mapToDouble(counter -> counter.count()).sum()).isEqualTo(1);
        });
  }

  @Test
  void aChatThroughTheAutoConfiguredClientIsTracedWithTheHostsOpenTelemetry() {
    sandbox.withBean(OpenTelemetry.class, () -> openTelemetry).run(context -> {
      assertThat(context).hasSingleBean(GatewayTracing.class).doesNotHaveBean(GatewayMetrics.class);
      context.getBean(LlmGatewayClient.class).chat(QUERY, USER);
      assertThat(chatSpans()).hasSize(1);
    });
  }

  @Test
  void metricsTracesAndTheHostsOwnFactoryEachSeeEveryCallExactlyOnce() {
    AtomicInteger hostCalls = new AtomicInteger();
    GatewayListener.Factory hostFactory = call -> new GatewayListener() {
      @Override
      public void callStart(CallInfo info) {
        hostCalls.incrementAndGet();
      }
    };
    sandbox.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withBean(OpenTelemetry.class, () -> openTelemetry)
        .withBean("hostFactory", GatewayListener.Factory.class, () -> hostFactory)
        .run(context -> {
          MeterRegistry registry = context.getBean(MeterRegistry.class);
          context.getBean(LlmGatewayClient.class).chat(QUERY, USER);
          assertThat(calls(registry)).isEqualTo(1);
          assertThat(chatSpans()).hasSize(1);
          assertThat(hostCalls).hasValue(1);
        });
  }

  @Test
  void aMetricsFactoryTheHostAlsoPublishesAsABeanIsNotAddedTwice() {
    SimpleMeterRegistry hostMetricsRegistry = new SimpleMeterRegistry();
    GatewayMetrics hostMetrics = GatewayMetrics.builder(hostMetricsRegistry).build();
    sandbox.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withBean("hostMetrics", GatewayMetrics.class, () -> hostMetrics)
        .withBean("metricsFactory", GatewayListener.Factory.class, hostMetrics::listenerFactory)
        .run(context -> {
          context.getBean(LlmGatewayClient.class).chat(QUERY, USER);
          assertThat(calls(hostMetricsRegistry)).isEqualTo(1);
        });
  }

  @Test
  void withoutTheModulesOnTheClassPathTheClientStillWorks() {
    sandbox.withClassLoader(new FilteredClassLoader("dev.llmgateway.micrometer", "dev.llmgateway.opentelemetry"))
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withBean(OpenTelemetry.class, () -> openTelemetry)
        .run(context -> {
          assertThat(context).hasNotFailed().doesNotHaveBean("llmGatewayMetrics").doesNotHaveBean("llmGatewayTracing");
          context.getBean(LlmGatewayClient.class).chat(QUERY, USER);
          assertThat(calls(context.getBean(MeterRegistry.class))).isZero();
          assertThat(chatSpans()).isEmpty();
        });
    sandbox.withClassLoader(new FilteredClassLoader("dev.llmgateway.micrometer", "dev.llmgateway.opentelemetry",
            "io.micrometer", "io.opentelemetry"))
        .run(context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBean(LlmGatewayClient.class).chat(QUERY, USER).answer()).isNotBlank();
        });
  }

  @Test
  void theHostsOwnGatewayMetricsWins() {
    SimpleMeterRegistry hostRegistry = new SimpleMeterRegistry();
    sandbox.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withBean("hostMetrics", GatewayMetrics.class,
            () -> GatewayMetrics.builder(hostRegistry).tags(Tags.of("client", "host")).build())
        .run(context -> {
          assertThat(context).getBeans(GatewayMetrics.class).containsOnlyKeys("hostMetrics");
          context.getBean(LlmGatewayClient.class).chat(QUERY, USER);
          assertThat(hostRegistry.find(GatewayMetrics.CALLS).tag("client", "host").timer().count()).isEqualTo(1);
          assertThat(hostRegistry.find(GatewayMetrics.CIRCUIT_STATE).gauges()).isNotEmpty();
          assertThat(calls(context.getBean(MeterRegistry.class))).isZero();
        });
  }
}
