package dev.llmgateway.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.examples.gateway.DemoGateway;
import dev.llmgateway.examples.gateway.GatewayApiTest;
import dev.llmgateway.examples.gateway.GatewayRoutes;
import dev.llmgateway.examples.gateway.UserTokens;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.testkit.SseResponses;
import dev.llmgateway.webhooks.WebhookSecret;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/** The host API in Spring Boot ({@link SpringGatewayApplication}). */
class SpringGatewayApplicationTest extends GatewayApiTest {
  private final BlockingQueue<String> settlingThreads = new LinkedBlockingQueue<>();

  @Override
  protected Host start(InetSocketAddress address, LlmGatewayClient client, InMemoryCreditLedger ledger,
      WebhookSecret webhookSecret, BiConsumer<Reservation, Settlement> settled) {
    ConfigurableApplicationContext context = SpringGatewayApplication.start(address, client, ledger, true,
        webhookSecret, settled.andThen((reservation, settlement) -> settlingThreads.add(Thread.currentThread().getName())));
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

  @Test
  void aRelayRunsOnTheRelayPoolNotOnATomcatThread() throws Exception {
    service.enqueue(SseResponses.sse(STREAM));
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat/stream", "{\"query\":\"hi\"}").build()).execute()) {
      assertThat(response.body().string()).contains("complete");
    }
    assertThat(settlingThreads.poll(20, TimeUnit.SECONDS)).startsWith("sse-relay-");
  }
}
