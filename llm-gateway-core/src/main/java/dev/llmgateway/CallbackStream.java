package dev.llmgateway;

import dev.llmgateway.internal.StreamCall;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a stream on a thread of the client's executor and pushes it to a {@link StreamListener}.
 * It waits for one of the client's slots for calls in flight without holding a thread; once
 * {@link #cancel()} is called (from any thread, a callback included), no further event reaches the
 * listener and the stream ends with {@code onError(CallCancelledException)} unless it had ended.
 */
final class CallbackStream implements StreamHandle, Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(LlmGatewayClient.class);

  private final StreamCall call;
  private final StreamListener listener;
  private final CompletableFuture<StreamCompletion> completion = new CompletableFuture<>();
  private final AtomicBoolean ended = new AtomicBoolean();

  CallbackStream(StreamCall call, StreamListener listener) {
    this.call = call;
    this.listener = listener;
  }

  /** Starts the stream: runs it on {@code executor} once it holds a slot (or fails it). */
  void begin(Executor executor) {
    call.openLater(() -> {
      try {
        executor.execute(this);
      } catch (RejectedExecutionException e) {
        error(call.fail(new LlmGatewayException(
            "The client's executor refused the stream (request id " + call.requestId() + ")", call.requestId(), 0, e)));
      }
    }, this::error);
  }

  @Override
  public void run() {
    StreamCompletion result;
    try {
      call.open();
      StreamEvent event;
      while ((event = call.next()) != null) {
        deliver(event);
      }
      result = call.completion();
    } catch (LlmGatewayException e) {
      call.abandon();
      error(e);
      return;
    } catch (RuntimeException | Error e) {
      LlmGatewayException failure = new LlmGatewayException(
          "A StreamListener threw " + e.getClass().getSimpleName() + "; the stream was cancelled",
          call.requestId(), 0, e);
      call.abandon();
      error(failure);
      if (e instanceof Error) {
        throw (Error) e;
      }
      return;
    }
    if (result != null && ended.compareAndSet(false, true)) {
      // The listener first: whoever waits on the future then sees what the listener did.
      try {
        listener.onComplete(result);
      } catch (RuntimeException e) {
        LOG.warn("StreamListener.onComplete threw; ignored", e);
      }
      completion.complete(result);
    }
  }

  private void deliver(StreamEvent event) {
    listener.onEvent(event);
    if (event instanceof StreamEvent.Token && !call.isCancelled()) {
      listener.onToken(((StreamEvent.Token) event).content());
    }
  }

  private void error(LlmGatewayException e) {
    if (ended.compareAndSet(false, true)) {
      try {
        listener.onError(e);
      } catch (RuntimeException thrown) {
        LOG.warn("StreamListener.onError threw; ignored", thrown);
      }
      completion.completeExceptionally(e);
    }
  }

  @Override
  public void cancel() {
    call.cancel();
  }

  @Override
  public String requestId() {
    return call.requestId();
  }

  @Override
  public CompletableFuture<StreamCompletion> completion() {
    return completion.copy();
  }

  @Override
  public String toString() {
    return "StreamHandle{requestId=" + call.requestId() + ", ended=" + ended.get() + "}";
  }
}
