package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AsyncTest extends MockServerTest {


  @Test
  void chatAsyncCompletesWithTheAnswer() throws Exception {
    server.enqueue(chatOk());
    ChatResponse response = client.chatAsync(ChatRequest.of("hi"), USER).get(10, TimeUnit.SECONDS);
    assertThat(response.answer()).isEqualTo("I found 3 candidates");
  }

  @Test
  void chatAsyncRetriesWithTheSameIdsWithoutBlocking() throws Exception {
    server.enqueue(json(503, "{}"));
    server.enqueue(chatOk());

    ChatResponse response = client.chatAsync(ChatRequest.of("hi"), USER).get(10, TimeUnit.SECONDS);

    RecordedRequest first = server.takeRequest();
    RecordedRequest second = server.takeRequest();
    assertThat(second.getHeaders().get("X-Request-Id")).isEqualTo(first.getHeaders().get("X-Request-Id")).isEqualTo(response.requestId());
    assertThat(second.getHeaders().get("Idempotency-Key")).isEqualTo(first.getHeaders().get("Idempotency-Key"));
    assertThat(time.sleeps).hasSize(1);
  }

  @Test
  void chatAsyncRetriesANetworkFailureThenCompletes() throws Exception {
    server.enqueue(TestSupport.resetBeforeTheResponse());
    server.enqueue(chatOk());

    ChatResponse response = client.chatAsync(ChatRequest.of("hi"), USER).get(10, TimeUnit.SECONDS);

    assertThat(response.answer()).isEqualTo("I found 3 candidates");
    assertThat(time.sleeps).hasSize(1);
  }

  @Test
  void chatAsyncFailsWithTheTypedException() {
    server.enqueue(json(404, "{\"detail\":\"Session not found\"}"));
    CompletableFuture<ChatResponse> future = client.chatAsync(ChatRequest.of("hi"), USER);
    assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(NotFoundException.class);
  }

  @Test
  void cancellingTheFutureClosesTheConnectionAtTheServer() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      useClient(clientBuilder().auditSink(audit)
          .baseUrl("http://127.0.0.1:" + listener.getLocalPort() + "/"));
      CompletableFuture<ChatResponse> future = client.chatAsync(ChatRequest.of("hi"), USER);

      try (Socket socket = listener.accept()) {
        InputStream in = socket.getInputStream();
        readUntilBlankLine(in);
        // The request arrived and no answer was sent: now the host gives up.
        future.cancel(true);

        socket.setSoTimeout(10_000);
        int next = in.read();
        while (next != -1) {
          next = in.read();
        }
        assertThat(next).isEqualTo(-1);
      }
      assertThatThrownBy(future::get).isInstanceOf(CancellationException.class);
    }
    assertThat(audit.events).singleElement().satisfies(e -> assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.CANCELLED));
  }

  @Test
  void cancellationIsNotCountedByTheBreaker() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      client.close();
      CircuitBreaker breaker = CircuitBreaker.builder().failureThreshold(1).ticker(time).build();
      client = TestSupport.client(server, time).circuitBreaker(breaker)
          .baseUrl("http://127.0.0.1:" + listener.getLocalPort() + "/").build();
      CountDownLatch ended = new CountDownLatch(1);
      client = client.newBuilder().listener(new GatewayListener() {
        @Override
        public void attemptEnd(CallInfo call, int attempt, int status, java.time.Duration latency, LlmGatewayException failure) {
          ended.countDown();
        }
      }).build();
      CompletableFuture<ChatResponse> future = client.chatAsync(ChatRequest.of("hi"), USER);
      try (Socket socket = listener.accept()) {
        readUntilBlankLine(socket.getInputStream());
        future.cancel(true);
        assertThat(ended.await(10, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
  }

  private static void readUntilBlankLine(InputStream in) throws Exception {
    StringBuilder seen = new StringBuilder();
    while (!seen.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b == -1) {
        throw new AssertionError("connection closed before the request was complete");
      }
      seen.append((char) b);
    }
    assertThat(seen.toString().getBytes(StandardCharsets.ISO_8859_1).length).isPositive();
  }
}
