package dev.llmgateway;

import static dev.llmgateway.ChatStreamTest.FULL;
import static dev.llmgateway.ChatStreamTest.HELLO;
import static dev.llmgateway.ChatStreamTest.SESSION;
import static dev.llmgateway.ChatStreamTest.paused;
import static dev.llmgateway.ChatStreamTest.sse;
import static dev.llmgateway.TestSupport.USER;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import dev.llmgateway.testkit.LeavingBrowser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SseRelayTest extends MockServerTest {
  private final ObjectMapper mapper = new ObjectMapper();

  private static List<ServerSentEvent> read(byte[] bytes) throws IOException {
    List<ServerSentEvent> events = new ArrayList<>();
    try (SseReader reader = SseReader.create(new ByteArrayInputStream(bytes))) {
      for (ServerSentEvent e = reader.next(); e != null; e = reader.next()) {
        events.add(e);
      }
    }
    return events;
  }

  @Test
  void relaysChunksThenCompleteAfterAnnouncingRetry() throws Exception {
    server.enqueue(sse(FULL));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RelayResult result;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      result = SseRelay.ofDefaults().relay(stream, out);
    }

    String raw = out.toString(StandardCharsets.UTF_8);
    assertThat(raw).startsWith("retry: 300\n");
    assertThat(raw).contains("event: chunk\ndata: {\"type\":\"token\",\"content\":\"Hello\"}\n\n");
    List<ServerSentEvent> events = read(out.toByteArray());
    assertThat(events).extracting(ServerSentEvent::type)
        .containsExactly("chunk", "chunk", "chunk", "chunk", "chunk", "chunk", "chunk", "complete");
    JsonNode complete = mapper.readTree(events.get(7).data());
    assertThat(complete.get("done").asBoolean()).isTrue();
    assertThat(complete.get("session_id").asText()).isEqualTo("sess_1");
    assertThat(complete.get("usage").get("total_tokens").asInt()).isEqualTo(7);
    assertThat(complete.get("request_id").asText()).isEqualTo(result.completion().requestId());
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(result.text()).isEqualTo("Hello world");
  }

  @Test
  void relayedChunksReadBackAsTheOriginalEvents() throws Exception {
    server.enqueue(sse(FULL));
    server.enqueue(sse(FULL));
    List<String> original = new ArrayList<>();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      stream.forEach(e -> original.add(e.json()));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      SseRelay.ofDefaults().relay(stream, out);
    }
    assertThat(read(out.toByteArray())).filteredOn(e -> e.type().equals("chunk")).extracting(ServerSentEvent::data)
        .containsExactlyElementsOf(original);
  }

  @Test
  void upstreamFailureBecomesAnErrorEventWithoutInternals() throws Exception {
    server.enqueue(sse(SESSION + HELLO
        + "data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"internal trace at 10.0.0.7\",\"retryable\":true}\n\n"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RelayResult result;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      result = SseRelay.ofDefaults().relay(stream, out);
    }

    List<ServerSentEvent> events = read(out.toByteArray());
    ServerSentEvent error = events.get(events.size() - 1);
    assertThat(error.type()).isEqualTo("error");
    JsonNode envelope = mapper.readTree(error.data());
    assertThat(envelope.get("success").asBoolean()).isFalse();
    assertThat(envelope.get("meta").get("code").asText()).isEqualTo("model_overloaded");
    assertThat(envelope.get("meta").get("retryable").asBoolean()).isTrue();
    assertThat(error.data()).doesNotContain("10.0.0.7").doesNotContain(server.url("/").host() + ":");
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertThat(result.failure()).isInstanceOf(StreamErrorException.class);
    assertThat(result.text()).isEqualTo("Hello");
  }

  @Test
  void theTextOfABrowserGoneIsWhatItWasSentNotTheTokenWhoseWriteFailed() {
    server.enqueue(sse(FULL));
    OutputStream leavesAtTheSecondToken = LeavingBrowser.onText(" world");
    RelayResult result;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      result = SseRelay.ofDefaults().relay(stream, leavesAtTheSecondToken);
    }

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    assertThat(result.text()).as("what the host charges for").isEqualTo("Hello");
  }

  @Test
  void browserGoneCancelsTheUpstreamCall() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    server.enqueue(paused(SESSION + HELLO, release, HELLO + "x".repeat(8192) + "\n", serverSawClose));
    OutputStream browser = LeavingBrowser.afterBytes(60);
    RelayResult result;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      result = SseRelay.ofDefaults().relay(stream, browser);
    }
    release.countDown();

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    assertThat(serverSawClose.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(audit.events).singleElement().satisfies(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.CANCELLED));
  }

  @Test
  void quietUpstreamGetsHeartbeatsAndAGoneBrowserIsNoticedByThem() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    server.enqueue(paused(SESSION, release, HELLO + "x".repeat(8192) + "\n", serverSawClose));
    LeavingBrowser browser = LeavingBrowser.afterText(": ping\n"); // leaves after the first heartbeat
    SseRelay relay = SseRelay.builder().heartbeat(Duration.ofMillis(50)).build();
    RelayResult result;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      result = relay.relay(stream, browser);
    }
    release.countDown();

    assertThat(browser.received()).contains(": ping\n");
    assertThat(browser.hasLeft()).isTrue();
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    assertThat(serverSawClose.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void responseHeadersForHosts() {
    assertThat(SseRelay.RESPONSE_HEADERS)
        .containsEntry("Content-Type", "text/event-stream; charset=utf-8")
        .containsEntry("Cache-Control", "no-cache")
        .containsEntry("X-Accel-Buffering", "no")
        .containsEntry("Connection", "keep-alive");
  }
}
