package dev.llmgateway.examples.gateway;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.webhooks.WebhookSecret;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.function.BiConsumer;

/** The host API on the JDK's {@code HttpServer} ({@link GatewayExample}). */
class GatewayServerTest extends GatewayApiTest {
  @Override
  protected Host start(InetSocketAddress address, LlmGatewayClient client, InMemoryCreditLedger ledger,
      WebhookSecret webhookSecret, BiConsumer<Reservation, Settlement> settled) throws IOException {
    GatewayServer server = GatewayExample.start(address, client, ledger, true, webhookSecret, settled);
    return new Host() {
      @Override
      public int port() {
        return server.port();
      }

      @Override
      public UserTokens users() {
        return server.users;
      }

      @Override
      public void close() {
        server.close();
      }
    };
  }
}
