package dev.llmgateway.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import java.io.IOException;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A whole Spring Boot application on Tomcat (random port) whose only LLM configuration is
 * properties: a controller calls the sandbox through the auto-configured ChatGateway, and the
 * actuator reports the service's health.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "llm-gateway.sandbox=true",
    // The test classpath has spring-jdbc but this application no database: the ledger is in memory.
    "spring.autoconfigure.exclude=org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
    "management.endpoints.web.exposure.include=health",
    "management.endpoint.health.show-details=always"})
class SandboxApplicationTest {
  static final UserContext USER = UserContext.builder().userId("123").companyId("456").role("recruiter").build();

  @SpringBootApplication(proxyBeanMethods = false)
  static class App {
    @RestController
    static class AskController {
      private final ChatGateway gateway;

      AskController(ChatGateway gateway, CreditLedger ledger) {
        this.gateway = gateway;
        ((InMemoryCreditLedger) ledger).deposit(USER.userId(), 1_000);
      }

      @GetMapping("/ask")
      String ask(@RequestParam("q") String q) {
        ChatResponse answer = gateway.chat(USER, ChatRequest.of(q));
        return answer.intent() + ": " + answer.answer();
      }
    }
  }

  @LocalServerPort
  int port;

  @Autowired
  LlmGatewayClient client;

  private final OkHttpClient http = new OkHttpClient();

  @Test
  void aControllerAnswersFromTheSandboxThroughTheAutoConfiguredGateway() throws IOException {
    assertThat(client.isSandbox()).isTrue();
    try (Response response = http.newCall(new Request.Builder()
        .url("http://127.0.0.1:" + port + "/ask?q=Find+senior+Rails+engineers+in+Berlin").build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
      assertThat(response.body().string()).startsWith("SEARCH: I found");
    }
  }

  @Test
  void theActuatorReportsTheServiceUp() throws IOException {
    try (Response response = http.newCall(new Request.Builder()
        .url("http://127.0.0.1:" + port + "/actuator/health/llmGateway").build()).execute()) {
      String body = response.body().string();
      assertThat(response.code()).as(body).isEqualTo(200);
      assertThat(body).contains("\"status\":\"UP\"", "\"circuitBreaker\":\"CLOSED\"", "\"sandbox\":true");
    }
  }
}
