package dev.llmgateway.spring.boot;

import dev.llmgateway.AuthStrategy;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.micrometer.GatewayMetrics;
import dev.llmgateway.opentelemetry.GatewayTracing;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import java.util.List;
import java.util.stream.Stream;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Auto-configures the {@link LlmGatewayClient} from the {@code llm-gateway.*} {@link
 * LlmGatewayProperties properties}, its actuator health indicator (Spring Boot 3's {@link
 * LlmGatewayHealthIndicator} or Boot 4's {@link LlmGatewayBoot4HealthIndicator}, whichever the
 * classpath has), and (see the marked places) the
 * metrics and traces modules. A bean of the host's own of any of these types replaces the
 * starter's ({@code @ConditionalOnMissingBean}).
 *
 * <p>The client's builder also takes, when the context has them: an {@link AuthStrategy} bean
 * (e.g. the service JWT of {@link LlmGatewayAuthAutoConfiguration}), a {@link CircuitBreaker} bean,
 * {@link GatewayListener.Factory} beans (composed, in order) and every {@link
 * LlmGatewayClientBuilderCustomizer}. Each distinct factory is added once (a factory published as a
 * bean by the host and by the starter counts once); {@link GatewayListener} beans join the client's
 * shared listener after the default {@linkplain GatewayListener#logging() logging} one.
 *
 * <p>With {@code llm-gateway-micrometer} on the classpath and a {@code MeterRegistry} bean: a
 * {@link GatewayMetrics} bean (the host's own wins) whose per-call listener factory and shared
 * listener reach the client, whose circuit-state gauges watch the client's breaker, and whose
 * settlement listener reaches the auto-configured {@code ChatGateway} (see {@link
 * LlmGatewayHostAutoConfiguration}). With {@code
 * llm-gateway-opentelemetry} and an {@code OpenTelemetry} bean: a {@link GatewayTracing} bean (the
 * host's own wins) whose listener factory reaches the client. Ordered after Boot's meter registry
 * and OpenTelemetry auto-configurations so that their beans are seen.
 */
@AutoConfiguration(afterName = {
    // Spring Boot 3, then 4 (where they moved to their own modules).
    "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
    "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
    "org.springframework.boot.actuate.autoconfigure.opentelemetry.OpenTelemetryAutoConfiguration",
    "org.springframework.boot.opentelemetry.autoconfigure.OpenTelemetrySdkAutoConfiguration"})
@EnableConfigurationProperties(LlmGatewayProperties.class)
public class LlmGatewayAutoConfiguration {
  /**
   * The bean name of the health indicator, whose contributor name (the bean name less {@code
   * HealthIndicator}) is {@code llmGateway}: {@code /actuator/health/llmGateway}.
   */
  public static final String HEALTH_INDICATOR_BEAN = "llmGatewayHealthIndicator";
  /** The contributor name, which a host's own health bean may take too (then it wins). */
  static final String HEALTH_CONTRIBUTOR_NAME = "llmGateway";

  /** The keys whose values the actuator's {@code env} and {@code configprops} endpoints mask. */
  static final List<String> SECRET_KEYS = List.of(
      "llmgatewayservicetoken", "llmgatewayauthjwtsecret", "llmgatewaystreamtokenssecret",
      "llmgatewaywebhookssecret", "llmgatewayredisurl");

  /** Creates the configuration; Spring calls it. */
  public LlmGatewayAutoConfiguration() {}

  /**
   * The client, closed when the context closes.
   *
   * @param properties the {@code llm-gateway.*} properties
   * @param auth the host's or the starter's auth strategy, if any
   * @param breaker the host's circuit breaker, if any
   * @param listenerFactories per-call listener factories (metrics, traces), composed in order, each
   *     distinct one once
   * @param listeners shared listeners (the metrics' breaker transitions), after the logging one
   * @param customizers applied last, in order
   * @return the client
   * @throws IllegalArgumentException or {@link IllegalStateException} if a property is invalid or
   *     missing (the message names the setting): the application does not start
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public LlmGatewayClient llmGatewayClient(LlmGatewayProperties properties, ObjectProvider<AuthStrategy> auth,
      ObjectProvider<CircuitBreaker> breaker, ObjectProvider<GatewayListener.Factory> listenerFactories,
      ObjectProvider<GatewayListener> listeners, ObjectProvider<LlmGatewayClientBuilderCustomizer> customizers) {
    LlmGatewayClient.Builder builder = LlmGatewayClient.builder();
    Settings.apply(properties, builder);
    auth.ifUnique(builder::auth);
    CircuitBreaker hostBreaker = breaker.getIfUnique();
    builder.circuitBreaker(hostBreaker != null ? hostBreaker : Settings.breaker(properties.getBreaker()));
    GatewayListener.Factory[] factories = listenerFactories.orderedStream().distinct()
        .toArray(GatewayListener.Factory[]::new);
    if (factories.length > 0) {
      builder.listenerFactory(factories.length == 1 ? factories[0] : GatewayListener.Factory.composite(factories));
    }
    GatewayListener[] shared = Stream.concat(Stream.of(GatewayListener.logging()),
        listeners.orderedStream()).distinct().toArray(GatewayListener[]::new);
    if (shared.length > 1) {
      builder.listener(GatewayListener.composite(shared));
    }
    customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
    return builder.build();
  }

  // ---- The actuator: its health API moved in Spring Boot 4, so there is one indicator per generation. ----

  /**
   * Spring Boot 3's actuator: {@link LlmGatewayHealthIndicator}, unless the host has a bean of
   * either name ({@value #HEALTH_INDICATOR_BEAN} or {@code llmGateway}); {@code
   * management.health.llm-gateway.enabled=false} turns it off.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
  @ConditionalOnProperty(prefix = "management.health.llm-gateway", name = "enabled", matchIfMissing = true)
  static class Boot3HealthConfiguration {
    @Bean(HEALTH_INDICATOR_BEAN)
    @ConditionalOnMissingBean(name = {HEALTH_INDICATOR_BEAN, HEALTH_CONTRIBUTOR_NAME})
    LlmGatewayHealthIndicator llmGatewayHealthIndicator(LlmGatewayClient client) {
      return new LlmGatewayHealthIndicator(client);
    }
  }

  /**
   * Spring Boot 4's actuator ({@code spring-boot-health}): {@link LlmGatewayBoot4HealthIndicator},
   * on the same terms as Boot 3's.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
  @ConditionalOnProperty(prefix = "management.health.llm-gateway", name = "enabled", matchIfMissing = true)
  static class Boot4HealthConfiguration {
    @Bean(HEALTH_INDICATOR_BEAN)
    @ConditionalOnMissingBean(name = {HEALTH_INDICATOR_BEAN, HEALTH_CONTRIBUTOR_NAME})
    LlmGatewayBoot4HealthIndicator llmGatewayHealthIndicator(LlmGatewayClient client) {
      return new LlmGatewayBoot4HealthIndicator(client);
    }
  }

  /** Masks the starter's secrets in the actuator's env and configprops endpoints (Boot 3 and 4). */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.SanitizingFunction")
  static class SanitizingConfiguration {
    @Bean
    SanitizingFunction llmGatewaySecretsSanitizer() {
      return LlmGatewayAutoConfiguration::sanitize;
    }
  }

  /** Masks a secret of the starter's, whatever the form of its name (LLM_GATEWAY_SERVICE_TOKEN too). */
  static SanitizableData sanitize(SanitizableData data) {
    return SECRET_KEYS.contains(canonical(data.getKey())) ? data.withValue(SanitizableData.SANITIZED_VALUE) : data;
  }

  private static String canonical(String key) {
    return key.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]", "");
  }

  // ---- llm-gateway-micrometer and llm-gateway-opentelemetry: each optional, each its own class. ----

  /**
   * When {@code llm-gateway-micrometer} is on the classpath and a {@code MeterRegistry} bean exists:
   * the metrics, their per-call listener factory and shared listener (picked up by the client
   * above), the circuit-state gauges of the client's breaker and the gateway's settlement meters.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.llmgateway.micrometer.GatewayMetrics", "io.micrometer.core.instrument.MeterRegistry"})
  @ConditionalOnBean(type = "io.micrometer.core.instrument.MeterRegistry")
  static class MicrometerConfiguration {
    /** The metrics on the context's meter registry, unless the host defines its own. */
    @Bean
    @ConditionalOnMissingBean
    GatewayMetrics llmGatewayMetrics(MeterRegistry registry) {
      return GatewayMetrics.builder(registry).build();
    }

    /** Per call: calls, attempts, retries, first event, tokens, streams, reservations. */
    @Bean
    GatewayListener.Factory llmGatewayMetricsListenerFactory(GatewayMetrics metrics) {
      return metrics.listenerFactory();
    }

    /** Shared: the breaker's transitions, after the client's default logging listener. */
    @Bean
    GatewayListener llmGatewayMetricsListener(GatewayMetrics metrics) {
      return metrics.listener();
    }

    /** Registers the circuit-state gauges of the context's client (the starter's or the host's). */
    @Bean
    SmartInitializingSingleton llmGatewayCircuitStateGauges(GatewayMetrics metrics,
        ObjectProvider<LlmGatewayClient> client) {
      return () -> client.ifUnique(c -> metrics.monitor(c.circuitBreaker()));
    }
  }

  /**
   * When {@code llm-gateway-opentelemetry} is on the classpath and an {@code OpenTelemetry} bean
   * exists: a span per call, through the tracing listener factory (picked up by the client above).
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.llmgateway.opentelemetry.GatewayTracing", "io.opentelemetry.api.OpenTelemetry"})
  @ConditionalOnBean(type = "io.opentelemetry.api.OpenTelemetry")
  static class OpenTelemetryConfiguration {
    /** The tracing on the context's {@code OpenTelemetry}, unless the host defines its own. */
    @Bean
    @ConditionalOnMissingBean
    GatewayTracing llmGatewayTracing(OpenTelemetry openTelemetry) {
      return GatewayTracing.create(openTelemetry);
    }

    /** A {@code CLIENT} span per call. */
    @Bean
    GatewayListener.Factory llmGatewayTracingListenerFactory(GatewayTracing tracing) {
      return tracing.listenerFactory();
    }
  }
}
