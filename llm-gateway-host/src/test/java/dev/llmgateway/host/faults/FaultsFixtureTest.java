package dev.llmgateway.host.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Operation;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.internal.Heartbeat;
import dev.llmgateway.host.internal.RelayTimer;
import dev.llmgateway.internal.Watchdog;
import dev.llmgateway.sse.SseWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/** {@link NoLeaks} fails for each kind of leak it is meant to catch, so a passing fault test means something. */
class FaultsFixtureTest {
  private static final UserContext USER = UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();

  @Test
  void aThreadStillRunningIsALeak() throws Exception {
    NoLeaks leaks = new NoLeaks(100);
    CountDownLatch stop = new CountDownLatch(1);
    Thread leaked = new Thread(() -> {
      try {
        stop.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "leaked-by-a-test");
    leaked.start();
    try {
      assertThat(catchThrowable(leaks::verify)).isInstanceOf(AssertionError.class).hasMessageContaining("leaked-by-a-test");
    } finally {
      stop.countDown();
      leaked.join(5_000);
    }
  }

  @Test
  void aStreamLeftOpenIsALeakedCallAndConnection() throws Exception {
    NoLeaks leaks = new NoLeaks(100);
    MockWebServer service = leaks.closeBeforeChecking(new MockWebServer());
    service.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "text/event-stream")
        .body("data: {\"type\":\"session\",\"session_id\":\"s\",\"message_id\":\"m\"}\n\n").build());
    service.start();
    LlmGatewayClient client = leaks.closeBeforeChecking(LlmGatewayClient.builder().baseUrl(service.url("/").toString())
        .serviceToken("t").environment(name -> null).okHttpClient(leaks.http().build())
        .auditSink(AuditSink.none()).retryPolicy(RetryPolicy.none()).build());
    ChatStream open = client.chatStream(ChatRequest.of("hi"), USER);
    try {
      assertThat(catchThrowable(leaks::verify)).isInstanceOf(AssertionError.class)
          .hasMessageContaining("HTTP calls started but never ended");
    } finally {
      open.close();
    }
  }

  @Test
  void aCallThatEndsOnItsDispatcherThreadJustAfterTheTestIsNotALeak() throws Exception {
    NoLeaks leaks = new NoLeaks();
    // Closed first by verify() (closing runs last to first): from then on, the checks race the call's end.
    CountDownLatch checking = new CountDownLatch(1);
    leaks.closeBeforeChecking(checking::countDown);
    CountDownLatch arrived = new CountDownLatch(1);
    RawServer raw = leaks.closeBeforeChecking(new RawServer(socket -> {
      arrived.countDown();
      socket.setSoTimeout(30_000);
      socket.getInputStream().read(); // never answers; returns when the client closes
    }));
    // Holds the cancelled call on its dispatcher thread until the checks have begun, as a loaded
    // machine may: OkHttp reports callFailed only when the interceptors return.
    OkHttpClient http = leaks.http().addInterceptor(chain -> {
      try {
        return chain.proceed(chain.request());
      } catch (IOException cancelled) {
        try {
          checking.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw cancelled;
      }
    }).build();
    LlmGatewayClient client = leaks.closeBeforeChecking(LlmGatewayClient.builder().baseUrl(raw.url())
        .serviceToken("t").environment(name -> null).okHttpClient(http)
        .auditSink(AuditSink.none()).retryPolicy(RetryPolicy.none()).build());

    CompletableFuture<ChatResponse> future = client.chatAsync(ChatRequest.of("hi"), USER);
    assertThat(arrived.await(5, TimeUnit.SECONDS)).as("the request reached the server").isTrue();
    future.cancel(true);

    leaks.verify();
    assertThat(leaks.callsStarted()).isEqualTo(1);
  }

  @Test
  void aTimerLeftArmedOnTheWatchdogIsALeak() {
    NoLeaks leaks = new NoLeaks(100);
    ScheduledFuture<?> armed = Watchdog.schedule(Duration.ofMinutes(10), () -> { });
    try {
      assertThat(catchThrowable(leaks::verify)).isInstanceOf(AssertionError.class)
          .hasMessageContaining("still armed");
    } finally {
      armed.cancel(false);
    }
  }

  @Test
  void aTimerLeftArmedOnTheRelaysTimerIsALeak() {
    NoLeaks leaks = new NoLeaks(100);
    Future<?> armed = RelayTimer.schedule(Duration.ofMinutes(10), () -> { });
    try {
      assertThat(catchThrowable(leaks::verify)).isInstanceOf(AssertionError.class)
          .hasMessageContaining("relay heartbeats still armed");
    } finally {
      armed.cancel(false);
    }
  }

  @Test
  void aHeartbeatStillBeingWrittenIsALeak() throws Exception {
    NoLeaks leaks = new NoLeaks(100);
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch stop = new CountDownLatch(1);
    OutputStream stoppedReading = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        writing.countDown();
        try {
          stop.await(10, TimeUnit.SECONDS); // a browser whose TCP window is full
        } catch (InterruptedException e) {
          throw new java.io.InterruptedIOException();
        }
      }
    };
    Heartbeat heartbeat = Heartbeat.start(SseWriter.create(stoppedReading), Duration.ofMillis(1), RelayTimer.SCHEDULER, () -> { });
    assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
    try {
      assertThat(catchThrowable(leaks::verify)).isInstanceOf(AssertionError.class)
          .hasMessageContaining("relay heartbeats still being written");
    } finally {
      stop.countDown();
      heartbeat.stop();
    }
  }

  @Test
  void anOpenReservationIsALeak() {
    NoLeaks leaks = new NoLeaks(100);
    leaks.ledger().deposit("u1", 10);
    leaks.countingLedger().reserve(USER, Operation.CHAT, 5, null);

    assertThat(catchThrowable(leaks::verify)).isInstanceOf(AssertionError.class)
        .hasMessageContaining("settlements of reservation").hasMessageContaining("Expected size: 1 but was: 0");
  }

  @Test
  void aReservationSettledTwiceIsCaught() {
    NoLeaks leaks = new NoLeaks(100);
    leaks.ledger().deposit("u1", 10);
    CreditLedger ledger = leaks.countingLedger();
    Reservation reservation = ledger.reserve(USER, Operation.CHAT, 5, null);
    ledger.commit(reservation, 5);
    ledger.release(reservation, "a second settlement");

    assertThat(catchThrowable(leaks::verify)).isInstanceOf(AssertionError.class).hasMessageContaining("settlements of reservation");
  }
}
