package dev.llmgateway.internal;

import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallTimeoutException;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.StreamInterruptedException;
import dev.llmgateway.TransportException;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseLimitExceededException;
import dev.llmgateway.sse.SseReader;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.ForwardingSource;
import okio.Okio;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One streamed chat, read on the caller's thread (pull): opening with retries, reading events
 * with the time limits, and ending the logical call exactly once. The completion is gathered by a
 * {@link CompletionAccumulator}.
 *
 * <p>Once {@link #cancel()} has returned, {@link #next()} returns no further event (even one
 * already buffered) and the stream ends with {@link CallCancelledException}, unless it had already
 * ended.
 *
 * <p>Not thread-safe, except {@link #cancel()}, which any thread may call.
 */
@SuppressWarnings("try") // Mdc scopes are try-with-resources whose variable is not used.
public final class StreamCall {
  private static final Logger LOG = LoggerFactory.getLogger("dev.llmgateway.LlmGatewayClient");

  /** The resolved limits of one stream. */
  public record Limits(Duration firstEvent, Duration idle, @Nullable Duration total, boolean strict, int maxEventBytes) {}

  private final LogicalCall<Void> call;
  private final OkHttpClient http;
  private final Limits limits;
  private volatile @Nullable Call current;
  private volatile boolean cancelled;
  private volatile CallTimeoutException.@Nullable Limit fired;
  /** Completed by {@link #cancel()} and by the total limit: ends a wait between attempts at once. */
  private final CompletableFuture<Void> wake = new CompletableFuture<>();
  private boolean started;
  private long totalDeadlineNanos;
  private @Nullable ScheduledFuture<?> firstEventTimer;
  private @Nullable ScheduledFuture<?> totalTimer;
  // The idle limit (silence between bytes) is timed here, on the watchdog, not by a read timeout on
  // the socket: each read under an Okio read timeout enters a queue that all of the JVM's sockets
  // share, under one lock, and wakes Okio's watchdog thread. Here a read costs a clock read and two
  // field writes, and the watchdog looks at a stream once per idle limit. As with a read timeout,
  // only time spent waiting for bytes counts: a reader busy with its events is not silence.
  private static final long NOT_WAITING = Long.MIN_VALUE;
  /** When the reading thread started waiting for bytes (or for the answer's headers); {@link #NOT_WAITING} when it is not waiting. */
  private volatile long waitingSinceNanos = NOT_WAITING;
  private volatile @Nullable ScheduledFuture<?> idleTimer;
  // Which attempt's idle checks may still run; stopping them moves it on.
  private final AtomicInteger idleGeneration = new AtomicInteger();
  private @Nullable Response response;
  private @Nullable SseReader reader;
  private boolean delivered;
  /** An open stream's attempt whose breaker outcome waits for its first event (or how it ends before one). */
  private boolean healthPending;
  private boolean finished;
  private @Nullable LlmGatewayException failure;
  private @Nullable StreamCompletion completion;
  private final CompletionAccumulator gathered = new CompletionAccumulator();
  /**
   * What {@link #next()}'s quiet path read but left to the path with the MDC: a decoded payload,
   * {@link #END_OF_STREAM} or a read failure; null when nothing is held.
   */
  private @Nullable Object held;

  /** {@link #readAndDecode()}'s answer when the stream ended. */
  private static final Object END_OF_STREAM = new Object();
  /** {@link #readAndDecode()}'s answer for {@code [DONE]}. */
  private static final Object DONE = new Object();
  /** {@link #readAndDecode()}'s answer for data that is JSON but not an object. */
  private static final Object NOT_AN_OBJECT = new Object();

  public StreamCall(ClientConfig config, CallSpec<Void> spec, OkHttpClient http, Limits limits) {
    this(config, spec, http, limits, null);
  }

  /** A stream whose {@code hook} is told of its listener before the stream starts. */
  public StreamCall(
      ClientConfig config, CallSpec<Void> spec, OkHttpClient http, Limits limits,
      HostAccess.@Nullable ListenerHook hook) {
    this.call = new LogicalCall<>(config, spec, hook);
    this.http = http;
    this.limits = limits;
  }

  public String requestId() {
    return call.spec.requestId();
  }

  /**
   * Starts the logical call (listener, total limit) without sending anything yet. {@link #open()}
   * does it when not done before.
   */
  public void start() {
    if (started) {
      return;
    }
    started = true;
    try (Mdc ignored = call.mdc()) {
      call.start();
      if (limits.total() != null) {
        totalDeadlineNanos = call.config.ticker().read() + limits.total().toNanos();
        totalTimer = Watchdog.schedule(limits.total(), () -> fire(CallTimeoutException.Limit.TOTAL));
      }
    }
  }

  /**
   * Sends the request, retrying as the policy allows, until a stream is open; first waits on this
   * thread for one of the client's slots for calls in flight, unless the stream holds one.
   */
  public void open() {
    start();
    try (Mdc ignored = call.mdc()) {
      LlmGatewayException refused = call.acquireSlot();
      if (refused != null) {
        throw finishWith(refused);
      }
      connect();
    }
  }

  /**
   * Takes one of the client's slots without blocking: {@code granted} runs at once when one is
   * free, else on the client's executor once one frees; {@code refused} runs instead (on the
   * executor) with the failure that ended the stream when none frees in time or the stream is
   * cancelled while it waits.
   */
  public void openLater(Runnable granted, Consumer<LlmGatewayException> refused) {
    start();
    call.acquireSlotLater(granted, failure -> {
      try (Mdc ignored = call.mdc()) {
        refused.accept(finishWith(failure));
      }
    });
  }

  private void connect() {
    while (true) {
      if (cancelled) {
        throw finishWith(new CallCancelledException(requestId(), call.attempts, null));
      }
      if (fired == CallTimeoutException.Limit.TOTAL) {
        throw finishWith(timeout(CallTimeoutException.Limit.TOTAL, null));
      }
      LlmGatewayException refused = call.admit();
      if (refused != null) {
        throw finishWith(refused);
      }
      LogicalCall.Outcome<Void> outcome;
      Call attempt;
      try {
        attempt = call.newAttempt(http, "text/event-stream", false);
      } catch (RuntimeException e) {
        throw finishWith(call.unexpected(e));
      }
      current = attempt;
      if (fired != CallTimeoutException.Limit.TOTAL) {
        fired = null;
      }
      firstEventTimer = Watchdog.schedule(limits.firstEvent(), () -> fire(CallTimeoutException.Limit.FIRST_EVENT));
      startIdleTimer();
      if (cancelled) {
        attempt.cancel();
      }
      Response opened = null;
      try {
        opened = attempt.execute();
        outcome = accept(opened);
        if (outcome.failure == null) {
          return;
        }
      } catch (IOException e) {
        outcome = ioFailure(e);
      } catch (RuntimeException e) {
        throw finishWith(call.unexpected(e));
      } finally {
        if (response == null && opened != null) {
          opened.close();
        }
      }
      stopTimer(firstEventTimer);
      stopIdleTimer();
      retryOrThrow(outcome.failure);
    }
  }

  /** Checks an answer: an open event stream, or the failure it means. */
  private LogicalCall.Outcome<Void> accept(Response opened) {
    if (!opened.isSuccessful()) {
      return call.onErrorResponse(opened);
    }
    String type = Objects.requireNonNullElse(opened.header("Content-Type"), "");
    if (!type.toLowerCase(Locale.ROOT).startsWith("text/event-stream")) {
      call.config.circuitBreaker().onSuccess();
      return call.failed(opened.code(), call.invalidResponse(opened.code(),
          "expected text/event-stream but got " + (type.isEmpty() ? "no content type" : Text.preview(type)), null));
    }
    healthPending = true;
    call.lastStatus = opened.code();
    ResponseBody body = opened.body();
    response = opened;
    waitingSinceNanos = NOT_WAITING;
    reader = SseReader.builder().maxEventSize(limits.maxEventBytes()).build(Okio.buffer(new ForwardingSource(body.source()) {
      @Override
      public long read(Buffer sink, long byteCount) throws IOException {
        waitingSinceNanos = System.nanoTime();
        try {
          return super.read(sink, byteCount);
        } finally {
          waitingSinceNanos = NOT_WAITING;
        }
      }
    }));
    return new LogicalCall.Outcome<>(null, null);
  }

  /**
   * Waits before the next attempt, or ends the stream with {@code failure} when the policy does not
   * retry it (or the wait would pass the retry deadline), with {@link CallTimeoutException} {@code
   * TOTAL} when the next attempt could not start within the stream's total limit. {@link
   * #cancel()} and the total limit end the wait at once.
   */
  private void retryOrThrow(@Nullable LlmGatewayException failure) {
    if (failure == null) {
      return;
    }
    Duration delay = cancelled ? null : call.retryDelay(failure);
    if (delay == null) {
      throw finishWith(failure);
    }
    if (limits.total() != null && delay.toNanos() >= totalDeadlineNanos - call.config.ticker().read()) {
      throw finishWith(new CallTimeoutException(CallTimeoutException.Limit.TOTAL,
          "LLM stream timed out: its next attempt could not start within the stream's total limit of "
              + limits.total().toMillis() + " ms (a wait of " + delay.toMillis() + " ms was due; request id "
              + requestId() + ")",
          requestId(), call.attempts, failure, failure.isRetryable()));
    }
    call.retrying(delay, failure);
    try {
      call.config.sleeper().sleep(delay, wake);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw finishWith(new CallCancelledException(requestId(), call.attempts, e));
    }
  }

  /**
   * Returns the next event, or null once the stream has ended normally.
   *
   * <p>Once the first event has been delivered, a plain event (a typed event read and decoded
   * without incident) is returned without touching the SLF4J MDC: nothing on that path logs or
   * tells a listener anything. Everything else (the first event, the end, a failure, a skipped
   * event, a retry) runs with the request id in the MDC, as before.
   *
   * @throws LlmGatewayException when the stream fails, is cut off or is cancelled
   */
  public @Nullable StreamEvent next() {
    if (finished) {
      if (failure != null) {
        throw failure;
      }
      return null;
    }
    if (delivered && !cancelled) {
      held = readAndDecode();
      if (held instanceof StreamEvent) {
        StreamEvent event = (StreamEvent) held;
        held = null;
        gathered.add(event);
        if (!cancelled) {
          return event;
        }
      }
    }
    try (Mdc ignored = call.mdc()) {
      while (true) {
        // What the quiet path read is handled first, as if read here: the cancellation check
        // came before its read.
        Object step = held;
        held = null;
        if (step == null) {
          if (cancelled) {
            throw finishWith(new CallCancelledException(requestId(), call.attempts, null));
          }
          step = readAndDecode();
        }
        if (step instanceof IOException) {
          IOException e = (IOException) step;
          if (e instanceof SseLimitExceededException) {
            throw finishWith(call.invalidResponse(200, e.getMessage(), e));
          }
          if (delivered || cancelled || fired == CallTimeoutException.Limit.TOTAL) {
            // Before the first event the total limit fails the attempt too (the breaker counts it).
            throw finishWith(delivered || cancelled ? midStreamFailure(e) : Objects.requireNonNull(ioFailure(e).failure));
          }
          reopenAfter(ioFailure(e).failure);
          continue;
        }
        if (step == END_OF_STREAM) {
          if (gathered.hasDone()) {
            return complete();
          }
          if (!delivered && !cancelled) {
            reopenAfter(cutOffBeforeFirstEvent());
            continue;
          }
          throw finishWith(new StreamInterruptedException(
              "The LLM stream ended without done or [DONE]: it was cut off after " + gathered.textLength()
                  + " characters (request id " + requestId() + ")",
              gathered.text(), requestId(), call.attempts, null, call.config.retryPolicy().retryOnNetworkFailure()));
        }
        StreamEvent event = settle(step);
        if (event != null && !cancelled) {
          firstDelivery();
          return event;
        }
        if (finished) {
          return null;
        }
      }
    }
  }

  /**
   * Reads and decodes the next event without logging or telling a listener anything: returns the
   * decoded payload (see {@link #settle}), {@link #END_OF_STREAM}, or the {@link IOException} the
   * read failed with.
   */
  private Object readAndDecode() {
    ServerSentEvent sse;
    try {
      sse = reader().next();
    } catch (IOException e) {
      return e;
    }
    if (sse == null) {
      return END_OF_STREAM;
    }
    String data = sse.data();
    if (data.equals("[DONE]")) {
      return DONE;
    }
    try {
      Object decoded = StreamDecoder.decode(data);
      return decoded == null ? NOT_AN_OBJECT : decoded;
    } catch (Json.MalformedJsonException e) {
      return e;
    }
  }

  /** Acts on a decoded payload; returns the event to deliver, or null when it was skipped or ended the stream. */
  private @Nullable StreamEvent settle(Object decoded) {
    if (decoded == DONE) {
      complete();
      return null;
    }
    if (decoded instanceof Json.MalformedJsonException) {
      Json.MalformedJsonException e = (Json.MalformedJsonException) decoded;
      return skip(e.getMessage(), e);
    }
    if (decoded == NOT_AN_OBJECT) {
      return skip("is not a JSON object", null);
    }
    if (decoded instanceof StreamDecoder.ServiceError) {
      StreamDecoder.ServiceError error = (StreamDecoder.ServiceError) decoded;
      throw finishWith(new StreamErrorException(
          error.code(), error.message(), error.retryable(), gathered.text(), requestId(), call.attempts));
    }
    StreamEvent event = (StreamEvent) decoded;
    gathered.add(event);
    return event;
  }

  private LlmGatewayException cutOffBeforeFirstEvent() {
    healthPending = false;
    call.config.circuitBreaker().onFailure();
    return Objects.requireNonNull(call.failed(call.lastStatus, new TransportException(
        call.spec.describe() + " stream ended before its first event (request id " + requestId() + ")",
        requestId(), call.attempts, null, call.config.retryPolicy().retryOnNetworkFailure())).failure);
  }

  private void reopenAfter(@Nullable LlmGatewayException failure) {
    closeResponse();
    stopTimer(firstEventTimer);
    stopIdleTimer();
    retryOrThrow(failure);
    connect();
  }

  private void firstDelivery() {
    if (!delivered) {
      delivered = true;
      settleHealth();
      stopTimer(firstEventTimer);
      call.attemptSucceeded(call.lastStatus);
      call.firstEvent();
    }
  }

  private @Nullable StreamEvent skip(@Nullable String why, Json.@Nullable MalformedJsonException cause) {
    if (limits.strict()) {
      throw finishWith(call.invalidResponse(200, "a stream event " + why, cause));
    }
    gathered.skipped();
    LOG.warn("Skipped a stream event from the LLM service: its data {}", why);
    return null;
  }

  private @Nullable StreamEvent complete() {
    if (cancelled) {
      throw finishWith(new CallCancelledException(requestId(), call.attempts, null));
    }
    firstDelivery();
    completion = gathered.complete(requestId());
    finished = true;
    release();
    call.succeed(completion.usage());
    return null;
  }

  /** Ends the stream with {@code e} (the first failure wins) and returns what to throw. */
  private LlmGatewayException finishWith(LlmGatewayException e) {
    if (!finished) {
      settleHealth();
      finished = true;
      failure = cancelled && !(e instanceof CallCancelledException)
          ? new CallCancelledException(requestId(), call.attempts, e)
          : e;
      release();
      call.fail(failure);
    }
    return failure == null ? e : failure;
  }

  private LogicalCall.Outcome<Void> ioFailure(IOException e) {
    healthPending = false;
    CallTimeoutException.Limit limit = fired;
    if (limit != null && !cancelled) {
      call.config.circuitBreaker().onFailure();
      return call.failed(0, timeout(limit, e));
    }
    if (e instanceof SocketTimeoutException && !cancelled && !String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("connect")) {
      call.config.circuitBreaker().onFailure();
      return call.failed(0, timeout(CallTimeoutException.Limit.IDLE, e));
    }
    return call.onIoFailure(e, cancelled);
  }

  /**
   * Records the open stream's pending breaker outcome: the service answered (a cancellation says
   * nothing). Failures before the first event record theirs instead.
   */
  private void settleHealth() {
    if (healthPending) {
      healthPending = false;
      if (cancelled) {
        call.config.circuitBreaker().onIgnored();
      } else {
        call.config.circuitBreaker().onSuccess();
      }
    }
  }

  private LlmGatewayException midStreamFailure(IOException e) {
    if (cancelled) {
      return new CallCancelledException(requestId(), call.attempts, e);
    }
    CallTimeoutException.Limit limit = fired;
    if (limit != null) {
      return timeout(limit, e);
    }
    if (e instanceof SocketTimeoutException || (e instanceof InterruptedIOException && "timeout".equals(e.getMessage()))) {
      return timeout(CallTimeoutException.Limit.IDLE, e);
    }
    return new StreamInterruptedException(
        "The LLM stream was cut off after " + gathered.textLength() + " characters ("
            + e.getClass().getSimpleName() + ", request id " + requestId() + ")",
        gathered.text(), requestId(), call.attempts, e, call.config.retryPolicy().retryOnNetworkFailure());
  }

  private CallTimeoutException timeout(CallTimeoutException.Limit limit, @Nullable Throwable cause) {
    String what;
    switch (limit) {
      case FIRST_EVENT:
        what = "no first event within " + limits.firstEvent().toMillis() + " ms";
        break;
      case TOTAL:
        what = "the stream ran longer than " + (limits.total() == null ? 0 : limits.total().toMillis()) + " ms";
        break;
      default:
        what = "no data for " + limits.idle().toMillis() + " ms";
    }
    return new CallTimeoutException(limit, "LLM stream timed out: " + what + " (request id " + requestId() + ")",
        requestId(), call.attempts, cause, call.config.retryPolicy().retryOnTimeout());
  }

  private void fire(CallTimeoutException.Limit limit) {
    fired = limit;
    if (limit == CallTimeoutException.Limit.TOTAL) {
      wake.complete(null);
    }
    Call c = current;
    if (c != null) {
      c.cancel();
    }
  }

  /**
   * Cancels the stream from any thread: the HTTP call is cancelled at once, a wait between attempts
   * or for a slot ends at once, and no further event is returned.
   */
  public void cancel() {
    cancelled = true;
    wake.complete(null);
    call.leaveQueue(new CallCancelledException(requestId(), call.attempts, null));
    Call c = current;
    if (c != null) {
      c.cancel();
    }
  }

  /** Whether {@link #cancel()} was called. */
  public boolean isCancelled() {
    return cancelled;
  }

  public boolean isFinished() {
    return finished;
  }

  /** The completion, once the stream has ended normally. */
  public @Nullable StreamCompletion completion() {
    return completion;
  }

  /** What the stream ended with, once it failed. */
  public @Nullable LlmGatewayException failure() {
    return failure;
  }

  /**
   * Ends a stream that will not be read (it could not be started) with {@code failure}.
   *
   * @return what it ended with
   */
  public LlmGatewayException fail(LlmGatewayException failure) {
    try (Mdc ignored = call.mdc()) {
      return finishWith(failure);
    }
  }

  /** Ends the stream on the reading thread after the caller stopped early: a cancellation. */
  public void abandon() {
    if (!finished) {
      cancel();
      try (Mdc ignored = call.mdc()) {
        finishWith(new CallCancelledException(requestId(), call.attempts, null));
      }
    }
  }

  private SseReader reader() {
    SseReader r = reader;
    if (r == null) {
      throw new IllegalStateException("stream not open");
    }
    return r;
  }

  private void release() {
    stopTimer(firstEventTimer);
    stopTimer(totalTimer);
    stopIdleTimer();
    closeResponse();
  }

  private void closeResponse() {
    Response r = response;
    response = null;
    reader = null;
    if (r != null) {
      if (!finished || failure != null) {
        Call c = current;
        if (c != null) {
          c.cancel();
        }
      }
      r.close();
    }
  }

  /** Starts timing the silence of an attempt: from now, while it waits for its answer's headers, then for each read. */
  private void startIdleTimer() {
    waitingSinceNanos = System.nanoTime();
    int generation = idleGeneration.get();
    armIdleCheck(generation, limits.idle().toNanos());
  }

  private void armIdleCheck(int generation, long delayNanos) {
    ScheduledFuture<?> check = Watchdog.schedule(Duration.ofNanos(delayNanos), () -> checkIdle(generation));
    idleTimer = check;
    // A stop that came meanwhile may have cancelled the check before this one: cancel this one.
    if (generation != idleGeneration.get()) {
      check.cancel(false);
    }
  }

  /**
   * On the watchdog: fires the idle limit once the reading thread has waited that long for bytes,
   * else checks again when it would be due (a whole limit later while the thread is not waiting).
   */
  private void checkIdle(int generation) {
    if (generation != idleGeneration.get()) {
      return;
    }
    long limit = limits.idle().toNanos();
    long since = waitingSinceNanos;
    if (since == NOT_WAITING) {
      armIdleCheck(generation, limit);
      return;
    }
    long silent = System.nanoTime() - since;
    if (silent >= limit) {
      fire(CallTimeoutException.Limit.IDLE);
    } else {
      armIdleCheck(generation, limit - silent);
    }
  }

  private void stopIdleTimer() {
    idleGeneration.incrementAndGet();
    stopTimer(idleTimer);
  }

  private static void stopTimer(@Nullable ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }
}
