package dev.llmgateway;

import dev.llmgateway.internal.StreamCall;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A chat stream as a cold {@link Flow.Publisher}: each subscription runs its own {@link
 * StreamCall}, started by its first {@code request(n)} and read on the client's executor only
 * while the subscriber has demand. See {@link LlmGatewayClient#chatPublisher(ChatRequest,
 * UserContext, StreamOptions)} for the guarantees.
 */
final class StreamPublisher implements Flow.Publisher<StreamEvent> {
  private static final Logger LOG = LoggerFactory.getLogger(LlmGatewayClient.class);

  private final Supplier<StreamCall> calls;
  private final Executor executor;

  /**
   * @param calls a new stream per subscription; throws {@link IllegalStateException} once the
   *     client is closed
   * @param executor reads the streams and signals the subscribers
   */
  StreamPublisher(Supplier<StreamCall> calls, Executor executor) {
    this.calls = calls;
    this.executor = executor;
  }

  @Override
  public void subscribe(Flow.Subscriber<? super StreamEvent> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    StreamCall call;
    try {
      call = calls.get();
    } catch (IllegalStateException e) {
      subscriber.onSubscribe(Refused.INSTANCE);
      subscriber.onError(e);
      return;
    }
    new Subscription(call, subscriber, executor).start();
  }

  @Override
  public String toString() {
    return "StreamPublisher{}";
  }

  /** The subscription handed out when the publisher cannot serve: it ignores requests. */
  private enum Refused implements Flow.Subscription {
    INSTANCE;

    @Override
    public void request(long n) {}

    @Override
    public void cancel() {}
  }

  /**
   * One subscriber's stream. All signals come from {@link #drain()}, which runs on one thread at a
   * time ({@link #wip} counts the reasons to run it; whoever raises it from zero runs it), so they
   * are serialized, and none reaches the subscriber from inside its own {@code request}.
   */
  private static final class Subscription implements Flow.Subscription {
    private final StreamCall call;
    private final Executor executor;
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicLong requested = new AtomicLong();
    private volatile Flow.@Nullable Subscriber<? super StreamEvent> subscriber;
    private volatile boolean cancelled;
    private volatile @Nullable IllegalArgumentException badRequest;
    private volatile boolean granted;
    private volatile @Nullable LlmGatewayException refused;
    // Touched only by the thread that runs the drain.
    private long emitted;
    private boolean begun;
    private boolean opened;
    private boolean done;

    Subscription(StreamCall call, Flow.Subscriber<? super StreamEvent> subscriber, Executor executor) {
      this.call = call;
      this.subscriber = subscriber;
      this.executor = executor;
    }

    /** Hands the subscription out; requests made inside {@code onSubscribe} start the stream after it returns. */
    void start() {
      wip.set(1);
      Flow.Subscriber<? super StreamEvent> s = subscriber;
      try {
        if (s != null) {
          s.onSubscribe(this);
        }
      } catch (RuntimeException e) {
        LOG.warn("Flow.Subscriber.onSubscribe threw; the subscription is cancelled", e);
        cancel();
      }
      if (wip.decrementAndGet() != 0) {
        execute();
      }
    }

    @Override
    public void request(long n) {
      if (n <= 0) {
        if (badRequest == null) {
          badRequest = new IllegalArgumentException(
              "Rule 3.9: request(n) needs a positive n (non-positive subscription request: " + n + ")");
        }
        call.cancel();
      } else {
        requested.getAndAccumulate(n, (current, more) -> current + more < 0 ? Long.MAX_VALUE : current + more);
      }
      schedule();
    }

    @Override
    public void cancel() {
      if (!cancelled) {
        cancelled = true;
        subscriber = null;
        call.cancel();
        schedule();
      }
    }

    private void granted() {
      granted = true;
      schedule();
    }

    private void refused(LlmGatewayException failure) {
      refused = failure;
      schedule();
    }

    private void schedule() {
      if (wip.getAndIncrement() == 0) {
        execute();
      }
    }

    private void execute() {
      try {
        executor.execute(this::drain);
      } catch (RejectedExecutionException e) {
        // This thread owns the drain now; end the stream here.
        if (!done) {
          done = true;
          LlmGatewayException failure = new LlmGatewayException(
              "The client's executor refused the stream (request id " + call.requestId() + ")", call.requestId(), 0, e);
          release();
          signalError(cancelled ? null : badRequest != null ? badRequest : failure);
        }
      }
    }

    private void drain() {
      int missed = 1;
      while (true) {
        if (!done) {
          step();
        }
        missed = wip.addAndGet(-missed);
        if (missed == 0) {
          return;
        }
      }
    }

    private void step() {
      if (cancelled || badRequest != null) {
        done = true;
        release();
        signalError(cancelled ? null : badRequest);
        return;
      }
      LlmGatewayException refusal = refused;
      if (refusal != null) {
        done = true;
        signalError(refusal);
        return;
      }
      if (!begun) {
        if (requested.get() == 0) {
          return;
        }
        begun = true;
        call.openLater(this::granted, this::refused);
      }
      if (!granted) {
        return;
      }
      try {
        if (!opened) {
          call.open();
          opened = true;
        }
        while (emitted < requested.get()) {
          StreamEvent event = call.next();
          if (event == null) {
            done = true;
            signalComplete();
            return;
          }
          if (!deliver(event)) {
            return;
          }
          emitted++;
        }
      } catch (LlmGatewayException e) {
        done = true;
        call.abandon();
        signalError(cancelled ? null : badRequest != null ? badRequest : e);
      }
    }

    private boolean deliver(StreamEvent event) {
      Flow.Subscriber<? super StreamEvent> s = subscriber;
      if (s == null) {
        return false;
      }
      try {
        s.onNext(event);
        return true;
      } catch (RuntimeException | Error e) {
        done = true;
        call.abandon();
        signalError(new LlmGatewayException(
            "A Flow.Subscriber threw " + e.getClass().getSimpleName() + " from onNext; the stream was cancelled",
            call.requestId(), 0, e));
        if (e instanceof Error) {
          throw (Error) e;
        }
        return false;
      }
    }

    /** Ends the stream unless it has ended; a stream still waiting for a slot is ended by its refusal. */
    private void release() {
      if (granted) {
        call.abandon();
      } else if (begun) {
        call.cancel();
      }
    }

    private void signalError(@Nullable Throwable error) {
      Flow.Subscriber<? super StreamEvent> s = subscriber;
      subscriber = null;
      if (s == null || error == null) {
        return;
      }
      try {
        s.onError(error);
      } catch (RuntimeException e) {
        LOG.warn("Flow.Subscriber.onError threw; ignored", e);
      }
    }

    private void signalComplete() {
      Flow.Subscriber<? super StreamEvent> s = subscriber;
      subscriber = null;
      if (s == null) {
        return;
      }
      try {
        s.onComplete();
      } catch (RuntimeException e) {
        LOG.warn("Flow.Subscriber.onComplete threw; ignored", e);
      }
    }

    @Override
    public String toString() {
      return "Flow.Subscription{requestId=" + call.requestId() + ", done=" + done + "}";
    }
  }
}
