package dev.llmgateway.internal;

import dev.llmgateway.ApiException;
import dev.llmgateway.AuditEvent;
import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallInfo;
import dev.llmgateway.CircuitOpenException;
import dev.llmgateway.InvalidResponseException;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.TimeoutException;
import dev.llmgateway.Usage;
import dev.llmgateway.ValidationException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;
import org.jspecify.annotations.Nullable;

/**
 * Runs logical calls: attempts, retries, the circuit breaker, listeners, audit and the MDC. One
 * instance per client; thread-safe (all per-call state lives in {@link LogicalCall}).
 */
@SuppressWarnings("try") // Mdc scopes are try-with-resources whose variable is not used.
public final class CallEngine {
  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");
  /** Bytes of an error body kept; enough for {@link ApiException#MAX_BODY_CHARS} characters. */
  private static final long MAX_ERROR_BODY_BYTES = 4L * ApiException.MAX_BODY_CHARS;

  private final ClientConfig config;

  public CallEngine(ClientConfig config) {
    this.config = config;
  }

  public ClientConfig config() {
    return config;
  }

  /** Runs a call on the calling thread, retrying as the policy allows. */
  public <T> T execute(CallSpec<T> spec) {
    LogicalCall<T> call = new LogicalCall<>(spec);
    try (Mdc ignored = Mdc.put(config.mdcKey(), spec.requestId())) {
      call.start();
      while (true) {
        LlmGatewayException refused = call.admit();
        if (refused != null) {
          throw call.fail(refused);
        }
        Call http;
        try {
          http = call.newAttempt();
        } catch (RuntimeException e) {
          config.circuitBreaker().onIgnored();
          throw call.fail(unexpected(call, e));
        }
        Outcome<T> outcome;
        try (Response response = http.execute()) {
          outcome = call.onResponse(response);
        } catch (IOException e) {
          // OkHttp's call timeout also cancels the call, so only an interrupt means the caller gave up.
          outcome = call.onIoFailure(e, Thread.currentThread().isInterrupted());
        } catch (RuntimeException e) {
          config.circuitBreaker().onIgnored();
          throw call.fail(unexpected(call, e));
        }
        if (outcome.failure == null) {
          return call.succeed(outcome.value);
        }
        Duration delay = call.retryDelay(outcome.failure);
        if (delay == null) {
          throw call.fail(outcome.failure);
        }
        try {
          config.sleeper().sleep(delay);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw call.fail(new CallCancelledException(spec.requestId(), call.attempts, e));
        }
      }
    }
  }

  /**
   * Runs a call without blocking the caller. Cancelling the returned future cancels the HTTP call
   * in flight (or the wait before the next retry).
   */
  public <T> CompletableFuture<T> executeAsync(CallSpec<T> spec) {
    LogicalCall<T> call = new LogicalCall<>(spec);
    CompletableFuture<T> future = new CompletableFuture<>();
    future.whenComplete((value, error) -> {
      if (future.isCancelled()) {
        call.cancel();
      }
    });
    try (Mdc ignored = Mdc.put(config.mdcKey(), spec.requestId())) {
      call.start();
    }
    new AsyncDriver<>(call, future).attempt();
    return future;
  }

  /** An auth strategy or OkHttp threw: keep our own exceptions, wrap anything else. */
  private static LlmGatewayException unexpected(LogicalCall<?> call, RuntimeException e) {
    if (e instanceof LlmGatewayException) {
      return (LlmGatewayException) e;
    }
    return new LlmGatewayException(
        call.spec.describe() + " failed unexpectedly (" + e.getClass().getSimpleName() + ")",
        call.spec.requestId(), call.attempts, e);
  }

  /** Records a call refused by validation: audit only, nothing sent. */
  public void rejected(CallInfo info, ValidationException e) {
    try (Mdc ignored = Mdc.put(config.mdcKey(), info.requestId())) {
      audit(info, AuditEvent.Outcome.REJECTED, 0, Duration.ZERO, 0, null, e);
    }
  }

  private void audit(
      CallInfo info, AuditEvent.Outcome outcome, int status, Duration latency, int attempts,
      @Nullable Usage usage, @Nullable LlmGatewayException failure) {
    AuditEvent event = new AuditEvent(
        config.clock().instant(), info.requestId(), info.operation(), info.userId(), info.companyId(),
        info.queryPreview(), outcome, status, latency, attempts, usage,
        failure == null ? null : failure.getClass().getSimpleName());
    LoggingListener.safely(() -> config.auditSink().record(event));
  }

  /** What one attempt produced: a value, or a failure. */
  private static final class Outcome<T> {
    final @Nullable T value;
    final @Nullable LlmGatewayException failure;

    private Outcome(@Nullable T value, @Nullable LlmGatewayException failure) {
      this.value = value;
      this.failure = failure;
    }
  }

  /** The state of one logical call across its attempts. */
  private final class LogicalCall<T> {
    final CallSpec<T> spec;
    final CallInfo info;
    final AtomicBoolean ended = new AtomicBoolean();
    long startNanos;
    long attemptStartNanos;
    int attempts;
    int lastStatus;
    boolean mayHaveReachedService;
    boolean cutByDeadline;
    @Nullable LlmGatewayException lastFailure;
    volatile @Nullable Call inFlight;

    LogicalCall(CallSpec<T> spec) {
      this.spec = spec;
      this.info = new CallInfo(
          spec.requestId(), spec.operation(), spec.method(), spec.url().encodedPath(),
          spec.user().userId(), spec.user().companyId(), spec.queryPreview());
    }

    void start() {
      startNanos = config.ticker().read();
      LoggingListener.safely(() -> config.listener().callStart(info));
    }

    /** Null when the next attempt may go; else the failure that ends the call. */
    @Nullable LlmGatewayException admit() {
      if (attempts > 0 && remainingNanos() <= 0) {
        return new TimeoutException(
            TimeoutException.Limit.DEADLINE,
            spec.describe() + " gave up: the retry deadline of " + config.retryPolicy().deadline().toMillis()
                + " ms has passed (request id " + spec.requestId() + ", " + attempts + " attempts)",
            spec.requestId(), attempts, lastFailure);
      }
      if (!config.circuitBreaker().tryAcquire()) {
        return new CircuitOpenException(
            config.circuitBreaker().remainingOpenTime(), spec.requestId(), attempts, lastFailure);
      }
      return null;
    }

    long remainingNanos() {
      return config.retryPolicy().deadline().toNanos() - (config.ticker().read() - startNanos);
    }

    Call newAttempt() {
      attempts++;
      Request.Builder request = new Request.Builder()
          .url(spec.url())
          .header("User-Agent", config.userAgent())
          .header("Accept", "application/json")
          .header("X-Request-Id", spec.requestId());
      if (spec.idempotencyKey() != null) {
        request.header("Idempotency-Key", spec.idempotencyKey());
      }
      request.method(spec.method(), spec.body() == null ? null : RequestBody.create(spec.body(), JSON));
      config.auth().authenticate(request, spec.user(), spec.operation());
      Call call = config.http().newCall(request.build());
      long timeout = config.timeout().toNanos();
      long remaining = Math.max(1, remainingNanos());
      cutByDeadline = remaining < timeout;
      call.timeout().timeout(Math.min(timeout, remaining), TimeUnit.NANOSECONDS);
      inFlight = call;
      int attempt = attempts;
      LoggingListener.safely(() -> config.listener().attemptStart(info, attempt));
      attemptStartNanos = config.ticker().read();
      return call;
    }

    Outcome<T> onResponse(Response response) {
      int status = response.code();
      lastStatus = status;
      if (response.isSuccessful()) {
        config.circuitBreaker().onSuccess();
        try {
          byte[] body = readAll(response.body(), config.maxResponseBytes());
          T value = spec.parser().parse(body, spec.requestId());
          attemptEnded(status, null);
          return new Outcome<>(value, null);
        } catch (Json.MalformedJsonException e) {
          return failed(status, new InvalidResponseException(
              spec.describe() + " returned an unusable " + status + " response: " + e.getMessage()
                  + " (request id " + spec.requestId() + ")",
              status, spec.requestId(), attempts, e));
        } catch (ResponseTooLargeException e) {
          return failed(status, new InvalidResponseException(
              spec.describe() + " returned a response larger than " + config.maxResponseBytes()
                  + " bytes (request id " + spec.requestId() + ")",
              status, spec.requestId(), attempts, null));
        } catch (IOException e) {
          return onIoFailure(e, false);
        }
      }
      if (status >= 500) {
        config.circuitBreaker().onFailure();
      } else {
        config.circuitBreaker().onSuccess();
      }
      if (status == 404 && spec.deleteSemantics() && mayHaveReachedService) {
        attemptEnded(status, null);
        return new Outcome<>(null, null);
      }
      if (status == 502 || status == 504) {
        mayHaveReachedService = true;
      }
      String body = readErrorBody(response.body());
      Duration retryAfter = Errors.retryAfter(response.header("Retry-After"), config.clock());
      return failed(status, Errors.fromStatus(spec.describe(), status, body, retryAfter, spec.requestId(), attempts));
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
      return failed(0, Errors.fromIo(spec.describe(), e, cutByDeadline, spec.requestId(), attempts));
    }

    private Outcome<T> failed(int status, LlmGatewayException failure) {
      lastFailure = failure;
      attemptEnded(status, failure);
      return new Outcome<>(null, failure);
    }

    private void attemptEnded(int status, @Nullable LlmGatewayException failure) {
      inFlight = null;
      Duration latency = Duration.ofNanos(config.ticker().read() - attemptStartNanos);
      int attempt = attempts;
      LoggingListener.safely(() -> config.listener().attemptEnd(info, attempt, status, latency, failure));
    }

    /** The wait before the next attempt, or null when the call must end with {@code failure}. */
    @Nullable Duration retryDelay(LlmGatewayException failure) {
      if (ended.get() || attempts > config.retryPolicy().maxRetries() || !retryable(failure)) {
        return null;
      }
      Duration retryAfter = failure instanceof ApiException
          ? ((ApiException) failure).retryAfter()
          : failure instanceof ServiceUnavailableException ? ((ServiceUnavailableException) failure).retryAfter() : null;
      Duration delay = config.retryPolicy().delayBeforeRetry(attempts, retryAfter, ThreadLocalRandom.current().nextDouble());
      if (delay == null || delay.toNanos() >= remainingNanos()) {
        return null;
      }
      int next = attempts + 1;
      LoggingListener.safely(() -> config.listener().retryScheduled(info, next, delay, failure));
      return delay;
    }

    private boolean retryable(LlmGatewayException failure) {
      if (failure instanceof TimeoutException) {
        return config.retryPolicy().retryOnTimeout();
      }
      if (failure instanceof ApiException) {
        return config.retryPolicy().isRetryableStatus(((ApiException) failure).status());
      }
      if (failure instanceof ServiceUnavailableException) {
        int status = ((ServiceUnavailableException) failure).status();
        return status == 0 ? config.retryPolicy().retryOnNetworkFailure() : config.retryPolicy().isRetryableStatus(status);
      }
      return false;
    }

    @Nullable T succeed(@Nullable T value) {
      if (ended.compareAndSet(false, true)) {
        Duration latency = elapsed();
        LoggingListener.safely(() -> config.listener().callEnd(info, latency, null));
        audit(info, AuditEvent.Outcome.SUCCESS, lastStatus, latency, attempts,
            value == null ? null : spec.usageOf().apply(value), null);
      }
      return value;
    }

    LlmGatewayException fail(LlmGatewayException failure) {
      if (ended.compareAndSet(false, true)) {
        Duration latency = elapsed();
        LoggingListener.safely(() -> config.listener().callEnd(info, latency, failure));
        AuditEvent.Outcome outcome = failure instanceof CallCancelledException
            ? AuditEvent.Outcome.CANCELLED
            : AuditEvent.Outcome.FAILURE;
        audit(info, outcome, lastStatus, latency, attempts, null, failure);
      }
      return failure;
    }

    /** The caller gave up on the call: end it as cancelled and cancel the attempt in flight. */
    void cancel() {
      try (Mdc ignored = Mdc.put(config.mdcKey(), spec.requestId())) {
        fail(new CallCancelledException(spec.requestId(), attempts, null));
      }
      Call call = inFlight;
      if (call != null) {
        call.cancel();
      }
    }

    private Duration elapsed() {
      return Duration.ofNanos(config.ticker().read() - startNanos);
    }
  }

  /** Drives a logical call through OkHttp's asynchronous API. */
  private final class AsyncDriver<T> implements Callback {
    private final LogicalCall<T> call;
    private final CompletableFuture<T> future;

    AsyncDriver(LogicalCall<T> call, CompletableFuture<T> future) {
      this.call = call;
      this.future = future;
    }

    void attempt() {
      try (Mdc ignored = Mdc.put(config.mdcKey(), call.spec.requestId())) {
        if (future.isDone()) {
          return;
        }
        LlmGatewayException refused = call.admit();
        if (refused != null) {
          future.completeExceptionally(call.fail(refused));
          return;
        }
        Call http;
        try {
          http = call.newAttempt();
        } catch (RuntimeException e) {
          config.circuitBreaker().onIgnored();
          future.completeExceptionally(call.fail(unexpected(call, e)));
          return;
        }
        if (future.isCancelled()) {
          http.cancel();
        }
        http.enqueue(this);
      }
    }

    @Override
    public void onResponse(Call http, Response response) {
      try (Mdc ignored = Mdc.put(config.mdcKey(), call.spec.requestId()); response) {
        proceed(call.onResponse(response));
      }
    }

    @Override
    public void onFailure(Call http, IOException e) {
      try (Mdc ignored = Mdc.put(config.mdcKey(), call.spec.requestId())) {
        // OkHttp's call timeout also cancels the call, so only the future says the caller gave up.
        proceed(call.onIoFailure(e, future.isCancelled()));
      }
    }

    private void proceed(Outcome<T> outcome) {
      if (outcome.failure == null) {
        future.complete(call.succeed(outcome.value));
        return;
      }
      Duration delay = future.isDone() ? null : call.retryDelay(outcome.failure);
      if (delay == null) {
        future.completeExceptionally(call.fail(outcome.failure));
        return;
      }
      config.sleeper().delay(delay).whenComplete((ignored, error) -> attempt());
    }
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

  private static String readErrorBody(@Nullable ResponseBody body) {
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
