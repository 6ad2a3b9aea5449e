package dev.llmgateway.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.AuditSink;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.examples.gateway.GatewayApiTest;
import dev.llmgateway.examples.gateway.GatewayHost;
import dev.llmgateway.examples.gateway.GatewayRoutes;
import dev.llmgateway.examples.gateway.HostSettings;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.testkit.SseResponses;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.AbstractProtocol;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.boot.web.embedded.tomcat.TomcatWebServer;
import org.springframework.context.ConfigurableApplicationContext;

/** The host API in Spring Boot ({@link SpringGatewayApplication}) on the starter. */
class SpringGatewayApplicationTest extends GatewayApiTest {
  @Override
  protected GatewayHost start(HostSettings settings) {
    return SpringHost.start(settings, Map.of());
  }

  @Test
  void tomcatAcceptsConnectionsWithTcpNoDelay() {
    try (ConfigurableApplicationContext context = SpringApplication.run(SpringGatewayApplication.class,
            "--server.port=0", "--llm-gateway.sandbox=true")) {
      Connector connector = ((TomcatWebServer) ((WebServerApplicationContext) context).getWebServer()).getTomcat().getConnector();
      // Tomcat's default, which NioEndpoint applies to every accepted socket: no Nagle delay to undo.
      assertThat(((AbstractProtocol<?>) connector.getProtocolHandler()).getTcpNoDelay()).isTrue();
    }
  }

  @Test
  void theRelaySettingsAreStarterProperties() throws Exception {
    try (GatewayHost quick = SpringHost.start(HostSettings.builder().client(client()).ledger(ledger()),
        Map.of("llm-gateway.relay.heartbeat", "50ms"))) {
      assertThat(heartbeatArrives(quick)).isTrue();
    }
  }

  @Test
  void aRelayRunsOnTheRelayPoolNotOnATomcatThread() throws Exception {
    service.enqueue(SseResponses.sse(STREAM));
    try (Response response = browser.newCall(post(GatewayRoutes.API + "/chat/stream", "{\"query\":\"hi\"}").build()).execute()) {
      assertThat(response.body().string()).contains("complete");
    }
    assertThat(settlingThreads.poll(20, TimeUnit.SECONDS)).startsWith("sse-relay-");
  }

  @Test
  void whenEveryRelayThreadIsBusyAStreamIs503WithRetryAfterAndNothingIsReserved() throws Exception {
    CountDownLatch finish = new CountDownLatch(1);
    int firstTokenEnds = STREAM.indexOf("\n\n", STREAM.indexOf("token")) + 2;
    service.enqueue(SseResponses.paused(STREAM.substring(0, firstTokenEnds), finish, STREAM.substring(firstTokenEnds), 1,
        new CountDownLatch(1)));
    InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
    ledger.deposit("123", 100);
    BlockingQueue<Settlement> settlements = new LinkedBlockingQueue<>();
    try (LlmGatewayClient client = LlmGatewayClient.builder().baseUrl(service.url("/").toString())
            .serviceToken("svc-token").environment(name -> null).auditSink(AuditSink.none()).build();
        GatewayHost oneThread = SpringHost.start(HostSettings.builder()
            .client(client).ledger(ledger).settlementListener(e -> settlements.add(e.settlement())),
            Map.of(SpringGatewayApplication.RELAY_THREADS_PROPERTY, 1))) {
      String token = oneThread.users().issue("123");
      String url = "http://127.0.0.1:" + oneThread.port() + GatewayRoutes.API + "/chat/stream";
      Request ask = new Request.Builder().url(url).header("Authorization", "Bearer " + token)
          .post(RequestBody.create("{\"query\":\"hi\"}", MediaType.get("application/json"))).build();

      try (Response first = browser.newCall(ask).execute()) { // its headers are sent: it holds the one thread
        assertThat(first.code()).isEqualTo(200);
        try (Response second = browser.newCall(ask).execute()) {
          assertThat(second.code()).isEqualTo(503);
          assertThat(second.header("Retry-After")).isEqualTo("1");
          assertThat(second.body().string()).contains("\"success\":false");
        }
        assertThat(service.getRequestCount()).as("the refused stream never reached the service").isEqualTo(1);
        assertThat(ledger.pendingCount()).as("only the running stream holds credits").isEqualTo(1);
        finish.countDown();
        assertThat(first.body().string()).contains("complete");
      }
      assertThat(settlements.poll(20, TimeUnit.SECONDS)).isEqualTo(Settlement.COMMITTED);
      assertThat(settlements).isEmpty();
    }
  }

  @Test
  void anOpenEventSubscriptionHoldsNoRelayThread() throws Exception {
    service.enqueue(SseResponses.sse(STREAM));
    try (GatewayHost oneRelayThread = SpringHost.start(HostSettings.builder().client(client()).ledger(ledger()),
        Map.of(SpringGatewayApplication.RELAY_THREADS_PROPERTY, 1))) {
      String bearer = "Bearer " + oneRelayThread.users().issue("123");
      String api = "http://127.0.0.1:" + oneRelayThread.port() + GatewayRoutes.API;
      try (Response subscription = browser.newCall(new Request.Builder().url(api + "/events")
          .header("Authorization", bearer).build()).execute()) {
        assertThat(subscription.code()).isEqualTo(200); // its headers are sent: it holds its thread

        Request ask = new Request.Builder().url(api + "/chat/stream").header("Authorization", bearer)
            .post(RequestBody.create("{\"query\":\"hi\"}", MediaType.get("application/json"))).build();
        try (Response stream = browser.newCall(ask).execute()) {
          assertThat(stream.code()).as("the relay's one thread is free").isEqualTo(200);
          assertThat(stream.body().string()).contains("complete");
        }
      }
    }
  }

  @Test
  void whenEveryEventSubscriptionThreadIsBusyASubscriptionIs503WithRetryAfter() throws Exception {
    try (GatewayHost oneSubscription = SpringHost.start(HostSettings.builder().client(client()).ledger(ledger()),
        Map.of(SpringGatewayApplication.EVENT_SUBSCRIPTIONS_PROPERTY, 1))) {
      Request subscribe = new Request.Builder().url("http://127.0.0.1:" + oneSubscription.port() + GatewayRoutes.API + "/events")
          .header("Authorization", "Bearer " + oneSubscription.users().issue("123")).build();
      try (Response first = browser.newCall(subscribe).execute()) {
        assertThat(first.code()).isEqualTo(200);
        try (Response second = browser.newCall(subscribe).execute()) {
          assertThat(second.code()).isEqualTo(503);
          assertThat(second.header("Retry-After")).isEqualTo("1");
          assertThat(second.body().string()).contains("\"success\":false");
        }
      }
    }
  }

  @Test
  void stoppingTheApplicationEndsOpenSubscriptionsInsteadOfWaitingForThem() throws Exception {
    // A graceful shutdown that would wait ten minutes for the requests in progress.
    GatewayHost host = SpringHost.start(HostSettings.builder().client(client()).ledger(ledger()),
        Map.of("server.shutdown", "graceful", "spring.lifecycle.timeout-per-shutdown-phase", "10m"));
    Call call = browser.newCall(new Request.Builder().url("http://127.0.0.1:" + host.port() + GatewayRoutes.API + "/events")
        .header("Authorization", "Bearer " + host.users().issue("123")).build());
    // Threads of the test's own: the reader blocks, and on two cores the common pool may have one
    // worker (JDK 25 runs both tasks there), which would hold the close back behind the read.
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try (Response subscription = call.execute()) {
      assertThat(subscription.code()).isEqualTo(200);
      CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> {
        try {
          return subscription.body().string(); // to its end
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, threads);

      CompletableFuture<Void> stopped = CompletableFuture.runAsync(host::close, threads);

      assertThat(rest.get(60, TimeUnit.SECONDS)).as("the subscription ended, with no event").doesNotContain("event:");
      stopped.get(60, TimeUnit.SECONDS);
    } finally {
      call.cancel();
      host.close();
      threads.shutdownNow();
    }
  }
}
