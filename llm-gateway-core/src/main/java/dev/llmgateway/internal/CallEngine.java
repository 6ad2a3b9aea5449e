package dev.llmgateway.internal;

import dev.llmgateway.AuditEvent;
import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallInfo;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.RequestValidator;
import dev.llmgateway.ValidationException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Runs JSON calls: attempts, retries, the circuit breaker, listeners, audit and the MDC. One
 * instance per client; thread-safe (all per-call state lives in {@link LogicalCall}).
 */
@SuppressWarnings("try") // Mdc scopes are try-with-resources whose variable is not used.
public final class CallEngine {
  private final ClientConfig config;

  public CallEngine(ClientConfig config) {
    this.config = config;
  }

  public ClientConfig config() {
    return config;
  }

  /**
   * Runs a call on the calling thread, retrying as the policy allows; first waits on this thread
   * for one of the client's slots for calls in flight.
   *
   * @return the call's result: null for a call without one ({@code T} is {@code Void})
   */
  public <T> @Nullable T execute(CallSpec<T> spec) {
    return execute(spec, null);
  }

  /**
   * Runs a call as {@link #execute(CallSpec)} does, telling {@code hook} of the call's listener
   * before the call starts.
   */
  public <T> @Nullable T execute(CallSpec<T> spec, HostAccess.@Nullable ListenerHook hook) {
    LogicalCall<T> call = new LogicalCall<>(config, spec, hook);
    try (Mdc ignored = call.mdc()) {
      call.start();
      LlmGatewayException full = call.acquireSlot();
      if (full != null) {
        throw call.fail(full);
      }
      while (true) {
        LlmGatewayException refused = call.admit();
        if (refused != null) {
          throw call.fail(refused);
        }
        LogicalCall.Outcome<T> outcome;
        try {
          Call http = call.newAttempt(config.http(), "application/json", true);
          try (Response response = http.execute()) {
            outcome = call.onResponse(response);
          }
        } catch (IOException e) {
          // OkHttp's call timeout also cancels the call, so only an interrupt means the caller gave up.
          outcome = call.onIoFailure(e, Thread.currentThread().isInterrupted());
        } catch (RuntimeException e) {
          throw call.fail(call.unexpected(e));
        } catch (Error e) {
          // Such as a NoSuchMethodError from a library older than the SDK needs: the call still
          // ends (its slot, listeners and audit settled), and the caller gets the error itself.
          call.fail(call.unexpected(e));
          throw e;
        }
        if (outcome.failure == null) {
          T value = outcome.value;
          call.succeed(value == null ? null : spec.usageOf().apply(value));
          return value;
        }
        Duration delay = call.retryDelay(outcome.failure);
        if (delay == null) {
          throw call.fail(outcome.failure);
        }
        call.retrying(delay, outcome.failure);
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
   * Runs a call without blocking the caller. When every slot for calls in flight is taken, the call
   * waits for one in a queue, without a thread. Cancelling the returned future cancels the HTTP
   * call in flight (or the wait for a slot or before the next retry).
   */
  public <T> CompletableFuture<T> executeAsync(CallSpec<T> spec) {
    LogicalCall<T> call = new LogicalCall<>(config, spec, null);
    CompletableFuture<T> future = new CompletableFuture<>();
    // The stage whenComplete returns is not needed: it completes when this future does.
    var unused = future.whenComplete((value, error) -> {
      if (future.isCancelled()) {
        call.cancel();
      }
    });
    try (Mdc ignored = call.mdc()) {
      call.start();
    }
    AsyncDriver<T> driver = new AsyncDriver<>(call, future);
    call.acquireSlotLater(driver::attempt, refused -> {
      try (Mdc ignored = call.mdc()) {
        future.completeExceptionally(call.fail(refused));
      }
    });
    return future;
  }

  /**
   * Records a call refused by validation, nothing sent: its audit event, and {@link
   * dev.llmgateway.GatewayListener#callRefused} on the shared listener (no call listener is made).
   */
  public void rejected(CallSpec<?> spec, ValidationException e) {
    CallInfo info = spec.info();
    // The ids may be what was refused (too long, not header-safe): bounded and cleaned for the audit.
    int max = RequestValidator.MAX_HEADER_VALUE_LENGTH;
    CallInfo audited = new CallInfo(Text.preview(info.requestId(), max), info.operation(), info.method(),
        info.path(), Text.preview(info.userId(), max), Text.preview(info.companyId(), max), info.queryPreview());
    try (Mdc ignored = Mdc.put(config.mdcKey(), info.requestId())) {
      LogicalCall.audit(config, spec, audited, AuditEvent.Outcome.REJECTED, 0, Duration.ZERO, 0, null, e);
      LoggingListener.safely(() -> config.listener().callRefused(info.operation(), e));
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
      try (Mdc ignored = call.mdc()) {
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
          http = call.newAttempt(config.http(), "application/json", true);
        } catch (RuntimeException e) {
          future.completeExceptionally(call.fail(call.unexpected(e)));
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
      try (Mdc ignored = call.mdc(); response) {
        try {
          proceed(call.onResponse(response));
        } catch (RuntimeException | Error e) {
          end(e);
        }
      }
    }

    @Override
    public void onFailure(Call http, IOException e) {
      try (Mdc ignored = call.mdc()) {
        try {
          // OkHttp's call timeout also cancels the call, so only the future says the caller gave up.
          proceed(call.onIoFailure(e, future.isCancelled()));
        } catch (RuntimeException | Error thrown) {
          end(thrown);
        }
      }
    }

    /**
     * Ends the call with what handling its answer threw. OkHttp calls no other callback after this
     * one, so nothing else would complete the future or free the call's slot. The future fails as
     * the synchronous call would: with the SDK's exception, or with an {@link Error} itself (such as
     * a NoSuchMethodError from a library older than the SDK needs).
     */
    private void end(Throwable thrown) {
      LlmGatewayException failure = call.fail(call.unexpected(thrown));
      future.completeExceptionally(thrown instanceof Error ? thrown : failure);
    }

    private void proceed(LogicalCall.Outcome<T> outcome) {
      if (outcome.failure == null) {
        T value = outcome.value;
        call.succeed(value == null ? null : call.spec.usageOf().apply(value));
        future.complete(value);
        return;
      }
      Duration delay = future.isDone() ? null : call.retryDelay(outcome.failure);
      if (delay == null) {
        future.completeExceptionally(call.fail(outcome.failure));
        return;
      }
      call.retrying(delay, outcome.failure);
      config.sleeper().delay(delay).whenComplete((ignored, error) -> attempt());
    }
  }
}
