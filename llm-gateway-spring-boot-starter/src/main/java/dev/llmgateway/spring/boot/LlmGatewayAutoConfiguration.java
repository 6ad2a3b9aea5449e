package dev.llmgateway.spring.boot;

import dev.llmgateway.AuthStrategy;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.actuate.health.HealthIndicator;
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
 * LlmGatewayProperties properties}, its actuator health indicator, and (see the marked places) the
 * metrics and traces modules. A bean of the host's own of any of these types replaces the
 * starter's ({@code @ConditionalOnMissingBean}).
 *
 * <p>The client's builder also takes, when the context has them: an {@link AuthStrategy} bean
 * (e.g. the service JWT of {@link LlmGatewayAuthAutoConfiguration}), a {@link CircuitBreaker} bean,
 * {@link GatewayListener.Factory} beans (composed, in order) and every {@link
 * LlmGatewayClientBuilderCustomizer}.
 */
@AutoConfiguration
@EnableConfigurationProperties(LlmGatewayProperties.class)
public class LlmGatewayAutoConfiguration {
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
   * @param listenerFactories per-call listener factories (metrics, traces), composed in order
   * @param customizers applied last, in order
   * @return the client
   * @throws IllegalArgumentException or {@link IllegalStateException} if a property is invalid or
   *     missing (the message names the setting): the application does not start
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public LlmGatewayClient llmGatewayClient(LlmGatewayProperties properties, ObjectProvider<AuthStrategy> auth,
      ObjectProvider<CircuitBreaker> breaker, ObjectProvider<GatewayListener.Factory> listenerFactories,
      ObjectProvider<LlmGatewayClientBuilderCustomizer> customizers) {
    LlmGatewayClient.Builder builder = LlmGatewayClient.builder();
    Settings.apply(properties, builder);
    auth.ifUnique(builder::auth);
    CircuitBreaker hostBreaker = breaker.getIfUnique();
    builder.circuitBreaker(hostBreaker != null ? hostBreaker : Settings.breaker(properties.getBreaker()));
    List<GatewayListener.Factory> factories = listenerFactories.orderedStream().toList();
    if (!factories.isEmpty()) {
      builder.listenerFactory(Settings.compose(factories));
    }
    customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
    return builder.build();
  }

  /** The actuator's health indicator, when the actuator is on the classpath. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(HealthIndicator.class)
  static class HealthConfiguration {
    /**
     * Named {@code llmGateway}: {@code /actuator/health/llmGateway}, {@code
     * management.health.llm-gateway.enabled=false} turns it off.
     */
    @Bean
    @ConditionalOnMissingBean(name = "llmGatewayHealthIndicator")
    @ConditionalOnProperty(prefix = "management.health.llm-gateway", name = "enabled", matchIfMissing = true)
    LlmGatewayHealthIndicator llmGatewayHealthIndicator(LlmGatewayClient client) {
      return new LlmGatewayHealthIndicator(client);
    }

    /** Masks the starter's secrets in the actuator's env and configprops endpoints. */
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

  // ---- Wired by the lead after merging i15-micrometer and i15-otel: one conditional each. ----

  /**
   * PLACE FOR llm-gateway-micrometer: when {@code dev.llmgateway.micrometer} is on the classpath
   * and a {@code MeterRegistry} bean exists, define its listener factory (a {@link
   * GatewayListener.Factory} bean is composed into the client above) and its breaker/gauge binder.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.llmgateway.micrometer.GatewayMetrics", "io.micrometer.core.instrument.MeterRegistry"})
  @ConditionalOnBean(type = "io.micrometer.core.instrument.MeterRegistry")
  static class MicrometerConfiguration {}

  /**
   * PLACE FOR llm-gateway-opentelemetry: when {@code dev.llmgateway.opentelemetry} is on the
   * classpath and an {@code OpenTelemetry} bean exists, define its tracing listener factory (a
   * {@link GatewayListener.Factory} bean, composed into the client above).
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.llmgateway.opentelemetry.GatewayTracing", "io.opentelemetry.api.OpenTelemetry"})
  @ConditionalOnBean(type = "io.opentelemetry.api.OpenTelemetry")
  static class OpenTelemetryConfiguration {}
}
