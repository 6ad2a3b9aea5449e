package dev.llmgateway.host;

import static dev.llmgateway.host.RelayFixtures.FULL;
import static dev.llmgateway.host.RelayFixtures.SESSION;
import static dev.llmgateway.host.RelayFixtures.USER;
import static dev.llmgateway.host.RelayFixtures.paused;
import static dev.llmgateway.host.RelayFixtures.sse;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The relay in a plain JDK HttpServer handler, as the README shows it, read by a real HTTP client. */
class SseRelayHttpServerTest extends MockServerTest {
  private final BlockingQueue<RelayResult> results = new ArrayBlockingQueue<>(4);
  private final OkHttpClient browser = new OkHttpClient();
  private HttpServer host;

  @BeforeEach
  void startHost() throws Exception {
    host = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    host.createContext("/chat/stream", exchange -> {
      try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
        results.add(SseRelay.ofDefaults().relay(stream, headers -> {
          headers.forEach(exchange.getResponseHeaders()::set);
          exchange.sendResponseHeaders(200, 0);
          return exchange.getResponseBody();
        }));
      } catch (LlmGatewayException e) {
        // Nothing was sent: refused, or failed before the first event. A real host maps e.
        exchange.sendResponseHeaders(502, -1);
      } finally {
        exchange.close();
      }
    });
    host.start();
  }

  @AfterEach
  void stopHost() {
    host.stop(0);
    browser.dispatcher().executorService().shutdown();
    browser.connectionPool().evictAll();
  }

  private Request request() {
    return new Request.Builder().url("http://127.0.0.1:" + host.getAddress().getPort() + "/chat/stream").build();
  }

  @Test
  void browserReceivesTheRelayedEvents() throws Exception {
    server.enqueue(sse(FULL));
    List<String> types = new ArrayList<>();
    try (Response response = browser.newCall(request()).execute()) {
      assertThat(response.header("Content-Type")).isEqualTo("text/event-stream; charset=utf-8");
      assertThat(response.header("X-Accel-Buffering")).isEqualTo("no");
      SseReader reader = SseReader.create(response.body().source());
      for (ServerSentEvent e = reader.next(); e != null; e = reader.next()) {
        types.add(e.type());
      }
    }
    assertThat(types).endsWith("complete").contains("chunk");
    assertThat(results.poll(10, TimeUnit.SECONDS).outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
  }

  @Test
  void aStreamThatFailsBeforeItsFirstEventIsAnErrorStatusNotAnEventStream() throws Exception {
    server.enqueue(sse("data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"busy\",\"retryable\":true}\n\n"));
    try (Response response = browser.newCall(request()).execute()) {
      assertThat(response.code()).isEqualTo(502);
      assertThat(response.header("Content-Type")).isNull();
    }
    assertThat(results).isEmpty();
  }

  @Test
  void browserThatLeavesCancelsTheUpstreamStream() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch upstreamClosed = new CountDownLatch(1);
    // After the browser leaves, the upstream keeps sending tokens (padded with 8 KiB comments so
    // that it cannot finish into socket buffers before the relay notices): a relay write fails.
    server.enqueue(paused(SESSION, release, RelayFixtures.HELLO + ": " + "x".repeat(8192) + "\n\n", upstreamClosed));
    Call call = browser.newCall(request());
    try (Response response = call.execute()) {
      SseReader reader = SseReader.create(response.body().source());
      assertThat(reader.next()).isNotNull(); // the first chunk arrived: the relay is running
      call.cancel(); // the browser tab closes
    }
    release.countDown();

    assertThat(upstreamClosed.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(results.poll(10, TimeUnit.SECONDS).outcome()).isEqualTo(RelayResult.Outcome.CLIENT_DISCONNECTED);
  }
}
