package dev.llmgateway.internal;

import dev.llmgateway.ApiException;
import dev.llmgateway.AuditEvent;
import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallInfo;
import dev.llmgateway.CallTimeoutException;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.CircuitOpenException;
import dev.llmgateway.ConcurrencyLimitExceededException;
import dev.llmgateway.InvalidResponseException;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Usage;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;
import org.jspecify.annotations.Nullable;

/**
 * The state of one logical call across its attempts: its slot among the client's calls in flight,
 * admission by deadline and circuit breaker, each attempt's request, the mapping of answers and
 * I/O failures to exceptions, the retry decision, and exactly one listener {@code callEnd} and one
 * audit event. Used by {@link
 * CallEngine} for JSON calls and by {@link StreamCall} for streams.
 */
@SuppressWarnings("try") // Mdc scopes are try-with-resources whose variable is not used.
final class LogicalCall<T> {
  /** Bytes of an error body kept; enough for {@link ApiException#MAX_BODY_CHARS} characters. */
  private static final long MAX_ERROR_BODY_BYTES = 4L * ApiException.MAX_BODY_CHARS;

  /** What one attempt produced: a value, or a failure. */
  static final class Outcome<T> {
    final @Nullable T value;
    final @Nullable LlmGatewayException failure;

    Outcome(@Nullable T value, @Nullable LlmGatewayException failure) {
      this.value = value;
      this.failure = failure;
    }
  }

  private static final int NO_SLOT = 0;
  private static final int HOLDS_SLOT = 1;
  private static final int SLOT_DONE = 2;

  final ClientConfig config;
  final CallSpec<T> spec;
  final CallInfo info;
  /** The client's shared listener, or it and the call's own ({@link CallListeners}). */
  final GatewayListener listener;
  /**
   * Whether {@link #listener} is told of the first event and the usage and asked for each
   * attempt's extra headers (not the built-in listeners, which ignore all three).
   */
  private final boolean details;
  private final AtomicBoolean ended = new AtomicBoolean();
  /** NO_SLOT until the call holds one of the client's slots, SLOT_DONE once it has ended. */
  private final AtomicInteger slot = new AtomicInteger(NO_SLOT);
  private volatile ConcurrencyLimiter.@Nullable Waiter waiter;
  private volatile @Nullable Consumer<LlmGatewayException> refused;
  /** Set once the caller gave up: a waiter queued after it must leave at once. */
  private volatile boolean leaving;
  private long startNanos;
  private long attemptStartNanos;
  int attempts;
  int lastStatus;
  private boolean mayHaveReachedService;
  private boolean cutByDeadline;
  private @Nullable LlmGatewayException lastFailure;
  private volatile @Nullable Call inFlight;

  LogicalCall(ClientConfig config, CallSpec<T> spec, HostAccess.@Nullable ListenerHook hook) {
    this.config = config;
    this.spec = spec;
    this.info = spec.info();
    this.listener = CallListeners.forCall(config, info);
    this.details = CallListeners.wantsDetails(listener);
    if (hook != null) {
      hook.created(info, listener);
    }
  }

  Mdc mdc() {
    return Mdc.put(config.mdcKey(), spec.requestId());
  }

  void start() {
    startNanos = config.ticker().read();
    LoggingListener.safely(() -> listener.callStart(info));
  }

  boolean ended() {
    return ended.get();
  }

  /**
   * Takes one of the client's slots for calls in flight, waiting on this thread up to the
   * client's {@code maxQueueWait}; a no-op when the call holds one already.
   *
   * @return null with the slot; else the failure that ends the call (not yet ended)
   */
  @Nullable LlmGatewayException acquireSlot() {
    if (slot.get() == HOLDS_SLOT) {
      return null;
    }
    boolean acquired;
    try {
      acquired = config.limiter().acquire(config.maxQueueWait());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new CallCancelledException(spec.requestId(), attempts, e);
    }
    if (!acquired) {
      return limitExceeded();
    }
    return holdSlot() ? null : new CallCancelledException(spec.requestId(), attempts, null);
  }

  /**
   * Takes a slot without blocking: runs {@code granted} at once when one is free, else later on
   * the client's executor once one frees. When none frees within {@code maxQueueWait}, or the call
   * is {@linkplain #cancel() cancelled} while it waits, {@code onRefusal} gets the failure instead
   * (on the executor; the call is not yet ended).
   */
  void acquireSlotLater(Runnable granted, Consumer<LlmGatewayException> onRefusal) {
    if (config.limiter().tryAcquire()) {
      if (holdSlot()) {
        granted.run();
      }
      return;
    }
    refused = onRefusal;
    waiter = config.limiter().acquireLater(
        config.maxQueueWait(),
        () -> dispatch(() -> {
          if (holdSlot()) {
            granted.run();
          }
        }),
        () -> dispatch(() -> onRefusal.accept(limitExceeded())));
    if (leaving) {
      leaveQueue(new CallCancelledException(spec.requestId(), attempts, null));
    }
  }

  /** Leaves the queue of calls waiting for a slot, telling the refusal handler; false if not queued. */
  boolean leaveQueue(LlmGatewayException why) {
    leaving = true;
    ConcurrencyLimiter.Waiter w = waiter;
    Consumer<LlmGatewayException> handler = refused;
    if (w == null || handler == null || !w.withdraw()) {
      return false;
    }
    dispatch(() -> handler.accept(why));
    return true;
  }

  private void dispatch(Runnable task) {
    try {
      config.executor().execute(task);
    } catch (RejectedExecutionException e) {
      Consumer<LlmGatewayException> handler = refused;
      if (handler != null) {
        handler.accept(new LlmGatewayException(
            spec.describe() + " not started: the client's executor refused it (request id " + spec.requestId() + ")",
            spec.requestId(), attempts, e));
      }
    }
  }

  /** Records the slot just granted; false (and the slot returned) when the call ended meanwhile. */
  private boolean holdSlot() {
    if (slot.compareAndSet(NO_SLOT, HOLDS_SLOT)) {
      return true;
    }
    config.limiter().release();
    return false;
  }

  private void releaseSlot() {
    if (slot.getAndSet(SLOT_DONE) == HOLDS_SLOT) {
      config.limiter().release();
    }
  }

  private ConcurrencyLimitExceededException limitExceeded() {
    return new ConcurrencyLimitExceededException(config.limiter().max(), config.maxQueueWait(), spec.requestId());
  }

  /** Null when the next attempt may go; else the failure that ends the call. */
  @Nullable LlmGatewayException admit() {
    if (attempts > 0 && remainingNanos() <= 0) {
      // The call was retrying lastFailure: a new call may succeed as far as that failure could.
      LlmGatewayException retried = lastFailure;
      return new CallTimeoutException(
          CallTimeoutException.Limit.DEADLINE,
          spec.describe() + " gave up: the retry deadline of " + config.retryPolicy().deadline().toMillis()
              + " ms has passed (request id " + spec.requestId() + ", " + attempts + " attempts)",
          spec.requestId(), attempts, retried, retried != null && retried.isRetryable());
    }
    if (!config.circuitBreaker().tryAcquire()) {
      return new CircuitOpenException(
          config.circuitBreaker().remainingOpenTime(), spec.requestId(), attempts, lastFailure);
    }
    return null;
  }

  private long remainingNanos() {
    return config.retryPolicy().deadline().toNanos() - (config.ticker().read() - startNanos);
  }

  /**
   * Starts the next attempt's call (not yet executed).
   *
   * @param http the client to call with
   * @param attemptTimeout whether the client's per-attempt {@code timeout} applies (streams have
   *     their own limits)
   */
  Call newAttempt(OkHttpClient http, String accept, boolean attemptTimeout) {
    attempts++;
    Request.Builder builder = Requests.http(spec, config, accept);
    Request request = builder.build();
    int attempt = attempts;
    LoggingListener.safely(() -> listener.attemptStart(info, attempt));
    if (details) {
      request = AttemptHeaders.add(request, builder, listener, info, attempt);
    }
    Call call = http.newCall(request);
    if (attemptTimeout) {
      long timeout = config.timeout().toNanos();
      long remaining = Math.max(1, remainingNanos());
      cutByDeadline = remaining < timeout;
      call.timeout().timeout(Math.min(timeout, remaining), TimeUnit.NANOSECONDS);
    }
    inFlight = call;
    attemptStartNanos = config.ticker().read();
    return call;
  }

  /** Maps a JSON call's response; the caller closes it. */
  Outcome<T> onResponse(Response response) {
    int status = response.code();
    lastStatus = status;
    if (!response.isSuccessful()) {
      return onErrorResponse(response);
    }
    byte[] body;
    try {
      body = readAll(response.body(), config.maxResponseBytes());
    } catch (ResponseTooLargeException e) {
      config.circuitBreaker().onSuccess();
      return failed(status, invalidResponse(status, "larger than " + config.maxResponseBytes() + " bytes", null));
    } catch (IOException e) {
      // The body's failure settles the attempt: it must not also count as the success its headers promised.
      return onIoFailure(e, false);
    }
    config.circuitBreaker().onSuccess();
    try {
      T value = spec.parser().parse(body, spec.requestId());
      attemptSucceeded(status);
      return new Outcome<>(value, null);
    } catch (Json.MalformedJsonException e) {
      return failed(status, invalidResponse(status, e.getMessage(), e));
    }
  }

  InvalidResponseException invalidResponse(int status, @Nullable String what, @Nullable Throwable cause) {
    return new InvalidResponseException(
        spec.describe() + " returned an unusable " + status + " response: " + what
            + " (request id " + spec.requestId() + ")",
        status, spec.requestId(), attempts, cause);
  }

  /** Maps a non-2xx answer (a DELETE's 404 after an uncertain attempt counts as done). */
  Outcome<T> onErrorResponse(Response response) {
    int status = response.code();
    lastStatus = status;
    if (status >= 500) {
      config.circuitBreaker().onFailure();
    } else {
      config.circuitBreaker().onSuccess();
    }
    if (status == 404 && spec.deleteSemantics() && mayHaveReachedService) {
      attemptSucceeded(status);
      return new Outcome<>(null, null);
    }
    if (status == 502 || status == 504) {
      mayHaveReachedService = true;
    }
    String body = readErrorBody(response.body());
    Duration retryAfter = Errors.retryAfter(response.header("Retry-After"), config.clock());
    return failed(status, Errors.fromStatus(spec.describe(), status, body, retryAfter, Errors.headersOf(response),
        spec.requestId(), attempts, config.retryPolicy()));
  }

  Outcome<T> onIoFailure(IOException e, boolean cancelled) {
    if (cancelled || ended.get()) {
      config.circuitBreaker().onIgnored();
      return failed(0, new CallCancelledException(spec.requestId(), attempts, e));
    }
    config.circuitBreaker().onFailure();
    if (!Errors.surelyNotSent(e)) {
      mayHaveReachedService = true;
    }
    return failed(0, Errors.fromIo(spec.describe(), e, cutByDeadline, spec.requestId(), attempts, config.retryPolicy()));
  }

  /** An attempt's failure found after its response was accepted (e.g. a stream cut before its first event). */
  Outcome<T> failed(int status, LlmGatewayException failure) {
    lastFailure = failure;
    attemptEnded(status, failure);
    return new Outcome<>(null, failure);
  }

  void attemptSucceeded(int status) {
    attemptEnded(status, null);
  }

  private void attemptEnded(int status, @Nullable LlmGatewayException failure) {
    inFlight = null;
    Duration latency = Duration.ofNanos(config.ticker().read() - attemptStartNanos);
    int attempt = attempts;
    LoggingListener.safely(() -> listener.attemptEnd(info, attempt, status, latency, failure));
  }

  /**
   * The wait before the next attempt, or null when the call must end with {@code failure}: the
   * policy does not retry it (its {@link LlmGatewayException#isRetryable()}, decided from the
   * policy where it was built), its retries are spent, or the wait would pass the retry deadline
   * (the call then gives up at once instead of waiting in vain). Tell the listener with {@link
   * #retrying} once the wait is decided.
   */
  @Nullable Duration retryDelay(LlmGatewayException failure) {
    if (ended.get() || spec.direct() || attempts > config.retryPolicy().maxRetries() || !failure.isRetryable()) {
      return null;
    }
    Duration retryAfter = failure instanceof ApiException ? ((ApiException) failure).retryAfter() : null;
    Duration delay = config.retryPolicy().delayBeforeRetry(attempts, retryAfter, ThreadLocalRandom.current().nextDouble());
    if (delay == null || delay.toNanos() >= remainingNanos()) {
      return null;
    }
    return delay;
  }

  /** Tells the listener that the next attempt follows after {@code delay}. */
  void retrying(Duration delay, LlmGatewayException failure) {
    int next = attempts + 1;
    LoggingListener.safely(() -> listener.retryScheduled(info, next, delay, failure));
  }

  /** Tells the listener that the stream's first event arrived. */
  void firstEvent() {
    if (!details) {
      return;
    }
    try {
      listener.firstEvent(info, elapsed());
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    }
  }

  /** Ends the call successfully; false if it had already ended. */
  boolean succeed(@Nullable Usage usage) {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    releaseSlot();
    Duration latency = elapsed();
    if (details && usage != null) {
      try {
        listener.usageReported(info, usage);
      } catch (RuntimeException e) {
        LoggingListener.threw(e);
      }
    }
    LoggingListener.safely(() -> listener.callEnd(info, latency, null));
    audit(config, spec, info, AuditEvent.Outcome.SUCCESS, lastStatus, latency, attempts, usage, null);
    return true;
  }

  /** Ends the call with {@code failure} (once) and returns it for throwing. */
  LlmGatewayException fail(LlmGatewayException failure) {
    if (ended.compareAndSet(false, true)) {
      releaseSlot();
      Duration latency = elapsed();
      LoggingListener.safely(() -> listener.callEnd(info, latency, failure));
      AuditEvent.Outcome outcome = failure instanceof CallCancelledException
          ? AuditEvent.Outcome.CANCELLED
          : AuditEvent.Outcome.FAILURE;
      audit(config, spec, info, outcome, lastStatus, latency, attempts, null, failure);
    }
    return failure;
  }

  /** The caller gave up: end the call as cancelled and cancel the attempt in flight (or its wait for a slot). */
  void cancel() {
    CallCancelledException cancelled = new CallCancelledException(spec.requestId(), attempts, null);
    try (Mdc ignored = mdc()) {
      fail(cancelled);
    }
    leaveQueue(cancelled);
    Call call = inFlight;
    if (call != null) {
      call.cancel();
    }
  }

  /**
   * An auth strategy, OkHttp or a library the SDK calls threw: keep the SDK's own exceptions, wrap
   * anything else.
   */
  LlmGatewayException unexpected(Throwable e) {
    config.circuitBreaker().onIgnored();
    if (e instanceof LlmGatewayException) {
      return (LlmGatewayException) e;
    }
    return new LlmGatewayException(
        spec.describe() + " failed unexpectedly (" + e.getClass().getSimpleName() + ")", spec.requestId(), attempts, e);
  }

  private Duration elapsed() {
    return Duration.ofNanos(config.ticker().read() - startNanos);
  }

  static void audit(
      ClientConfig config, CallSpec<?> spec, CallInfo info, AuditEvent.Outcome outcome, int status, Duration latency,
      int attempts, @Nullable Usage usage, @Nullable LlmGatewayException failure) {
    AuditEvent event = new AuditEvent(
        config.clock().instant(), info.requestId(), info.operation(), info.userId(), info.companyId(),
        info.queryPreview(), outcome, status, latency, attempts, usage,
        failure == null ? null : failure.getClass().getSimpleName(), spec.auditMetadata(), AuditEvent.Kind.CALL);
    LoggingListener.safely(() -> spec.auditSink().record(event));
  }

  /** A 2xx body over the configured limit. */
  private static final class ResponseTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;
  }

  private static byte[] readAll(@Nullable ResponseBody body, long maxBytes) throws IOException {
    if (body == null) {
      return new byte[0];
    }
    BufferedSource source = body.source();
    if (source.request(maxBytes + 1)) {
      throw new ResponseTooLargeException();
    }
    return source.getBuffer().readByteArray();
  }

  static String readErrorBody(@Nullable ResponseBody body) {
    if (body == null) {
      return "";
    }
    try {
      BufferedSource source = body.source();
      source.request(MAX_ERROR_BODY_BYTES);
      long size = Math.min(source.getBuffer().size(), MAX_ERROR_BODY_BYTES);
      return source.getBuffer().readUtf8(size);
    } catch (IOException e) {
      return "";
    }
  }
}
