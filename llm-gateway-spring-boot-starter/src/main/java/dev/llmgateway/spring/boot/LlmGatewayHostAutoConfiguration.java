package dev.llmgateway.spring.boot;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.webhooks.WebhookVerifier;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

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
   * @return the gateway
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  @ConditionalOnBean(LlmGatewayClient.class)
  public ChatGateway llmGatewayChatGateway(LlmGatewayClient client, CreditLedger ledger,
      ObjectProvider<RateLimiter> rateLimiter, ObjectProvider<StreamTokenIssuer> streamTokens,
      ObjectProvider<WebhookVerifier> webhooks) {
    ChatGateway.Builder gateway = ChatGateway.builder().client(client).ledger(ledger);
    rateLimiter.ifUnique(gateway::rateLimiter);
    streamTokens.ifUnique(gateway::streamTokens);
    webhooks.ifUnique(gateway::webhooks);
    return gateway.build();
  }
}
