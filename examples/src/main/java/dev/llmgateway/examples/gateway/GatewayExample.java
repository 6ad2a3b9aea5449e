package dev.llmgateway.examples.gateway;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.webhooks.WebhookSecret;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The example gateway: the host API on the JDK's {@code HttpServer} with a chat page. Runs against
 * the embedded sandbox unless {@code LLM_SERVICE_BASE_URL} and {@code LLM_SERVICE_TOKEN} point at a
 * real service. In sandbox mode it also plays the service's direct-stream endpoint and sends
 * itself the signed completion webhook, so the whole direct-streaming flow runs on one machine.
 *
 * <p>{@code mvn -q -pl examples -am compile exec:java -Dexec.mainClass=dev.llmgateway.examples.gateway.GatewayExample}
 * then open http://localhost:8080/.
 */
public final class GatewayExample {
  static final UserContext DEMO_USER =
      UserContext.builder().userId("123").companyId("456").role("recruiter").companyRole("owner").build();

  private GatewayExample() {}

  /**
   * Starts the gateway.
   *
   * @param args unused
   * @throws Exception if it cannot start
   */
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
    boolean real = System.getenv(LlmGatewayClient.ENV_BASE_URL) != null
        && System.getenv(LlmGatewayClient.ENV_SERVICE_TOKEN) != null;
    LlmGatewayClient client = LlmGatewayClient.builder().sandbox(!real).build();
    InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
    ledger.deposit(DEMO_USER.userId(), 1_000);
    WebhookSecret webhookSecret = DemoGateway.webhookSecret(real);
    GatewayServer server = start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), client, ledger, real,
        webhookSecret);
    System.out.println("Gateway on http://localhost:" + server.port() + "/ ("
        + (client.isSandbox() ? "embedded sandbox" : client.baseUrl()) + ")");
  }

  /** Builds and starts a gateway around {@code client}, with demo secrets made up at start. */
  static GatewayServer start(InetSocketAddress address, LlmGatewayClient client, InMemoryCreditLedger ledger,
      boolean realService, WebhookSecret webhookSecret) throws java.io.IOException {
    return start(address, client, ledger, realService, webhookSecret, (reservation, settlement) -> {});
  }

  /** As above, telling {@code settled} of every commit and release. */
  static GatewayServer start(InetSocketAddress address, LlmGatewayClient client, InMemoryCreditLedger ledger,
      boolean realService, WebhookSecret webhookSecret,
      java.util.function.BiConsumer<dev.llmgateway.host.Reservation, dev.llmgateway.host.Settlement> settled)
      throws java.io.IOException {
    DemoGateway demo = DemoGateway.create(client, ledger, realService, webhookSecret, address.getPort(), settled);
    GatewayServer server = new GatewayServer(address, demo.routes(), 0);
    server.addRoute("/demo/token", exchange -> GatewayServer.send(exchange, demo.demoToken()));
    if (demo.playsService()) {
      server.addRoute(DemoGateway.SANDBOX_SERVICE, exchange -> demo.playDirectStream(
          exchange.getRequestURI().getRawQuery(), exchange.getLocalAddress().getPort(), headers -> {
            headers.forEach(exchange.getResponseHeaders()::set);
            exchange.sendResponseHeaders(200, 0);
            return exchange.getResponseBody();
          }).ifPresent(refused -> GatewayServer.send(exchange, refused)));
    }
    server.start();
    return server;
  }
}
