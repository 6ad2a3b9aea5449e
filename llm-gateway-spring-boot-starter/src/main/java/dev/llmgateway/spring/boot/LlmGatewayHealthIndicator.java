package dev.llmgateway.spring.boot;

import dev.llmgateway.LlmGatewayClient;
import java.util.Objects;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * The actuator's view of the LLM service on Spring Boot 3 (its {@code
 * org.springframework.boot.actuate.health} API; {@link LlmGatewayBoot4HealthIndicator} is Boot 4's):
 * {@code DOWN} when the client's circuit breaker is open or the service's {@code GET /health}
 * ({@link LlmGatewayClient#health()}, cached and bounded by its timeout) says down, else {@code UP}.
 * Details: {@code circuitBreaker} (the state), {@code checkedAt}, {@code latencyMs}, {@code
 * sandbox}, and {@code reason} when down; never a secret.
 *
 * <p>It is a dependency's health: keep it out of the liveness group (Boot's default), or a service
 * outage would restart the host. Thread-safe.
 */
public class LlmGatewayHealthIndicator implements HealthIndicator {
  private final LlmGatewayClient client;

  /**
   * Creates the indicator.
   *
   * @param client the client whose breaker and service it reports
   */
  public LlmGatewayHealthIndicator(LlmGatewayClient client) {
    this.client = Objects.requireNonNull(client, "client");
  }

  /**
   * Reports the breaker's state and the service's health.
   *
   * @return {@code UP} or {@code DOWN} with details
   */
  @Override
  public Health health() {
    HealthReport report = HealthReport.of(client);
    return (report.up() ? Health.up() : Health.down()).withDetails(report.details()).build();
  }
}
