package dev.llmgateway.compat;

import static dev.llmgateway.compat.Wire.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.host.ChatEvent;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.ErrorMapper;
import dev.llmgateway.host.ErrorResponse;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.InsufficientCreditsException;
import dev.llmgateway.host.RelayResult;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** ChatGateway with the in-memory ledger: settlement, the SSE relay through SseWriter, the error envelope. */
class HostCompatTest {
  private final MockWebServer service = new MockWebServer();
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private final List<Settlement> settlements = new CopyOnWriteArrayList<>();
  private LlmGatewayClient client;
  private ChatGateway gateway;

  @BeforeEach
  void start() throws IOException {
    service.start();
    client = Wire.client(service, Wire.sleeps()).auditSink(AuditSink.none()).build();
    gateway = ChatGateway.builder().client(client).ledger(ledger)
        .settlementListener(e -> settlements.add(e.settlement())).build();
  }

  @AfterEach
  void stop() {
    gateway.close();
    client.close();
    service.close();
  }

  @Test
  void aSyncChatCommitsItsReservationOnce() {
    ledger.deposit("123", 100);
    service.enqueue(Wire.json(200, Wire.CHAT));

    assertThat(gateway.chat(USER, ChatRequest.of("hi")).answer()).isEqualTo("I found 1 candidate");

    assertThat(settlements).containsExactly(Settlement.COMMITTED);
    assertThat(ledger.pendingCount()).isZero();
    assertThat(ledger.balance("123")).isLessThan(100);
  }

  @Test
  void aStreamIsRelayedAsServerSentEventsThatReadBack() throws IOException {
    ledger.deposit("123", 100);
    service.enqueue(Wire.eventStream(Wire.STREAM));
    ByteArrayOutputStream browser = new ByteArrayOutputStream();
    List<Map<String, String>> sentHeaders = new ArrayList<>();

    RelayResult result = gateway.stream(USER, ChatRequest.of("hi"), headers -> {
      sentHeaders.add(headers);
      return browser;
    });

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(result.text()).isEqualTo("Hello world");
    assertThat(sentHeaders).singleElement().satisfies(h -> assertThat(h).containsEntry("Content-Type", "text/event-stream; charset=utf-8"));
    List<ServerSentEvent> events = new ArrayList<>();
    try (SseReader reader = SseReader.create(new ByteArrayInputStream(browser.toByteArray()))) {
      for (ServerSentEvent e = reader.next(); e != null; e = reader.next()) {
        events.add(e);
      }
    }
    assertThat(events).extracting(ServerSentEvent::type).containsExactly("chunk", "chunk", "chunk", "chunk", "chunk", "complete");
    JsonNode complete = new ObjectMapper().readTree(events.get(5).data());
    assertThat(complete.get("usage").get("total_tokens").asInt()).isEqualTo(7);
    assertThat(settlements).containsExactly(Settlement.COMMITTED);
  }

  @Test
  void aBackgroundChatsEventsAreOneLineJsonThatReadsBack() throws Exception {
    ledger.deposit("123", 100);
    service.enqueue(Wire.eventStream(Wire.STREAM));
    List<ChatEvent> published = new CopyOnWriteArrayList<>();
    try (ChatGateway background = ChatGateway.builder().client(client).ledger(ledger)
        .settlementListener(e -> settlements.add(e.settlement())).eventPublisher(published::add).build()) {

      background.chatInBackground(USER, ChatRequest.of("hi \"there\"")).completion().get(10, TimeUnit.SECONDS);
    }

    assertThat(published).extracting(ChatEvent::type).containsExactly("started", "token", "token", "completed");
    ObjectMapper json = new ObjectMapper();
    assertThat(json.readTree(published.get(1).toJson()).get("text").asText()).isEqualTo("Hello");
    JsonNode completed = json.readTree(published.get(3).toJson());
    assertThat(completed.get("answer").asText()).isEqualTo("Hello world");
    assertThat(completed.get("session_id").asText()).isEqualTo("sess_1");
    assertThat(completed.get("credits").asLong()).isEqualTo(1);
    assertThat(settlements).containsExactly(Settlement.COMMITTED);
  }

  @Test
  void tooFewCreditsIsRefusedBeforeTheServiceAndMappedToTheEnvelope() throws IOException {
    InsufficientCreditsException e = catchThrowableOfType(InsufficientCreditsException.class,
        () -> gateway.chat(USER, ChatRequest.of("hi")));
    ErrorResponse response = ErrorMapper.ofDefaults().toResponse(e);

    assertThat(service.getRequestCount()).isZero();
    assertThat(response.status()).isEqualTo(402);
    assertThat(new ObjectMapper().readTree(response.toJson()).get("data").get("available").asLong()).isZero();
  }
}
