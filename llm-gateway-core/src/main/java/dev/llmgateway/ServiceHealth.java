package dev.llmgateway;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The answer of one {@code GET /health} probe of the service, as {@link LlmGatewayClient#health()}
 * returns it (possibly from its cache: compare {@link #checkedAt()} with the clock).
 *
 * @param up true when the service answered {@code 200 {"status": "ok"}} in time
 * @param checkedAt when the probe started, by the client's {@linkplain
 *     LlmGatewayClient.Builder#clock(java.time.Clock) clock}
 * @param latency how long the probe took until its answer or failure (the time waited, for a probe
 *     that ran out of time)
 * @param reason why the service is down, short and free of secrets (e.g. {@code "HTTP 503"},
 *     {@code "timed out after PT2S"}); null when up
 */
public record ServiceHealth(boolean up, Instant checkedAt, Duration latency, @Nullable String reason) {
  /**
   * Checks the components.
   *
   * @throws NullPointerException if {@code checkedAt} or {@code latency} is null, or {@code
   *     reason} is null while down
   * @throws IllegalArgumentException if {@code latency} is negative or a reason is given while up
   */
  public ServiceHealth {
    Objects.requireNonNull(checkedAt, "checkedAt");
    Objects.requireNonNull(latency, "latency");
    if (latency.isNegative()) {
      throw new IllegalArgumentException("latency must not be negative: " + latency);
    }
    if (up && reason != null) {
      throw new IllegalArgumentException("an up result has no reason");
    }
    if (!up) {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * An up result.
   *
   * @param checkedAt when the probe started
   * @param latency how long it took
   * @return the result
   */
  public static ServiceHealth up(Instant checkedAt, Duration latency) {
    return new ServiceHealth(true, checkedAt, latency, null);
  }

  /**
   * A down result.
   *
   * @param checkedAt when the probe started
   * @param latency how long it took
   * @param reason why, short and free of secrets
   * @return the result
   */
  public static ServiceHealth down(Instant checkedAt, Duration latency, String reason) {
    return new ServiceHealth(false, checkedAt, latency, reason);
  }
}
