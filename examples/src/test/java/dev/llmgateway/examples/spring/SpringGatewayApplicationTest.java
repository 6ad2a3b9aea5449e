package dev.llmgateway.examples.spring;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.examples.gateway.DemoGateway;
import dev.llmgateway.examples.gateway.GatewayApiTest;
import dev.llmgateway.examples.gateway.UserTokens;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.webhooks.WebhookSecret;
import java.net.InetSocketAddress;
import java.util.function.BiConsumer;
import org.springframework.context.ConfigurableApplicationContext;

/** The host API in Spring Boot ({@link SpringGatewayApplication}). */
class SpringGatewayApplicationTest extends GatewayApiTest {
  @Override
  protected Host start(InetSocketAddress address, LlmGatewayClient client, InMemoryCreditLedger ledger,
      WebhookSecret webhookSecret, BiConsumer<Reservation, Settlement> settled) {
    ConfigurableApplicationContext context =
        SpringGatewayApplication.start(address, client, ledger, true, webhookSecret, settled);
    return new Host() {
      @Override
      public int port() {
        return SpringGatewayApplication.port(context);
      }

      @Override
      public UserTokens users() {
        return context.getBean(DemoGateway.class).users();
      }

      @Override
      public void close() {
        context.close();
      }
    };
  }
}
