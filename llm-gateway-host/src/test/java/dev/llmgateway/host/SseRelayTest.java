package dev.llmgateway.host;

import static dev.llmgateway.host.RelayFixtures.FULL;
import static dev.llmgateway.host.RelayFixtures.HELLO;
import static dev.llmgateway.host.RelayFixtures.SESSION;
import static dev.llmgateway.host.RelayFixtures.USER;
import static dev.llmgateway.host.RelayFixtures.paused;
import static dev.llmgateway.host.RelayFixtures.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.AuditEvent;
import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallTimeoutException;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServiceRateLimitedException;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.StreamOptions;
import dev.llmgateway.TransportException;
import dev.llmgateway.host.internal.RelayTimer;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import dev.llmgateway.testkit.LeavingBrowser;
import dev.llmgateway.testkit.SseResponses;
import dev.llmgateway.testkit.StalledBrowser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
  void anErrorCodeThatIsNotAPlainCodeReachesTheBrowserAsUnknown() throws Exception {
    server.enqueue(sse(SESSION + HELLO
        + "data: {\"type\":\"error\",\"code\":\"see http://10.0.0.7:8000/trace\",\"message\":\"busy\",\"retryable\":true}\n\n"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      SseRelay.ofDefaults().relay(stream, out);
    }

    List<ServerSentEvent> events = read(out.toByteArray());
    ServerSentEvent error = events.get(events.size() - 1);
    assertThat(error.type()).isEqualTo("error");
    assertThat(mapper.readTree(error.data()).get("meta").get("code").asText()).isEqualTo("unknown");
    assertThat(error.data()).doesNotContain("10.0.0.7");
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
    assertThat(audit).singleElement().satisfies(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.CANCELLED));
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
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aBrowserThatStopsReadingHoldsUpNoOtherStreamsTimers() throws Exception {
    // Far more than the socket buffers hold: the relay's thread ends up stuck in a socket write.
    String bigToken = "data: {\"type\":\"token\",\"content\":\"" + "x".repeat(16 * 1024) + "\"}\n\n";
    server.enqueue(sse(SESSION + bigToken.repeat(128) + RelayFixtures.DONE + RelayFixtures.END));
    CountDownLatch releaseOther = new CountDownLatch(1);
    server.enqueue(SseResponses.stalled(": no event yet\n\n", releaseOther));
    SseRelay relay = SseRelay.builder().heartbeat(Duration.ofMillis(20)).build();
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try (StalledBrowser browser = StalledBrowser.connect();
        LlmGatewayClient noRetries = clientBuilder().retryPolicy(RetryPolicy.none()).build()) {
      Future<RelayResult> stuck = threads.submit(() -> {
        try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
          return relay.relay(stream, browser.body());
        }
      });

      // Rounds on the relays' shared timer thread until the relay has been stuck in one write for
      // three of them (60 heartbeat intervals): a heartbeat written from the timer thread would block it.
      int stuckRounds = 0;
      long returned = -1;
      for (int round = 0; round < 500 && stuckRounds < 3; round++) {
        CountDownLatch fired = new CountDownLatch(1);
        RelayTimer.schedule(Duration.ofMillis(20), fired::countDown);
        assertThat(fired.await(10, TimeUnit.SECONDS)).as("the timer thread every relay shares still fires").isTrue();
        boolean sameWrite = browser.writing() && browser.writesReturned() == returned;
        stuckRounds = sameWrite ? stuckRounds + 1 : 0;
        returned = browser.writesReturned();
      }
      assertThat(stuckRounds).as("the relay got stuck writing to the browser").isEqualTo(3);

      Future<Throwable> other = threads.submit(() -> {
        try (ChatStream stream = noRetries.chatStream(ChatRequest.of("hi"), USER,
            StreamOptions.builder().firstEventTimeout(Duration.ofMillis(100)).build())) {
          return catchThrowable(() -> stream.iterator().hasNext());
        }
      });
      assertThat(other.get(10, TimeUnit.SECONDS)).as("another stream's first-event limit fires")
          .isInstanceOfSatisfying(CallTimeoutException.class,
              e -> assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.FIRST_EVENT));

      browser.close();
      assertThat(stuck.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    } finally {
      releaseOther.countDown();
      threads.shutdownNow();
    }
  }

  @Test
  void theLazyResponseStartsWithTheFirstEventAndRelaysTheRest() throws Exception {
    server.enqueue(sse(FULL));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<Map<String, String>> starts = new ArrayList<>();
    RelayResult result;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      result = SseRelay.ofDefaults().relay(stream, headers -> {
        starts.add(headers);
        return out;
      });
    }

    assertThat(starts).containsExactly(SseRelay.RESPONSE_HEADERS);
    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("retry: 300\nevent: chunk\ndata: {\"type\":\"session\"");
    assertThat(read(out.toByteArray())).extracting(ServerSentEvent::type).endsWith("chunk", "complete").hasSize(8);
  }

  @Test
  void anErrorEventBeforeTheFirstEventIsThrownAndTheResponseNeverStarts() {
    server.enqueue(sse("data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"busy\",\"retryable\":true}\n\n"));
    AtomicInteger starts = new AtomicInteger();
    Throwable thrown;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      thrown = catchThrowable(() -> SseRelay.ofDefaults().relay(stream, headers -> {
        starts.incrementAndGet();
        return new ByteArrayOutputStream();
      }));
    }

    assertThat(thrown).isInstanceOfSatisfying(StreamErrorException.class,
        e -> assertThat(e.code()).isEqualTo("model_overloaded"));
    assertThat(starts.get()).isZero();
  }

  @Test
  void noFirstEventInTimeIsThrownAndTheResponseNeverStarts() {
    useClient(clientBuilder().retryPolicy(RetryPolicy.none()));
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(SseResponses.stalled(": ping\n\n", release));
    AtomicInteger starts = new AtomicInteger();
    Throwable thrown;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER,
        StreamOptions.builder().firstEventTimeout(Duration.ofMillis(100)).build())) {
      thrown = catchThrowable(() -> SseRelay.ofDefaults().relay(stream, headers -> {
        starts.incrementAndGet();
        return new ByteArrayOutputStream();
      }));
    } finally {
      release.countDown();
    }

    assertThat(thrown).isInstanceOfSatisfying(CallTimeoutException.class,
        e -> assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.FIRST_EVENT));
    assertThat(starts.get()).isZero();
  }

  @Test
  void aFailureAfterTheFirstEventIsAnErrorEventOnTheStartedResponse() throws Exception {
    server.enqueue(sse(SESSION + "data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"busy\",\"retryable\":true}\n\n"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RelayResult result;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      result = SseRelay.ofDefaults().relay(stream, headers -> out);
    }

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.FAILED);
    assertThat(read(out.toByteArray())).extracting(ServerSentEvent::type).containsExactly("chunk", "error");
  }

  @Test
  void aResponseThatCannotStartIsABrowserGoneAndCancelsTheStream() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    server.enqueue(paused(SESSION, release, HELLO + "x".repeat(8192) + "\n", serverSawClose));
    RelayResult result;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      result = SseRelay.ofDefaults().relay(stream, headers -> {
        throw new IOException("Broken pipe");
      });
    }
    release.countDown();

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
    assertThat(result.failure()).isInstanceOf(CallCancelledException.class);
    assertThat(result.text()).isEmpty();
    assertThat(serverSawClose.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aStreamCancelledFromAnotherThreadEndsTheRelayWithACancellation() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    server.enqueue(paused(SESSION + HELLO, release, HELLO + "x".repeat(8192) + "\n", serverSawClose));
    CountDownLatch helloSent = new CountDownLatch(1);
    ByteArrayOutputStream browser = new ByteArrayOutputStream() {
      @Override
      public synchronized void write(byte[] b, int off, int len) {
        super.write(b, off, len);
        if (toString(StandardCharsets.UTF_8).contains("Hello")) {
          helloSent.countDown();
        }
      }
    };
    ExecutorService host = Executors.newSingleThreadExecutor();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      Future<RelayResult> relayed = host.submit(() -> SseRelay.ofDefaults().relay(stream, browser));
      assertThat(helloSent.await(10, TimeUnit.SECONDS)).isTrue();
      stream.cancel(); // by the host, say: the user pressed stop
      RelayResult result = relayed.get(10, TimeUnit.SECONDS);

      assertThat(result.failure()).isInstanceOf(CallCancelledException.class);
      assertThat(result.text()).isEqualTo("Hello");
      assertThat(read(browser.toByteArray())).last()
          .satisfies(e -> assertThat(e.data()).contains("\"code\":\"cancelled\""));
    } finally {
      release.countDown();
      host.shutdownNow();
    }
    assertThat(serverSawClose.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void theErrorEventSaysRetryableExactlyWhenTheFailureIs() throws Exception {
    LlmGatewayException busy = new ServiceRateLimitedException(
        "m", 429, null, List.of(), "", null, Map.of(), "r", 3, true);
    LlmGatewayException slowButNotRetried = new CallTimeoutException(
        CallTimeoutException.Limit.IDLE, "m", "r", 1, null, false);
    LlmGatewayException unreachable = new TransportException("m", "r", 3, null, true);

    JsonNode busyMeta = mapper.readTree(SseRelay.defaultErrorJson(busy)).get("meta");
    JsonNode slowMeta = mapper.readTree(SseRelay.defaultErrorJson(slowButNotRetried)).get("meta");
    JsonNode unreachableMeta = mapper.readTree(SseRelay.defaultErrorJson(unreachable)).get("meta");

    assertThat(busyMeta.get("retryable").asBoolean()).isTrue();
    assertThat(slowMeta.get("code").asText()).isEqualTo("timeout");
    assertThat(slowMeta.get("retryable").asBoolean()).isFalse();
    assertThat(unreachableMeta.get("code").asText()).isEqualTo("unavailable");
    assertThat(unreachableMeta.get("retryable").asBoolean()).isTrue();
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
