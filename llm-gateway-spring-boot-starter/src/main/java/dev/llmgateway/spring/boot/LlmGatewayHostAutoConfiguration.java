package dev.llmgateway.spring.boot;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.SettlementEvent;
import dev.llmgateway.host.SettlementListener;
import dev.llmgateway.micrometer.GatewayMetrics;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.util.List;
import java.util.function.Consumer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * When {@code llm-gateway-host} is on the classpath: the {@link ChatGateway} on the auto-configured
 * client, with the context's {@link CreditLedger} (the JDBC one when there is a {@code
 * DataSource}, else one in memory, for a single instance), {@link RateLimiter} (Redis when
 * configured, else the gateway's in-memory default), {@link StreamTokenIssuer} and {@link
 * WebhookVerifier} when defined.
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
   * The gateway, closed with the context (before the client and ledger it uses).
   *
   * @param client the client
   * @param ledger the ledger
   * @param rateLimiter the rate limiter, if any
   * @param streamTokens the stream-token issuer, if any
   * @param webhooks the webhook verifier, if any
   * @param settlementListeners told of every settlement (the metrics' among them), in order
   * @return the gateway
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  @ConditionalOnBean(LlmGatewayClient.class)
  public ChatGateway llmGatewayChatGateway(LlmGatewayClient client, CreditLedger ledger,
      ObjectProvider<RateLimiter> rateLimiter, ObjectProvider<StreamTokenIssuer> streamTokens,
      ObjectProvider<WebhookVerifier> webhooks, ObjectProvider<SettlementListener> settlementListeners) {
    ChatGateway.Builder gateway = ChatGateway.builder().client(client).ledger(ledger);
    rateLimiter.ifUnique(gateway::rateLimiter);
    streamTokens.ifUnique(gateway::streamTokens);
    webhooks.ifUnique(gateway::webhooks);
    List<SettlementListener> settled = settlementListeners.orderedStream().distinct().toList();
    if (!settled.isEmpty()) {
      gateway.settlementListener(settled.size() == 1 ? settled.get(0) : new SettlementListeners(settled));
    }
    return gateway.build();
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
