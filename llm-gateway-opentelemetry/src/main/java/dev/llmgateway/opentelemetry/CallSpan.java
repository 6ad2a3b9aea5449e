package dev.llmgateway.opentelemetry;

import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallInfo;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Operation;
import dev.llmgateway.Usage;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The listener of one call: starts its span at {@link #callStart}, ends it at {@link #callEnd}, and
 * injects the span's context into each attempt. Events of one call come one at a time, possibly
 * from different threads; the fields are volatile for the hand-offs.
 */
final class CallSpan implements GatewayListener {
  private static final AttributeKey<String> OPERATION = AttributeKey.stringKey(GatewayTracing.OPERATION);
  private static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey(GatewayTracing.REQUEST_ID);
  private static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey(GatewayTracing.ATTEMPTS);
  private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey(GatewayTracing.OUTCOME);
  private static final AttributeKey<Long> TIME_TO_FIRST_EVENT_MS =
      AttributeKey.longKey(GatewayTracing.TIME_TO_FIRST_EVENT_MS);
  private static final AttributeKey<Long> CREDITS_RESERVED = AttributeKey.longKey(GatewayTracing.CREDITS_RESERVED);
  private static final AttributeKey<String> COMPANY_ID = AttributeKey.stringKey(GatewayTracing.COMPANY_ID);
  private static final AttributeKey<String> USER_ID = AttributeKey.stringKey("user.id");
  private static final AttributeKey<String> HTTP_METHOD = AttributeKey.stringKey("http.request.method");
  private static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  private static final AttributeKey<String> EXCEPTION_TYPE = AttributeKey.stringKey("exception.type");
  private static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
  private static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
  private static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("llm_gateway.attempt");
  private static final AttributeKey<Long> RETRY_DELAY_MS = AttributeKey.longKey("llm_gateway.retry.delay_ms");

  /** Each operation's {@code llm_gateway.operation} value, built once rather than per call. Read-only. */
  private static final Map<Operation, String> OPERATION_NAMES = new EnumMap<>(Operation.class);
  /** Each operation's span name, {@code llm-gateway <operation>}. Read-only. */
  private static final Map<Operation, String> SPAN_NAMES = new EnumMap<>(Operation.class);

  static {
    for (Operation op : Operation.values()) {
      String name = op.name().toLowerCase(Locale.ROOT);
      OPERATION_NAMES.put(op, name);
      SPAN_NAMES.put(op, "llm-gateway " + name);
    }
  }

  /** The usual status, boxed once: {@code setAttribute} takes a {@code Long}. */
  private static final Long HTTP_OK = 200L;

  /** Adds a propagator's headers to an attempt (the carrier is the call's listener), going on past a refused one. */
  private static final TextMapSetter<CallSpan> SETTER = (callSpan, key, value) -> {
    if (callSpan != null) {
      callSpan.inject(key, value);
    }
  };

  private final GatewayTracing tracing;
  private final CallInfo call;
  /** The host's context when the call was created: the span's parent. */
  private final Context parent;
  private volatile @Nullable Span span;
  private volatile @Nullable Context spanContext;
  private volatile int attempts;
  private volatile int lastStatus;
  private volatile long creditsReserved = -1;
  /** The attempt's headers while {@link #attemptHeaders} runs, else null. */
  private @Nullable HeaderSink injecting;
  /** The first header refused while {@link #attemptHeaders} runs. */
  private @Nullable RuntimeException refused;

  CallSpan(GatewayTracing tracing, CallInfo call, Context parent) {
    this.tracing = tracing;
    this.call = call;
    this.parent = parent;
  }

  @Override
  public void creditsReserved(CallInfo call, long credits) {
    creditsReserved = credits;
  }

  @Override
  public void callStart(CallInfo call) {
    Operation op = call.operation();
    SpanBuilder builder = tracing.tracer().spanBuilder(Objects.requireNonNull(SPAN_NAMES.get(op)))
        .setParent(parent)
        .setSpanKind(SpanKind.CLIENT)
        .setAttribute(OPERATION, Objects.requireNonNull(OPERATION_NAMES.get(op)))
        .setAttribute(HTTP_METHOD, call.method())
        .setAttribute(REQUEST_ID, call.requestId());
    if (tracing.recordUserIds()) {
      builder.setAttribute(USER_ID, call.userId()).setAttribute(COMPANY_ID, call.companyId());
    }
    long credits = creditsReserved;
    if (credits >= 0) {
      builder.setAttribute(CREDITS_RESERVED, credits);
    }
    Span started = builder.startSpan();
    spanContext = parent.with(started);
    span = started;
  }

  @Override
  public void attemptStart(CallInfo call, int attempt) {
    attempts = attempt;
  }

  @Override
  public void attemptHeaders(CallInfo call, int attempt, HeaderSink headers) {
    Context context = spanContext;
    // The call's events come one at a time, so the listener itself is the carrier: no object per attempt.
    injecting = headers;
    refused = null;
    try {
      tracing.propagator().inject(context == null ? parent : context, this, SETTER);
    } finally {
      injecting = null;
    }
    RuntimeException e = refused;
    if (e != null) {
      refused = null;
      throw e;
    }
  }

  /** Adds one header to the attempt being injected; keeps the first refusal to report it once every header was tried. */
  private void inject(String name, String value) {
    HeaderSink headers = injecting;
    if (headers == null) {
      return;
    }
    try {
      headers.set(name, value);
    } catch (IllegalArgumentException | IllegalStateException e) {
      if (refused == null) {
        refused = e;
      }
    }
  }

  @Override
  public void attemptEnd(
      CallInfo call, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {
    if (status > 0) {
      lastStatus = status;
    }
  }

  @Override
  public void retryScheduled(CallInfo call, int nextAttempt, Duration delay, LlmGatewayException failure) {
    Span current = span;
    if (current == null) {
      return;
    }
    AttributesBuilder attributes = Attributes.builder()
        .put(ATTEMPT, nextAttempt)
        .put(RETRY_DELAY_MS, delay.toMillis())
        .put(ERROR_TYPE, failure.getClass().getName());
    int status = lastStatus;
    if (status > 0) {
      attributes.put(HTTP_STATUS, status);
    }
    current.addEvent(GatewayTracing.RETRY_EVENT, attributes.build());
  }

  @Override
  public void firstEvent(CallInfo call, Duration sinceCallStart) {
    Span current = span;
    if (current == null) {
      return;
    }
    long millis = sinceCallStart.toMillis();
    current.setAttribute(TIME_TO_FIRST_EVENT_MS, millis);
    current.addEvent(GatewayTracing.FIRST_EVENT_EVENT, Attributes.of(TIME_TO_FIRST_EVENT_MS, millis));
  }

  @Override
  public void usageReported(CallInfo call, Usage usage) {
    Span current = span;
    if (current == null) {
      return;
    }
    current.setAttribute(INPUT_TOKENS, usage.promptTokens());
    current.setAttribute(OUTPUT_TOKENS, usage.completionTokens());
  }

  @Override
  public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
    Span current = span;
    if (current == null) {
      return;
    }
    current.setAttribute(ATTEMPTS, (long) attempts);
    int status = lastStatus;
    if (status > 0) {
      current.setAttribute(HTTP_STATUS, status == 200 ? HTTP_OK : Long.valueOf(status));
    }
    if (failure == null) {
      current.setAttribute(OUTCOME, "success");
    } else {
      String type = failure.getClass().getName();
      current.setAttribute(ERROR_TYPE, type);
      if (failure instanceof CallCancelledException) {
        current.setAttribute(OUTCOME, "cancelled");
      } else {
        current.setAttribute(OUTCOME, "error");
        current.setStatus(StatusCode.ERROR, failure.getClass().getSimpleName());
        // Not recordException: its message and stack trace may quote the service's answer.
        current.addEvent("exception", Attributes.of(EXCEPTION_TYPE, type));
      }
    }
    current.end();
  }

  @Override
  public String toString() {
    return "CallSpan{requestId=" + call.requestId() + "}";
  }
}
