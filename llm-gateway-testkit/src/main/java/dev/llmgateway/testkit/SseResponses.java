package dev.llmgateway.testkit;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.SocketEffect;
import okio.BufferedSink;

/**
 * MockWebServer answers of a {@code text/event-stream}: whole, in small chunks, or held back until
 * the test releases them, so a test can act between the first events and the rest without sleeping.
 */
public final class SseResponses {
  /** How long a held-back body waits for its release before it gives up and ends. */
  private static final long RELEASE_WAIT_SECONDS = 30;

  private SseResponses() {}

  /**
   * A 200 {@code text/event-stream} answer of {@code body}.
   *
   * @param body the raw event stream, such as {@code "data: {...}\n\n"}
   * @return the answer
   */
  public static MockResponse sse(String body) {
    return eventStream().body(body).build();
  }

  /**
   * A 200 {@code text/event-stream} answer of {@code body}, sent chunked in pieces of
   * {@code chunkSize} bytes, so that events and even lines arrive split.
   *
   * @param body the raw event stream
   * @param chunkSize the bytes in a chunk
   * @return the answer
   */
  public static MockResponse sse(String body, int chunkSize) {
    return eventStream().chunkedBody(body, chunkSize).build();
  }

  /**
   * A 200 {@code text/event-stream} answer that sends {@code first}, waits for {@code release}, then
   * sends {@code rest} {@code times} times, flushing each. When the client has gone, a write fails:
   * {@code serverSawClose} is counted down, so the test can wait for the server to see it.
   *
   * @param first sent at once
   * @param release counted down by the test to let the rest go
   * @param rest sent after the release, {@code times} times
   * @param times how many times {@code rest} is sent; 0 holds the stream open until the release
   * @param serverSawClose counted down when a write fails because the client has gone
   * @return the answer
   */
  public static MockResponse paused(
      String first, CountDownLatch release, String rest, int times, CountDownLatch serverSawClose) {
    return eventStream().body(new MockResponseBody() {
      @Override
      public long getContentLength() {
        return -1;
      }

      @Override
      public void writeTo(BufferedSink sink) throws IOException {
        try {
          sink.writeUtf8(first).flush();
          release.await(RELEASE_WAIT_SECONDS, TimeUnit.SECONDS);
          for (int i = 0; i < times; i++) {
            sink.writeUtf8(rest).flush();
          }
        } catch (IOException e) {
          serverSawClose.countDown();
          throw e;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }).build();
  }

  /**
   * A 200 {@code text/event-stream} answer that sends {@code first} and then sends nothing more
   * until {@code release}: a stalled service, for idle timeouts.
   *
   * @param first sent at once
   * @param release counted down by the test (in a {@code finally}) to end the stream
   * @return the answer
   */
  public static MockResponse stalled(String first, CountDownLatch release) {
    return paused(first, release, "", 0, new CountDownLatch(1));
  }

  /**
   * A 200 {@code text/event-stream} answer whose connection is closed partway through {@code body}
   * (a connection lost mid-stream).
   *
   * @param body the raw event stream, of which only the first part arrives
   * @return the answer
   */
  public static MockResponse cutHalfway(String body) {
    return eventStream().body(body).onResponseBody(new SocketEffect.CloseSocket(true, false, false)).build();
  }

  private static MockResponse.Builder eventStream() {
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "text/event-stream");
  }
}
