package dev.llmgateway;

import static dev.llmgateway.ChatStreamTest.DONE;
import static dev.llmgateway.ChatStreamTest.END;
import static dev.llmgateway.ChatStreamTest.FULL;
import static dev.llmgateway.ChatStreamTest.HELLO;
import static dev.llmgateway.ChatStreamTest.SESSION;
import static dev.llmgateway.ChatStreamTest.paused;
import static dev.llmgateway.ChatStreamTest.sse;
import static dev.llmgateway.TestSupport.USER;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StreamCallbackTest extends MockServerTest {

  /** Records every callback and counts the terminal ones. */
  static class Recorder implements StreamListener {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final AtomicInteger terminal = new AtomicInteger();
    final CountDownLatch ended = new CountDownLatch(1);
    volatile LlmGatewayException error;
    volatile StreamCompletion completion;
    volatile String thread;

    @Override
    public void onEvent(StreamEvent event) {
      thread = Thread.currentThread().getName();
      calls.add("event " + event.type());
    }

    @Override
    public void onToken(String content) {
      calls.add("token " + content);
    }

    @Override
    public void onComplete(StreamCompletion completion) {
      this.completion = completion;
      terminal.incrementAndGet();
      ended.countDown();
    }

    @Override
    public void onError(LlmGatewayException error) {
      this.error = error;
      terminal.incrementAndGet();
      ended.countDown();
    }

    void await() throws InterruptedException {
      assertThat(ended.await(20, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void listenerGetsEventsTokensThenOneCompletion() throws Exception {
    server.enqueue(sse(FULL));
    Recorder recorder = new Recorder();
    StreamHandle handle = client.chatStream(ChatRequest.of("hi"), USER, recorder);
    recorder.await();

    assertThat(recorder.calls).containsExactly(
        "event session", "event intent", "event token", "token Hello", "event token", "token  world",
        "event candidates", "event action", "event done");
    assertThat(recorder.completion.text()).isEqualTo("Hello world");
    assertThat(recorder.terminal).hasValue(1);
    assertThat(recorder.error).isNull();
    assertThat(handle.completion().get(10, TimeUnit.SECONDS)).isEqualTo(recorder.completion);
    assertThat(recorder.thread).isNotEqualTo(Thread.currentThread().getName());
  }

  @Test
  void serviceErrorEventGivesExactlyOneOnError() throws Exception {
    server.enqueue(sse(SESSION + HELLO + "data: {\"type\":\"error\",\"code\":\"boom\",\"message\":\"x\",\"retryable\":false}\n\n"));
    Recorder recorder = new Recorder();
    client.chatStream(ChatRequest.of("hi"), USER, recorder);
    recorder.await();

    assertThat(recorder.error).isInstanceOf(StreamErrorException.class);
    assertThat(recorder.terminal).hasValue(1);
    assertThat(recorder.calls).contains("token Hello");
  }

  @Test
  void cutOffStreamGivesOnError() throws Exception {
    server.enqueue(sse(SESSION + HELLO));
    Recorder recorder = new Recorder();
    client.chatStream(ChatRequest.of("hi"), USER, recorder);
    recorder.await();
    assertThat(recorder.error).isInstanceOf(StreamInterruptedException.class);
    assertThat(recorder.terminal).hasValue(1);
  }

  @Test
  void upstreamHttpErrorGivesOnError() throws Exception {
    server.enqueue(TestSupport.json(401, "{\"detail\":\"bad token\"}"));
    Recorder recorder = new Recorder();
    client.chatStream(ChatRequest.of("hi"), USER, recorder);
    recorder.await();
    assertThat(recorder.error).isInstanceOf(AuthenticationException.class);
  }

  @Test
  void listenerThatThrowsEndsTheStreamWithOneOnErrorAndCancelsUpstream() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    server.enqueue(paused(SESSION, release, ": ping\n\n" + "x".repeat(8192) + "\n", serverSawClose));
    Recorder recorder = new Recorder() {
      @Override
      public void onEvent(StreamEvent event) {
        super.onEvent(event);
        throw new IllegalStateException("listener bug");
      }
    };
    client.chatStream(ChatRequest.of("hi"), USER, recorder);
    recorder.await();
    release.countDown();

    assertThat(recorder.error).hasMessageContaining("StreamListener threw").hasCauseInstanceOf(IllegalStateException.class);
    assertThat(recorder.terminal).hasValue(1);
    assertThat(serverSawClose.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void cancelFromInsideACallbackWorks() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(paused(SESSION + HELLO, release, HELLO, new CountDownLatch(1)));
    StreamHandle[] handle = new StreamHandle[1];
    CountDownLatch started = new CountDownLatch(1);
    Recorder recorder = new Recorder() {
      @Override
      public void onToken(String content) {
        super.onToken(content);
        try {
          started.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        handle[0].cancel();
      }
    };
    handle[0] = client.chatStream(ChatRequest.of("hi"), USER, recorder);
    started.countDown();
    recorder.await();
    release.countDown();

    assertThat(recorder.error).isInstanceOf(CallCancelledException.class);
    assertThat(recorder.terminal).hasValue(1);
  }

  @Test
  void cancelFromAnotherThreadGivesOneCancellation() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch firstEvent = new CountDownLatch(1);
    server.enqueue(paused(SESSION, release, HELLO, new CountDownLatch(1)));
    Recorder recorder = new Recorder() {
      @Override
      public void onEvent(StreamEvent event) {
        super.onEvent(event);
        firstEvent.countDown();
      }
    };
    StreamHandle handle = client.chatStream(ChatRequest.of("hi"), USER, recorder);
    assertThat(firstEvent.await(10, TimeUnit.SECONDS)).isTrue();
    handle.cancel();
    handle.cancel();
    recorder.await();
    release.countDown();

    assertThat(recorder.error).isInstanceOf(CallCancelledException.class);
    assertThat(recorder.terminal).hasValue(1);
  }

  @Test
  void completionFutureCompletesOnlyAfterTheListenerHasReturned() throws Exception {
    for (int i = 0; i < 20; i++) {
      server.enqueue(sse(FULL));
      Recorder recorder = new Recorder();
      StreamHandle handle = client.chatStream(ChatRequest.of("hi"), USER, recorder);
      StreamCompletion completion = handle.completion().get(10, TimeUnit.SECONDS);
      assertThat(recorder.completion).isSameAs(completion);
    }
  }

  @Test
  void completionFutureFailsLikeTheListener() throws Exception {
    server.enqueue(sse(SESSION + DONE.replace("stop", "length") + END));
    Recorder recorder = new Recorder();
    StreamHandle handle = client.chatStream(ChatRequest.of("hi"), USER, recorder);
    assertThat(handle.completion().get(10, TimeUnit.SECONDS).finishReason()).isEqualTo("length");
  }
}
