package dev.llmgateway.spring.boot;

import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.ServiceHealth;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the health indicators report, whichever Spring Boot generation's API they speak: {@code
 * up} unless the client's circuit breaker is open or the service's {@code GET /health} ({@link
 * LlmGatewayClient#health()}, cached and bounded by its timeout) says down. Details: {@code
 * circuitBreaker} (the state), {@code checkedAt}, {@code latencyMs}, {@code sandbox}, and {@code
 * reason} when down; never a secret.
 *
 * @param up whether the service is usable
 * @param details the details, in that order (unmodifiable)
 */
record HealthReport(boolean up, Map<String, Object> details) {
  /** The detail naming why the service is down. */
  static final String REASON = "reason";

  /**
   * Checks the client's breaker and its service.
   *
   * @param client the client
   * @return the report
   * @throws IllegalStateException if the client is closed
   */
  static HealthReport of(LlmGatewayClient client) {
    CircuitBreaker.State breaker = client.circuitBreaker().state();
    ServiceHealth service = client.health();
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("circuitBreaker", breaker.name());
    details.put("checkedAt", service.checkedAt().toString());
    details.put("latencyMs", service.latency().toMillis());
    details.put("sandbox", client.isSandbox());
    String reason = service.reason();
    if (reason != null) {
      details.put(REASON, reason);
    } else if (breaker == CircuitBreaker.State.OPEN) {
      details.put(REASON, "circuit breaker open");
    }
    return new HealthReport(service.up() && breaker != CircuitBreaker.State.OPEN,
        Collections.unmodifiableMap(details));
  }
}
