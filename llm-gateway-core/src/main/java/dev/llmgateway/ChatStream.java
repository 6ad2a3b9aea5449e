package dev.llmgateway;

import dev.llmgateway.internal.StreamCall;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A streamed answer, read as it arrives: iterate its {@link StreamEvent}s, or just its {@link
 * #tokens()}, or wait for its {@link #text()}. Always close it (try-with-resources): closing a
 * stream that has not ended cancels the HTTP call at once.
 *
 * <pre>{@code
 * try (ChatStream stream = client.chatStream(request, user)) {
 *   for (String token : stream.tokens()) {
 *     out.print(token);
 *   }
 *   StreamCompletion done = stream.completion();
 * }
 * }</pre>
 *
 * <p>Reading happens on the iterating thread, straight from the connection: each event is returned
 * as soon as its bytes arrive, and a slow consumer slows the read instead of growing a buffer.
 * Iteration ends normally after the service's {@code done} event and {@code [DONE]}; otherwise
 * {@code hasNext()}/{@code next()} throw: {@link StreamErrorException} for the service's {@code
 * error} event, {@link StreamInterruptedException} when the stream was cut off after its first
 * event, {@link TransportException} or an {@link ApiException} when it could not be (re)opened
 * before its first event and the retries were spent, {@link
 * CallTimeoutException} naming the limit that fired, {@link CallCancelledException} after {@link
 * #cancel()}.
 *
 * <p>Not thread-safe: one thread reads. {@link #cancel()} may be called from any thread.
 */
public final class ChatStream implements Iterable<StreamEvent>, AutoCloseable {
  private final StreamCall call;
  private boolean iterated;

  ChatStream(StreamCall call) {
    this.call = call;
  }

  /**
   * Returns the request id of the stream.
   *
   * @return the {@code X-Request-Id}
   */
  public String requestId() {
    return call.requestId();
  }

  /**
   * Returns the events. Can be called once per stream.
   *
   * @return an iterator whose methods throw {@link LlmGatewayException} when the stream fails
   * @throws IllegalStateException if the stream was already iterated
   */
  @Override
  public Iterator<StreamEvent> iterator() {
    if (iterated) {
      throw new IllegalStateException("A ChatStream can be iterated only once");
    }
    iterated = true;
    return new Iterator<>() {
      private @Nullable StreamEvent pending;

      @Override
      public boolean hasNext() {
        if (pending == null) {
          pending = call.next();
        }
        return pending != null;
      }

      @Override
      public StreamEvent next() {
        if (!hasNext()) {
          throw new NoSuchElementException("the stream has ended");
        }
        StreamEvent event = Objects.requireNonNull(pending);
        pending = null;
        return event;
      }
    };
  }

  /**
   * Returns the answer text piece by piece, skipping the other events. Can be called once per
   * stream, instead of {@link #iterator()}.
   *
   * @return the tokens' contents
   * @throws IllegalStateException if the stream was already iterated
   */
  public Iterable<String> tokens() {
    Iterator<StreamEvent> events = iterator();
    return () -> new Iterator<>() {
      private @Nullable String pending;

      @Override
      public boolean hasNext() {
        while (pending == null && events.hasNext()) {
          StreamEvent event = events.next();
          if (event instanceof StreamEvent.Token) {
            pending = ((StreamEvent.Token) event).content();
          }
        }
        return pending != null;
      }

      @Override
      public String next() {
        if (!hasNext()) {
          throw new NoSuchElementException("the stream has ended");
        }
        String token = Objects.requireNonNull(pending);
        pending = null;
        return token;
      }
    };
  }

  /**
   * Reads the stream to its end and returns the whole answer text (tokens already read included).
   *
   * @return the answer
   * @throws LlmGatewayException if the stream fails
   */
  public String text() {
    return completion().text();
  }

  /**
   * Reads the stream to its end (if not already there) and returns what it produced.
   *
   * @return the completion
   * @throws LlmGatewayException if the stream failed
   */
  public StreamCompletion completion() {
    while (call.next() != null) {
      // Drain: the remaining events still count towards the completion.
    }
    StreamCompletion completion = call.completion();
    if (completion == null) {
      throw new IllegalStateException("stream ended without completion");
    }
    return completion;
  }

  /**
   * Cancels the stream: the HTTP call is cancelled at once and the reading thread gets a {@link
   * CallCancelledException}. Safe from any thread; idempotent.
   */
  public void cancel() {
    call.cancel();
  }

  /** Cancels the stream unless it has ended. Idempotent. Call it on the reading thread. */
  @Override
  public void close() {
    call.abandon();
  }

  @Override
  public String toString() {
    return "ChatStream{requestId=" + call.requestId() + ", finished=" + call.isFinished() + "}";
  }
}
