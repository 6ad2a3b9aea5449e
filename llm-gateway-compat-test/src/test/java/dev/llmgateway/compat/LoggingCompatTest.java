package dev.llmgateway.compat;

import static dev.llmgateway.compat.Wire.USER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.LlmGatewayClient;
import java.io.IOException;
import java.util.Map;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;
import org.slf4j.event.Level;

/** The SDK logs through SLF4J 2.0.0 with the request id in the MDC, and leaves the MDC as it found it. */
class LoggingCompatTest {
  private final MockWebServer server = new MockWebServer();

  @BeforeEach
  void start() throws IOException {
    server.start();
    RecordingSlf4jProvider.LINES.clear();
  }

  @AfterEach
  void stop() {
    server.close();
    MDC.clear();
  }

  @Test
  void theRetryWarningAndTheAuditLineCarryTheRequestIdInTheMdc() throws Exception {
    server.enqueue(Wire.json(503, "{\"detail\":\"overloaded\"}"));
    server.enqueue(Wire.json(200, Wire.CHAT));
    ChatResponse response;
    try (LlmGatewayClient client = Wire.client(server, Wire.sleeps()).auditSink(AuditSink.logging()).build()) {
      response = client.chat(ChatRequest.of("Find Rails engineers"), USER);
    }

    Map<String, String> expectedMdc = Map.of(LlmGatewayClient.DEFAULT_MDC_KEY, response.requestId());
    assertThat(RecordingSlf4jProvider.LINES).filteredOn(line -> line.logger().equals(AuditSink.LOGGER_NAME))
        .singleElement().satisfies(line -> {
          assertThat(line.level()).isEqualTo(Level.INFO);
          assertThat(line.message()).contains(response.requestId());
          assertThat(line.mdc()).isEqualTo(expectedMdc);
        });
    assertThat(RecordingSlf4jProvider.LINES).filteredOn(line -> line.level() == Level.WARN)
        .singleElement().satisfies(line -> assertThat(line.mdc()).isEqualTo(expectedMdc));
    assertThat(RecordingSlf4jProvider.LINES).noneSatisfy(line -> assertThat(line.message()).contains(Wire.SERVICE_TOKEN));
    assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
  }

  @Test
  void aRequestIdTheHostPutInTheMdcIsSentAndKept() throws Exception {
    server.enqueue(Wire.json(200, Wire.CHAT));
    MDC.put(LlmGatewayClient.DEFAULT_MDC_KEY, "from-host-filter");
    try (LlmGatewayClient client = Wire.client(server, Wire.sleeps()).auditSink(AuditSink.none()).build()) {
      client.chat(ChatRequest.of("hi"), USER);
    }

    assertThat(server.takeRequest().getHeaders().get("X-Request-Id")).isEqualTo("from-host-filter");
    assertThat(MDC.get(LlmGatewayClient.DEFAULT_MDC_KEY)).isEqualTo("from-host-filter");
  }
}
