package dev.llmgateway;

import static dev.llmgateway.ChatStreamTest.DONE;
import static dev.llmgateway.ChatStreamTest.END;
import static dev.llmgateway.ChatStreamTest.HELLO;
import static dev.llmgateway.ChatStreamTest.SESSION;
import static dev.llmgateway.TestSupport.USER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.testkit.SseResponses;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;

class StreamConcurrencyTest extends MockServerTest {

  @Test
  void fiveHundredStreamsToOneHostAllProgressTogether() throws Exception {
    int streams = 500;
    CountDownLatch allFirstEvents = new CountDownLatch(streams);
    CountDownLatch finish = new CountDownLatch(1);
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        // No stream may finish before every stream has had its first event.
        return SseResponses.paused(SESSION, finish, HELLO + DONE + END, 1, new CountDownLatch(1));
      }
    });
    useClient(clientBuilder().maxConcurrentRequests(streams + 10));
    List<StreamCallbackTest.Recorder> recorders = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      StreamCallbackTest.Recorder recorder = new StreamCallbackTest.Recorder() {
        @Override
        public void onEvent(StreamEvent event) {
          super.onEvent(event);
          if (event instanceof StreamEvent.SessionStarted) {
            allFirstEvents.countDown();
          }
        }
      };
      recorders.add(recorder);
      client.chatStream(ChatRequest.of("hi " + i), USER, recorder);
    }
    try {
      assertThat(allFirstEvents.await(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      finish.countDown();
    }
    for (StreamCallbackTest.Recorder recorder : recorders) {
      recorder.await();
      assertThat(recorder.completion).isNotNull();
      assertThat(recorder.completion.text()).isEqualTo("Hello");
    }
  }

  @Test
  void aThousandStreamsOpenedAndClosedInSequenceLeaveNothingBehind() throws Exception {
    for (int i = 0; i < 1000; i++) {
      server.enqueue(SseResponses.sse(SESSION + HELLO + DONE + END));
    }
    okhttp3.ConnectionPool pool = new okhttp3.ConnectionPool();
    useClient(clientBuilder().okHttpClient(new okhttp3.OkHttpClient.Builder().connectionPool(pool).build()));
    int threadsBefore = Thread.activeCount();
    for (int i = 0; i < 1000; i++) {
      try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
        if (i % 2 == 0) {
          assertThat(stream.text()).isEqualTo("Hello");
        } else {
          stream.iterator().next(); // closed early: cancelled
        }
      }
    }
    assertThat(pool.connectionCount() - pool.idleConnectionCount()).isZero();
    assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore + 5);
    assertThat(audit.events).hasSize(1000);
    assertThat(audit.events).filteredOn(e -> e.outcome() == AuditEvent.Outcome.SUCCESS).hasSize(500);
    assertThat(audit.events).filteredOn(e -> e.outcome() == AuditEvent.Outcome.CANCELLED).hasSize(500);
  }
}
