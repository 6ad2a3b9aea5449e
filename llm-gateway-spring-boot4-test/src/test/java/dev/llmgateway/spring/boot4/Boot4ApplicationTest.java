package dev.llmgateway.spring.boot4;

import static dev.llmgateway.testkit.ServiceResponses.chatOk;
import static dev.llmgateway.testkit.ServiceResponses.healthOk;
import static dev.llmgateway.testkit.ServiceResponses.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A whole Spring Boot 4 application on its embedded Tomcat (random port) whose only LLM
 * configuration is properties: a controller chats through the auto-configured ChatGateway with a
 * service (a MockWebServer: the SDK's OkHttp and Jackson 2 at the versions Boot 4 gives it), and the
 * actuator, on Boot 4's health API and Jackson 3, reports the service's health and masks the token.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "llm-gateway.service-token=" + Boot4ApplicationTest.TOKEN,
    // The test classpath has Boot 4's JDBC support but this application no database: the ledger is in memory.
    "spring.autoconfigure.exclude=org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
    "management.endpoints.web.exposure.include=health,configprops,env",
    "management.endpoint.health.show-details=always",
    "management.endpoint.configprops.show-values=always",
    "management.endpoint.env.show-values=always"})
class Boot4ApplicationTest {
  static final String TOKEN = "svc-token-9c3a-SECRET";
  static final UserContext USER = UserContext.builder().userId("123").companyId("456").role("recruiter").build();
  /** The LLM service: one for the application this class starts (it has one test). */
  static final MockWebServer SERVICE = new MockWebServer();
  static final List<String> SERVICE_PATHS = new CopyOnWriteArrayList<>();

  @DynamicPropertySource
  static void service(DynamicPropertyRegistry registry) throws IOException {
    SERVICE.setServerSocketFactory(new NoDelayServerSocketFactory());
    SERVICE.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        String path = request.getUrl().encodedPath();
        boolean token = TOKEN.equals(request.getHeaders().get("X-Service-Token"));
        SERVICE_PATHS.add(request.getMethod() + " " + path + " token=" + token);
        return switch (path) {
          case "/health" -> healthOk();
          case "/api/v1/llm-chat/recruiter/chat" -> chatOk();
          default -> json(404, "{\"detail\":\"Not Found\"}");
        };
      }
    });
    SERVICE.start();
    registry.add("llm-gateway.base-url", () -> SERVICE.url("/").toString());
  }

  @AfterAll
  static void stopTheService() {
    SERVICE.close();
  }

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

  private final OkHttpClient http = new OkHttpClient();

  private String get(String path, int expectedCode) throws IOException {
    try (Response response = http.newCall(new Request.Builder().url("http://127.0.0.1:" + port + path).build())
        .execute()) {
      String body = response.body().string();
      assertThat(response.code()).as(path + ": " + body).isEqualTo(expectedCode);
      return body;
    }
  }

  @Test
  void theApplicationChatsThroughTheStarterAndItsActuatorReportsTheServiceWithoutTheToken() throws IOException {
    assertThat(get("/ask?q=Find+senior+Rails+engineers+in+Berlin", 200)).isEqualTo("SEARCH: hi");

    assertThat(get("/actuator/health/llmGateway", 200))
        .contains("\"status\":\"UP\"", "\"circuitBreaker\":\"CLOSED\"", "\"sandbox\":false");
    assertThat(new ArrayList<>(SERVICE_PATHS))
        .contains("POST /api/v1/llm-chat/recruiter/chat token=true", "GET /health token=false");

    // Jackson 3 (Boot 4's actuator JSON) honours the properties' Jackson 2 @JsonIgnore (Jackson 3
    // keeps com.fasterxml.jackson.annotation), and the sanitizer masks the env endpoint's value.
    String configprops = get("/actuator/configprops", 200);
    assertThat(configprops).contains("\"prefix\":\"llm-gateway\"", "\"baseUrl\":\"" + SERVICE.url("/") + "\"")
        .doesNotContain(TOKEN, "serviceToken");
    assertThat(get("/actuator/env/llm-gateway.service-token", 200)).contains("\"value\":\"******\"")
        .doesNotContain(TOKEN);
  }
}
