package dev.llmgateway.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.examples.gateway.DemoGateway;
import dev.llmgateway.examples.gateway.GatewayExample;
import dev.llmgateway.examples.gateway.GatewayRoutes;
import dev.llmgateway.examples.gateway.SandboxService;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.host.SettlementListener;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The example as {@code main} starts it: configured by {@code application.properties} and {@link
 * SpringGatewayApplication#defaults} alone, on the sandbox, everything from the starter.
 */
class SpringGatewayPropertiesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final MediaType APPLICATION_JSON = MediaType.get("application/json");

  private final OkHttpClient browser = new OkHttpClient();

  @AfterEach
  void closeBrowser() {
    browser.dispatcher().executorService().shutdown();
    browser.connectionPool().evictAll();
  }

  @Test
  void theSandboxIsChosenUnlessBothTheServiceUrlAndTokenAreSet() {
    assertThat(SpringGatewayApplication.defaults(name -> null)).containsEntry("llm-gateway.sandbox", "true")
        .containsEntry("llm-gateway.stream-tokens.service-base-url", "http://localhost:${server.port}" + SandboxService.PATH);
    assertThat(SpringGatewayApplication.defaults(Map.of(LlmGatewayClient.ENV_BASE_URL, "https://llm.internal")::get))
        .containsEntry("llm-gateway.sandbox", "true");
    assertThat(SpringGatewayApplication.defaults(Map.of(LlmGatewayClient.ENV_BASE_URL, "https://llm.internal",
        LlmGatewayClient.ENV_SERVICE_TOKEN, "t")::get)).containsExactly(Map.entry("llm-gateway.sandbox", "false"));
  }

  @Test
  void theJdkExamplesStreamTokenKeysBecomeTheStartersKeyIdAndSecret() {
    assertThat(SpringGatewayApplication.defaults(Map.of(DemoGateway.ENV_STREAM_TOKEN_KEYS,
            "{\"2026-11\": \"new-secret-0123456789abcdef0123456789\", \"2026-05\": \"old\"}")::get))
        .containsEntry(SpringGatewayApplication.ENV_STREAM_TOKEN_KEY_ID, "2026-11")
        .containsEntry(SpringGatewayApplication.ENV_STREAM_TOKEN_SECRET, "new-secret-0123456789abcdef0123456789");
    assertThatThrownBy(() -> SpringGatewayApplication.defaults(
            Map.of(DemoGateway.ENV_STREAM_TOKEN_KEYS, "{\"k\": null, \"x\": \"SECRET\"}")::get))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(DemoGateway.ENV_STREAM_TOKEN_KEYS)
        .hasMessageNotContaining("SECRET");
  }

  @Test
  void fromItsPropertiesAloneTheExampleChatsStreamsDirectlyAndReportsItsHealth() throws Exception {
    BlockingQueue<Settlement> settled = new LinkedBlockingQueue<>();
    int port = SpringHost.freePort();
    SpringApplication application = new SpringApplication(SpringGatewayApplication.class);
    application.setDefaultProperties(SpringGatewayApplication.defaults(name -> null));
    application.addInitializers(context -> context.getBeanFactory().registerSingleton("settled",
        (SettlementListener) event -> settled.add(event.settlement())));
    try (ConfigurableApplicationContext context = application.run("--server.port=" + port)) {
      assertThat(context.getBean(LlmGatewayClient.class).isSandbox()).isTrue();
      InMemoryCreditLedger ledger = (InMemoryCreditLedger) context.getBean(CreditLedger.class);
      assertThat(ledger.balance("123")).as("the demo's starting credits").isEqualTo(GatewayExample.DEFAULT_CREDITS);
      String base = "http://127.0.0.1:" + port;
      String token = get(base + "/demo/token").get("data").get("token").asText();

      JsonNode chat = post(base + GatewayRoutes.API + "/chat", token);
      assertThat(chat.get("success").asBoolean()).isTrue();
      assertThat(settled.poll(20, TimeUnit.SECONDS)).isEqualTo(Settlement.COMMITTED);

      JsonNode init = post(base + GatewayRoutes.API + "/chat/init", token).get("data");
      assertThat(init.get("url").asText()).startsWith("http://localhost:" + port + SandboxService.PATH);
      try (Response stream = browser.newCall(new Request.Builder().url(init.get("url").asText()).build()).execute()) {
        assertThat(stream.body().string()).contains("data: [DONE]");
      }
      assertThat(settled.poll(20, TimeUnit.SECONDS)).as("the sandbox's signed webhook settled it")
          .isEqualTo(Settlement.COMMITTED);
      assertThat(ledger.pendingCount()).isZero();

      JsonNode health = get(base + "/actuator/health/llmGateway");
      assertThat(health.get("status").asText()).isEqualTo("UP");
      assertThat(health.get("details").get("sandbox").asBoolean()).isTrue();
    }
  }

  private JsonNode get(String url) throws IOException {
    try (Response response = browser.newCall(new Request.Builder().url(url).build()).execute()) {
      assertThat(response.code()).as(url).isEqualTo(200);
      return JSON.readTree(response.body().string());
    }
  }

  private JsonNode post(String url, String token) throws IOException {
    Request request = new Request.Builder().url(url).header("Authorization", "Bearer " + token)
        .post(RequestBody.create("{\"query\":\"Find Rails engineers\"}", APPLICATION_JSON)).build();
    try (Response response = browser.newCall(request).execute()) {
      String body = response.body().string();
      assertThat(response.code()).as(body).isEqualTo(200);
      return JSON.readTree(body);
    }
  }

}
