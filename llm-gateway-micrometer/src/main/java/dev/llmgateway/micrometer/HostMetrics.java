package dev.llmgateway.micrometer;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InsufficientCreditsException;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.host.SettlementEvent;
import dev.llmgateway.host.SettlementListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Micrometer meters of {@code llm-gateway-host}'s {@code ChatGateway}: the calls it refuses
 * (rate limits, insufficient credits) and the settlements of its credit reservations. Obtained
 * from {@link GatewayMetrics#host()}, on the same registry and tags.
 *
 * <pre>{@code
 * HostMetrics host = metrics.host();
 * ChatGateway gateway = ChatGateway.builder()
 *     .client(client)
 *     .rateLimiter(host.rateLimiter(InMemoryRateLimiter.create()))
 *     .ledger(host.creditLedger(ledger))
 *     .settlementListener(host.settlementListener())
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe. The meters of every {@code HostMetrics} of one {@link GatewayMetrics} are the
 * same meters (the registry keeps one per name and tags).
 */
public final class HostMetrics {
  /** Counter of calls the host refused before calling the service. Tags: operation, reason. */
  public static final String REFUSALS = "llm.gateway.refusals";
  /** Counter of settlements of credit reservations. Tag: result. */
  public static final String CREDIT_SETTLEMENTS = "llm.gateway.credits.settlements";
  /** Counter of credits charged by commits. */
  public static final String CREDITS_CHARGED = "llm.gateway.credits.charged";

  // Read-only after construction.
  private final Map<Operation, Counter> rateLimited = new EnumMap<>(Operation.class);
  private final Map<Operation, Counter> insufficientCredits = new EnumMap<>(Operation.class);
  private final Map<Settlement, Counter> settlements = new EnumMap<>(Settlement.class);
  private final Counter abandoned;
  private final Counter charged;
  private final SettlementListener settlementListener = new SettlementCounter();

  HostMetrics(MeterRegistry registry, Tags tags) {
    // Few enough to register all at once: then the hot path only indexes arrays.
    for (Operation op : Operation.values()) {
      rateLimited.put(op, refusals(registry, tags, op, "rate_limited"));
      insufficientCredits.put(op, refusals(registry, tags, op, "insufficient_credits"));
    }
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

  private static Counter refusals(MeterRegistry registry, Tags tags, Operation op, String reason) {
    return Counter.builder(REFUSALS)
        .description("Calls the host refused before calling the LLM service")
        .tags(tags)
        .tag("operation", GatewayMetrics.lower(op))
        .tag("reason", reason)
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

  /**
   * Wraps a rate limiter to count its refusals ({@value #REFUSALS} with {@code
   * reason=rate_limited}); every decision is the delegate's.
   *
   * @param delegate the limiter deciding
   * @return the counting limiter
   * @throws NullPointerException if {@code delegate} is null
   */
  public RateLimiter rateLimiter(RateLimiter delegate) {
    Objects.requireNonNull(delegate, "delegate");
    return new RateLimiter() {
      @Override
      public Decision tryAcquire(String key, Operation operation) {
        return counted(delegate.tryAcquire(key, operation), operation);
      }

      @Override
      public Decision tryAcquireAll(List<String> keys, Operation operation) {
        return counted(delegate.tryAcquireAll(keys, operation), operation);
      }

      private Decision counted(Decision decision, Operation operation) {
        if (!decision.allowed()) {
          Objects.requireNonNull(rateLimited.get(operation)).increment();
        }
        return decision;
      }

      @Override
      public String toString() {
        return "Counting(" + delegate + ")";
      }
    };
  }

  /**
   * Wraps a credit ledger to count the reservations it refuses for want of credits ({@value
   * #REFUSALS} with {@code reason=insufficient_credits}); everything else is the delegate's.
   *
   * @param delegate the ledger
   * @return the counting ledger
   * @throws NullPointerException if {@code delegate} is null
   */
  public CreditLedger creditLedger(CreditLedger delegate) {
    Objects.requireNonNull(delegate, "delegate");
    return new CreditLedger() {
      @Override
      public Reservation reserve(
          UserContext user, Operation operation, long estimatedCredits, @Nullable String requestId) {
        try {
          return delegate.reserve(user, operation, estimatedCredits, requestId);
        } catch (InsufficientCreditsException e) {
          Objects.requireNonNull(insufficientCredits.get(operation)).increment();
          throw e;
        }
      }

      @Override
      public Settlement commit(Reservation reservation, long credits) {
        return delegate.commit(reservation, credits);
      }

      @Override
      public Settlement release(Reservation reservation, String reason) {
        return delegate.release(reservation, reason);
      }

      @Override
      public Optional<Reservation> findByRequestId(String requestId) {
        return delegate.findByRequestId(requestId);
      }

      @Override
      public String toString() {
        return "Counting(" + delegate + ")";
      }
    };
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
