package dev.llmgateway.spring.boot;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.ChatEvent;
import dev.llmgateway.host.ChatEventPublisher;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.ChatPolicy;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.CreditPricing;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.SettlementEvent;
import dev.llmgateway.host.SettlementListener;
import dev.llmgateway.micrometer.GatewayMetrics;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * When {@code llm-gateway-host} is on the classpath: the {@link ChatGateway} on the auto-configured
 * client, with the context's {@link CreditLedger} (the JDBC one when there is a {@code
 * DataSource}, else one in memory, for a single instance), {@link RateLimiter} (Redis when
 * configured, else one in memory, at {@code llm-gateway.rate-limits.*}), {@link StreamTokenIssuer}
 * and {@link WebhookVerifier} when defined, the context's {@link ChatPolicy} when it has one (else
 * {@link ChatPolicy#allowAll()}; two without a {@code @Primary} one fail the start), the context's
 * {@link ChatEventPublisher} for background chats (by default one that publishes each {@link
 * ChatEvent} as a Spring application event); its pricing, estimate and relay from {@code
 * llm-gateway.credits.*} and {@code llm-gateway.relay.*}; then every {@link
 * ChatGatewayBuilderCustomizer}.
 */
@AutoConfiguration(after = LlmGatewayAutoConfiguration.class)
@ConditionalOnClass(ChatGateway.class)
public class LlmGatewayHostAutoConfiguration {
  /** Creates the configuration; Spring calls it. */
  public LlmGatewayHostAutoConfiguration() {}

  /**
   * Credits in memory: for a single instance (every instance would hold its own balances).
   *
   * @return the ledger, closed with the context
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(CreditLedger.class)
  public InMemoryCreditLedger llmGatewayCreditLedger() {
    return InMemoryCreditLedger.create();
  }

  /**
   * Background chats' events ({@link ChatGateway#chatInBackground}) as Spring application events,
   * unless the host defines its own {@link ChatEventPublisher}: each {@link ChatEvent}
   * goes to {@link ApplicationEventPublisher#publishEvent(Object)}, so an {@code @EventListener} method
   * taking a {@code ChatEvent} (or one of its records, such as {@code ChatEvent.Completed}) receives
   * it. Spring calls such listeners on the publishing thread, the thread reading the chat's stream:
   * keep them short, or make them {@code @Async}; what one throws is logged by the gateway and
   * ignored.
   *
   * @param events the context's event publisher
   * @return the bridge
   */
  @Bean
  @ConditionalOnMissingBean(ChatEventPublisher.class)
  public ChatEventPublisher llmGatewayChatEventPublisher(ApplicationEventPublisher events) {
    return new ApplicationEventBridge(events);
  }

  /** Publishes chat events to the Spring context. */
  private record ApplicationEventBridge(ApplicationEventPublisher events) implements ChatEventPublisher {
    @Override
    public void publish(ChatEvent event) {
      events.publishEvent(event);
    }

    @Override
    public String toString() {
      return "ChatEventPublisher(Spring application events)";
    }
  }

  /**
   * The gateway, closed with the context (before the client and ledger it uses).
   *
   * @param client the client
   * @param ledger the ledger
   * @param rateLimiter the rate limiter, if any
   * @param streamTokens the stream-token issuer, if any
   * @param webhooks the webhook verifier, if any
   * @param policy who may do what ({@link ChatGateway.Builder#policy}), if the context has one;
   *     several without a primary one fail the start (an authorization policy is never guessed)
   * @param eventPublisher where background chats' events go ({@link ChatGateway.Builder#eventPublisher}),
   *     if the context has exactly one
   * @param settlementListeners told of every settlement (the metrics' among them), in order
   * @param properties the properties ({@code rate-limits}, {@code credits}, {@code relay})
   * @param customizers applied last, in order
   * @return the gateway
   * @throws IllegalArgumentException if a property is invalid (the message names it)
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  @ConditionalOnBean(LlmGatewayClient.class)
  public ChatGateway llmGatewayChatGateway(LlmGatewayClient client, CreditLedger ledger,
      ObjectProvider<RateLimiter> rateLimiter, ObjectProvider<StreamTokenIssuer> streamTokens,
      ObjectProvider<WebhookVerifier> webhooks, ObjectProvider<ChatPolicy> policy,
      ObjectProvider<ChatEventPublisher> eventPublisher, ObjectProvider<SettlementListener> settlementListeners,
      LlmGatewayProperties properties, ObjectProvider<ChatGatewayBuilderCustomizer> customizers) {
    ChatGateway.Builder gateway = ChatGateway.builder().client(client).ledger(ledger);
    RateLimiter limiter = rateLimiter.getIfUnique();
    gateway.rateLimiter(limiter != null ? limiter : InMemoryRateLimiter.create(rateLimits(properties.getRateLimits())));
    streamTokens.ifUnique(gateway::streamTokens);
    webhooks.ifUnique(gateway::webhooks);
    eventPublisher.ifUnique(gateway::eventPublisher);
    // Not ifUnique: two policies and no @Primary fail the start rather than silently allowing everything.
    ChatPolicy chatPolicy = policy.getIfAvailable();
    if (chatPolicy != null) {
      gateway.policy(chatPolicy);
    }
    List<SettlementListener> settled = settlementListeners.orderedStream().distinct().toList();
    if (!settled.isEmpty()) {
      gateway.settlementListener(settled.size() == 1 ? settled.get(0) : new SettlementListeners(settled));
    }
    credits(properties.getCredits(), gateway);
    relay(properties.getRelay(), gateway);
    customizers.orderedStream().forEach(customizer -> customizer.customize(gateway));
    return gateway.build();
  }

  /**
   * The limits of {@code llm-gateway.rate-limits.*} (0: no limit).
   *
   * @throws IllegalArgumentException if one is negative, naming the property
   */
  static RateLimits rateLimits(LlmGatewayProperties.Limits limits) {
    return RateLimits.builder()
        .calls(perMinute("llm-gateway.rate-limits.calls-per-minute", limits.getCallsPerMinute()))
        .streamStarts(perMinute("llm-gateway.rate-limits.stream-starts-per-minute", limits.getStreamStartsPerMinute()))
        .build();
  }

  private static @Nullable RateLimit perMinute(String property, int permits) {
    if (permits < 0) {
      throw new IllegalArgumentException(property + " must be 0 (no limit) or more, was " + permits);
    }
    return permits == 0 ? null : RateLimit.perMinute(permits);
  }

  private static void credits(LlmGatewayProperties.Credits credits, ChatGateway.Builder gateway) {
    Long prompt = credits.getPromptPerThousand();
    Long completion = credits.getCompletionPerThousand();
    if ((prompt == null) != (completion == null)) {
      throw new IllegalArgumentException("llm-gateway.credits.prompt-per-thousand and "
          + "llm-gateway.credits.completion-per-thousand must be set together");
    }
    if (prompt != null && completion != null) {
      if (prompt < 0 || completion < 0) {
        throw new IllegalArgumentException("llm-gateway.credits.prompt-per-thousand and completion-per-thousand "
            + "must not be negative, were " + prompt + " and " + completion);
      }
      gateway.pricing(CreditPricing.perThousandTokens(prompt, completion));
    }
    Long estimate = credits.getEstimate();
    if (estimate != null) {
      if (estimate < 0) {
        throw new IllegalArgumentException("llm-gateway.credits.estimate must not be negative, was " + estimate);
      }
      long reserved = estimate;
      gateway.estimate(request -> reserved);
    }
  }

  private static void relay(LlmGatewayProperties.Relay relay, ChatGateway.Builder gateway) {
    // The gateway's setters check each value and name it.
    if (relay.getHeartbeat() != null) {
      gateway.heartbeat(relay.getHeartbeat());
    }
    if (relay.getReconnectDelay() != null) {
      gateway.reconnectDelay(relay.getReconnectDelay());
    }
    if (relay.getFirstEventTimeout() != null) {
      gateway.streamFirstEventTimeout(relay.getFirstEventTimeout());
    }
  }

  /**
   * With {@code llm-gateway-micrometer} and a {@code GatewayMetrics} bean (see {@link
   * LlmGatewayAutoConfiguration}, processed before this class): the settlement meters. Its own
   * class with every condition repeated, not a member of the metrics configuration: a member class
   * is registered even when its outer class's bean condition fails.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.llmgateway.micrometer.GatewayMetrics", "io.micrometer.core.instrument.MeterRegistry"})
  @ConditionalOnBean(type = "dev.llmgateway.micrometer.GatewayMetrics")
  static class MetricsConfiguration {
    @Bean
    SettlementListener llmGatewayMetricsSettlementListener(GatewayMetrics metrics) {
      return metrics.host().settlementListener();
    }
  }

  /** Tells each listener in order; what one throws does not keep the others from hearing (rethrown after). */
  private record SettlementListeners(List<SettlementListener> all) implements SettlementListener {
    @Override
    public void onSettlement(SettlementEvent event) {
      each(listener -> listener.onSettlement(event));
    }

    @Override
    public void onSettlementAbandoned(Reservation reservation) {
      each(listener -> listener.onSettlementAbandoned(reservation));
    }

    private void each(Consumer<SettlementListener> action) {
      RuntimeException first = null;
      for (SettlementListener listener : all) {
        try {
          action.accept(listener);
        } catch (RuntimeException e) {
          first = first == null ? e : first;
        }
      }
      if (first != null) {
        throw first;
      }
    }
  }
}
