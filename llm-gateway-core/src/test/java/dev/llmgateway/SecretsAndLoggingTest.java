package dev.llmgateway;

import static dev.llmgateway.TestSupport.TOKEN;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import dev.llmgateway.testkit.LogCapture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

class SecretsAndLoggingTest extends MockServerTest {
  private LogCapture logs;

  @Override
  LlmGatewayClient.Builder configure(LlmGatewayClient.Builder builder) {
    return builder.auditSink(AuditSink.logging());
  }

  @BeforeEach
  void captureLogs() {
    logs = new LogCapture();
  }

  @AfterEach
  void stopCapturing() {
    logs.close();
  }

  private static String stackTrace(Throwable t) {
    StringWriter out = new StringWriter();
    t.printStackTrace(new PrintWriter(out));
    return out.toString();
  }

  @Test
  void tokenAppearsInNoLogLineExceptionOrToString() {
    // Every path that logs: attempts, retries, a failure, a success, the audit line.
    server.enqueue(new MockResponse.Builder().code(503).body("{\"detail\":\"overloaded\"}").build());
    server.enqueue(chatOk());
    client.chat(ChatRequest.of("Find senior Rails engineers"), USER);
    server.enqueue(json(401, "{\"detail\":\"Invalid token\"}"));
    Throwable failure = catchThrowable(() -> client.chat(ChatRequest.of("again"), USER));

    assertThat(logs.events()).isNotEmpty();
    assertThat(logs.allText()).doesNotContain(TOKEN);
    assertThat(stackTrace(failure)).doesNotContain(TOKEN);
    assertThat(client.toString()).doesNotContain(TOKEN).contains("redacted");
    assertThat(AuthStrategy.serviceToken(TOKEN).toString()).doesNotContain(TOKEN);
  }

  @Test
  void missingTokenMessageNamesTheEnvVariableNotAValue() {
    Throwable e = catchThrowable(() -> LlmGatewayClient.builder().environment(n -> null).build());
    assertThat(e).isInstanceOf(IllegalStateException.class).hasMessageContaining("LLM_SERVICE_TOKEN");
  }

  @Test
  void invalidTokenIsRefusedWithoutEchoingIt() {
    Throwable e = catchThrowable(() -> AuthStrategy.serviceToken("bad\ntoken-SECRET"));
    assertThat(e).isInstanceOf(IllegalArgumentException.class);
    assertThat(e.getMessage()).doesNotContain("SECRET");
  }

  @Test
  void eachAttemptIsLoggedAtDebugAndEachRetryAtWarn() {
    server.enqueue(json(503, "{}"));
    server.enqueue(chatOk());
    client.chat(ChatRequest.of("hi"), USER);

    List<ILoggingEvent> clientLogs = logs.events("dev.llmgateway.LlmGatewayClient");
    assertThat(clientLogs).filteredOn(e -> e.getLevel() == Level.WARN).singleElement()
        .satisfies(e -> assertThat(e.getFormattedMessage()).contains("attempt 2 in 500 ms"));
    assertThat(clientLogs).filteredOn(e -> e.getLevel() == Level.DEBUG && e.getFormattedMessage().contains("attempt"))
        .hasSizeGreaterThanOrEqualTo(4);
  }

  @Test
  void logsCarryTheRequestIdInTheMdc() {
    server.enqueue(json(503, "{}"));
    server.enqueue(chatOk());
    ChatResponse response = client.chat(ChatRequest.of("hi"), USER);

    assertThat(logs.events("dev.llmgateway.LlmGatewayClient"))
        .isNotEmpty()
        .allSatisfy(e -> assertThat(e.getMDCPropertyMap()).containsEntry(LlmGatewayClient.DEFAULT_MDC_KEY, response.requestId()));
  }

  @Test
  void streamLogsAndListenerCallbacksCarryTheRequestIdWhileTheCallersMdcStaysBetweenEvents() {
    List<String> seenByListener = new CopyOnWriteArrayList<>();
    useClient(client.newBuilder().listener(new GatewayListener() {
      @Override
      public void firstEvent(CallInfo call, Duration sinceCallStart) {
        seenByListener.add("firstEvent " + MDC.get(LlmGatewayClient.DEFAULT_MDC_KEY));
      }

      @Override
      public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
        seenByListener.add("callEnd " + MDC.get(LlmGatewayClient.DEFAULT_MDC_KEY));
      }
    }));
    // A skipped event after the first one logs a warning from the middle of the stream.
    server.enqueue(ChatStreamTest.sse(ChatStreamTest.SESSION + ChatStreamTest.HELLO + "data: not json\n\n"
        + ChatStreamTest.WORLD + ChatStreamTest.DONE + ChatStreamTest.END));
    MDC.put(LlmGatewayClient.DEFAULT_MDC_KEY, "the-hosts-own");
    List<String> betweenEvents = new ArrayList<>();
    String requestId;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, StreamOptions.builder().callOptions(CallOptions.withRequestId("stream-1")).build())) {
      requestId = stream.requestId();
      for (StreamEvent ignored : stream) {
        betweenEvents.add(MDC.get(LlmGatewayClient.DEFAULT_MDC_KEY));
      }
      betweenEvents.add(MDC.get(LlmGatewayClient.DEFAULT_MDC_KEY));
    } finally {
      MDC.clear();
    }

    assertThat(requestId).isEqualTo("stream-1");
    assertThat(betweenEvents).hasSize(5).containsOnly("the-hosts-own");
    assertThat(seenByListener).containsExactly("firstEvent stream-1", "callEnd stream-1");
    assertThat(logs.events("dev.llmgateway.LlmGatewayClient"))
        .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("Skipped a stream event"))
        .allSatisfy(e -> assertThat(e.getMDCPropertyMap()).containsEntry(LlmGatewayClient.DEFAULT_MDC_KEY, "stream-1"));
  }

  @Test
  void plainStreamEventsAfterTheFirstLeaveTheMdcUntouched() {
    // Logback rebuilds its read-only MDC copy after every put or remove: the same copy after each
    // later event means the SDK wrote nothing to the MDC for it (the per-event cost this avoids).
    LogbackMDCAdapter mdc = (LogbackMDCAdapter) MDC.getMDCAdapter();
    server.enqueue(ChatStreamTest.sse(ChatStreamTest.SESSION + ChatStreamTest.HELLO + ChatStreamTest.WORLD
        + ChatStreamTest.HELLO + ChatStreamTest.DONE + ChatStreamTest.END));
    MDC.put("host_key", "host-value");
    List<Map<String, String>> copies = new ArrayList<>();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      for (StreamEvent ignored : stream) {
        copies.add(mdc.getPropertyMap());
      }
    } finally {
      MDC.clear();
    }

    assertThat(copies).hasSize(5).allSatisfy(copy -> assertThat(copy).isSameAs(copies.get(0)));
    assertThat(copies.get(0)).containsExactly(Map.entry("host_key", "host-value"));
  }

  @Test
  void queryIsLoggedOnlyAsAFiftyCharacterPreview() {
    String query = "Find engineers " + "x".repeat(100) + " END-OF-QUERY";
    server.enqueue(chatOk());
    client.chat(ChatRequest.of(query), USER);

    assertThat(logs.allText()).doesNotContain("END-OF-QUERY").contains(query.substring(0, 49) + "\u2026")
        .doesNotContain(query.substring(0, 50));
  }

  @Test
  void auditLineGoesToItsOwnLoggerAsKeyValues() {
    server.enqueue(chatOk());
    ChatResponse response = client.chat(ChatRequest.of("Find \"quoted\"\ninjected=1"), USER);

    assertThat(logs.events(AuditSink.LOGGER_NAME)).singleElement().satisfies(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.INFO);
      assertThat(e.getFormattedMessage())
          .startsWith("action=chat outcome=success request_id=" + response.requestId() + " user_id=123 company_id=456 status=200 ")
          .contains(" attempts=1 prompt_tokens=120 completion_tokens=48 total_tokens=168 ")
          .endsWith("query=\"Find \\\"quoted\\\" injected=1\"")
          .doesNotContain("\n");
    });
  }

  @Test
  void auditValuesWithSpacesAreQuoted() {
    server.enqueue(chatOk());
    client.chat(ChatRequest.of("Find engineers"), USER);

    assertThat(logs.events(AuditSink.LOGGER_NAME)).singleElement()
        .satisfies(e -> assertThat(e.getFormattedMessage()).endsWith(" query=\"Find engineers\""));
  }

  @Test
  void insecureHttpToARemoteHostWarnsOnce() {
    try (LlmGatewayClient a = LlmGatewayClient.builder().baseUrl("http://llm-warn-test.example").serviceToken(TOKEN).build();
        LlmGatewayClient b = LlmGatewayClient.builder().baseUrl("http://llm-warn-test.example").serviceToken(TOKEN).build();
        LlmGatewayClient c = LlmGatewayClient.builder().baseUrl("http://127.0.0.1:9").serviceToken(TOKEN).build();
        LlmGatewayClient d = LlmGatewayClient.builder().baseUrl("https://llm-secure.example").serviceToken(TOKEN).build()) {
      assertThat(logs.events("dev.llmgateway.LlmGatewayClient"))
          .filteredOn(e -> e.getLevel() == Level.WARN)
          .singleElement()
          .satisfies(e -> assertThat(e.getFormattedMessage()).contains("llm-warn-test.example").contains("plain http"));
      assertThat(a.baseUrl().host()).isEqualTo(b.baseUrl().host());
      assertThat(c.isSandbox()).isFalse();
      assertThat(d.baseUrl().isHttps()).isTrue();
    }
  }
}
