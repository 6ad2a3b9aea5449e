package dev.llmgateway.micrometer;

import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.host.SettlementEvent;
import dev.llmgateway.host.SettlementListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Micrometer meters of {@code llm-gateway-host}'s {@code ChatGateway}: the settlements of its
 * credit reservations. Obtained from {@link GatewayMetrics#host()}, on the same registry and tags.
 * The requests the gateway refuses (validation, rate limits, credits, store failures) are counted
 * by {@link GatewayMetrics#listener()} as the client's shared listener ({@value
 * GatewayMetrics#REFUSALS}), not here.
 *
 * <pre>{@code
 * HostMetrics host = metrics.host();
 * ChatGateway gateway = ChatGateway.builder()
 *     .client(client) // built with .listener(metrics.listener()): counts the refusals
 *     .rateLimiter(rateLimiter)
 *     .ledger(ledger)
 *     .settlementListener(host.settlementListener())
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe. The meters of every {@code HostMetrics} of one {@link GatewayMetrics} are the
 * same meters (the registry keeps one per name and tags).
 */
public final class HostMetrics {
  /** Counter of settlements of credit reservations. Tag: result. */
  public static final String CREDIT_SETTLEMENTS = "llm.gateway.credits.settlements";
  /** Counter of credits charged by commits. */
  public static final String CREDITS_CHARGED = "llm.gateway.credits.charged";

  // Read-only after construction.
  private final Map<Settlement, Counter> settlements = new EnumMap<>(Settlement.class);
  private final Counter abandoned;
  private final Counter charged;
  private final SettlementListener settlementListener = new SettlementCounter();

  HostMetrics(MeterRegistry registry, Tags tags) {
    // Few enough to register all at once: then the hot path only indexes arrays.
    for (Settlement s : Settlement.values()) {
      settlements.put(s, settlements(registry, tags, result(s)));
    }
    abandoned = settlements(registry, tags, "abandoned");
    charged = Counter.builder(CREDITS_CHARGED)
        .description("Credits charged to users by committed reservations")
        .baseUnit("credits")
        .tags(tags)
        .register(registry);
  }

  private static Counter settlements(MeterRegistry registry, Tags tags, String result) {
    return Counter.builder(CREDIT_SETTLEMENTS)
        .description("Settlements of credit reservations by result")
        .tags(tags)
        .tag("result", result)
        .register(registry);
  }

  /**
   * The {@code result} tag of a settlement. A gateway settles each reservation once, so a
   * settlement finding it already released means the ledger's reaper released it when its lease
   * ended: it expired.
   */
  static String result(Settlement settlement) {
    return settlement == Settlement.ALREADY_RELEASED ? "expired" : GatewayMetrics.lower(settlement);
  }

  /**
   * Returns the listener to set with {@code ChatGateway.Builder.settlementListener(...)}: it counts
   * every settlement the gateway makes (chats, relayed streams, direct streams' webhooks) by
   * result, the credits charged, and settlements given up after store failures ({@code
   * result=abandoned}). To keep a listener of your own as well, call both from one listener.
   *
   * @return the settlement listener (one instance)
   */
  public SettlementListener settlementListener() {
    return settlementListener;
  }

  private final class SettlementCounter implements SettlementListener {
    @Override
    public void onSettlement(SettlementEvent event) {
      Objects.requireNonNull(settlements.get(event.settlement())).increment();
      if (event.creditsCharged() > 0) {
        charged.increment((double) event.creditsCharged());
      }
    }

    @Override
    public void onSettlementAbandoned(Reservation reservation) {
      abandoned.increment();
    }
  }
}
