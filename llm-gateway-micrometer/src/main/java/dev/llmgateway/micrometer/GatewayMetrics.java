package dev.llmgateway.micrometer;

import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallInfo;
import dev.llmgateway.CallTimeoutException;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Operation;
import dev.llmgateway.Usage;
import dev.llmgateway.ValidationException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * Micrometer meters for an {@link dev.llmgateway.LlmGatewayClient}'s calls: calls by operation and
 * outcome with their latency, time to first event of streams, attempts, retries, active streams,
 * tokens, circuit breaker transitions and state, and, for calls made through {@code
 * llm-gateway-host}'s {@code ChatGateway}, credit reservations and relay disconnects; and, by the
 * shared {@link #listener()}, requests refused before any call (the client's and the gateway's
 * validation, the gateway's rate limits, credits and store failures). The gateway's settlements
 * are counted by {@link #host()}.
 *
 * <pre>{@code
 * GatewayMetrics metrics = GatewayMetrics.builder(registry).build();
 * LlmGatewayClient client = LlmGatewayClient.builder()
 *     .listenerFactory(metrics.listenerFactory())
 *     .listener(GatewayListener.composite(GatewayListener.logging(), metrics.listener()))
 *     .build();
 * metrics.monitor(client.circuitBreaker());
 * }</pre>
 *
 * <p>Every tag has few values (operations, outcomes, exception class names, status classes): no
 * user id, company id, request id or query ever becomes a tag. Meters are registered on first use
 * and then cached, so a call's events do not look meters up in the registry.
 *
 * <p>Thread-safe: one instance serves every call of any number of clients sharing its tags (give
 * clients that must be told apart their own instance with a distinguishing {@link
 * Builder#tags(Iterable) tag}). Build one instance per registry and tag set: a registry keeps one
 * gauge per name and tags, so the {@value #ACTIVE_STREAMS} gauge of a second instance with the
 * same tags would not be reported (its counters and timers would be shared, which is harmless).
 */
public final class GatewayMetrics {
  /** Timer of logical calls: count and latency. Tags: operation, outcome, exception. */
  public static final String CALLS = "llm.gateway.calls";
  /** Timer of HTTP attempts: count and latency. Tags: operation, status. */
  public static final String ATTEMPTS = "llm.gateway.attempts";
  /** Counter of scheduled retries. Tags: operation, exception. */
  public static final String RETRIES = "llm.gateway.retries";
  /** Timer from a stream's start to its first event (time to first token). Tag: operation. */
  public static final String FIRST_EVENT = "llm.gateway.stream.first.event";
  /** Gauge of streams started and not yet ended. */
  public static final String ACTIVE_STREAMS = "llm.gateway.streams.active";
  /** Counter of tokens the service reported. Tags: operation, type (input, output). */
  public static final String TOKENS = "llm.gateway.tokens";
  /** Counter of circuit breaker transitions. Tags: from, to. */
  public static final String CIRCUIT_TRANSITIONS = "llm.gateway.circuit.transitions";
  /** Gauge per breaker state, 1 for the current state and 0 for the others. Tag: state. */
  public static final String CIRCUIT_STATE = "llm.gateway.circuit.state";
  /** Counter of credit reservations of gateway calls. Tag: operation. */
  public static final String CREDIT_RESERVATIONS = "llm.gateway.credits.reservations";
  /** Counter of credits held by reservations of gateway calls. Tag: operation. */
  public static final String CREDITS_RESERVED = "llm.gateway.credits.reserved";
  /**
   * Counter of requests refused before any call was made for them, counted by {@link #listener()}.
   * Tags: operation, reason (forbidden, invalid, rate_limited, insufficient_credits, store_failure, other).
   */
  public static final String REFUSALS = "llm.gateway.refusals";
  /** Counter of relayed streams whose browser went away before the stream ended. */
  public static final String RELAY_DISCONNECTS = "llm.gateway.relay.disconnects";

  /** Tag value of a call or attempt without an exception, or an attempt without a response. */
  static final String NONE = "none";

  private final MeterRegistry registry;
  private final Tags tags;
  private final boolean percentileHistogram;
  private final Duration @Nullable [] slos;

  // Read-only after construction; each holds its operation's meters, registered on first use.
  private final Map<Operation, OperationMeters> byOperation = new EnumMap<>(Operation.class);
  private final Counter relayDisconnects;
  private final AtomicInteger activeStreams = new AtomicInteger();
  private final GatewayListener shared = new SharedListener();
  private final GatewayListener.Factory factory = this::callListener;

  // llm-gateway-host's refusals, by name (see refusalReason).
  static final String RATE_LIMIT_EXCEEDED = "dev.llmgateway.host.RateLimitExceededException";
  static final String INSUFFICIENT_CREDITS = "dev.llmgateway.host.InsufficientCreditsException";
  static final String STATE_STORE_FAILED = "dev.llmgateway.host.StateStoreException";
  static final String FORBIDDEN = "dev.llmgateway.host.ForbiddenException";

  private static final String[] STATUS_CLASSES = {NONE, "1xx", "2xx", "3xx", "4xx", "5xx"};

  private GatewayMetrics(Builder b) {
    this.registry = b.registry;
    this.tags = b.tags;
    this.percentileHistogram = b.percentileHistogram;
    this.slos = b.slos;
    for (Operation op : Operation.values()) {
      byOperation.put(op, new OperationMeters(op));
    }
    Gauge.builder(ACTIVE_STREAMS, activeStreams, AtomicInteger::get)
        .description("Streams started and not yet ended")
        .baseUnit("streams")
        .tags(tags)
        .register(registry);
    this.relayDisconnects = Counter.builder(RELAY_DISCONNECTS)
        .description("Relayed streams whose browser went away before the stream ended")
        .tags(tags)
        .register(registry);
  }

  /**
   * Starts building metrics on {@code registry}.
   *
   * @param registry where the meters go
   * @return a builder
   * @throws NullPointerException if {@code registry} is null
   */
  public static Builder builder(MeterRegistry registry) {
    return new Builder(registry);
  }

  /**
   * Returns the factory to set with {@link
   * dev.llmgateway.LlmGatewayClient.Builder#listenerFactory(GatewayListener.Factory)}: its
   * listeners record every call, attempt, retry, first event, usage, credit reservation and relay
   * disconnect. It allocates one small object per stream, none per other call.
   *
   * @return the per-call factory (one instance)
   */
  public GatewayListener.Factory listenerFactory() {
    return factory;
  }

  /**
   * Returns the shared listener to set with {@link
   * dev.llmgateway.LlmGatewayClient.Builder#listener(GatewayListener)} (composed with the logging
   * one if wanted): it counts what belongs to no call: requests refused before any call was made
   * ({@value #REFUSALS}: the client's validation, and {@code ChatGateway}'s validation, rate limits,
   * credits and store failures, each counted once, tagged with the operation and a reason) and
   * circuit breaker transitions. It ignores the per-call events, so it never counts what {@link
   * #listenerFactory()}'s listeners count.
   *
   * @return the shared listener (one instance)
   */
  public GatewayListener listener() {
    return shared;
  }

  /**
   * Registers the {@value #CIRCUIT_STATE} gauges reading {@code breaker}'s current state (one
   * gauge per state, 1 for the current one). Call it once per breaker, e.g. with {@link
   * dev.llmgateway.LlmGatewayClient#circuitBreaker()}; the gauges hold the breaker weakly, as
   * Micrometer gauges do.
   *
   * @param breaker the breaker to watch
   * @return this
   * @throws NullPointerException if {@code breaker} is null
   */
  public GatewayMetrics monitor(CircuitBreaker breaker) {
    Objects.requireNonNull(breaker, "breaker");
    for (CircuitBreaker.State state : CircuitBreaker.State.values()) {
      Gauge.builder(CIRCUIT_STATE, breaker, b -> b.state() == state ? 1 : 0)
          .description("1 when the circuit breaker is in this state, else 0")
          .tags(tags)
          .tag("state", lower(state))
          .register(registry);
    }
    return this;
  }

  /**
   * Returns the meters of {@code llm-gateway-host}'s {@code ChatGateway} on the same registry and
   * tags: its settlements (its refusals are counted by {@link #listener()}). Needs {@code
   * llm-gateway-host} on the class path.
   *
   * @return the host's meters
   */
  public HostMetrics host() {
    return new HostMetrics(registry, tags);
  }

  /**
   * Returns the number of streams started and not yet ended, as the {@value #ACTIVE_STREAMS} gauge
   * reports it.
   *
   * @return the active streams
   */
  public int activeStreams() {
    return activeStreams.get();
  }

  private OperationMeters meters(Operation op) {
    return Objects.requireNonNull(byOperation.get(op));
  }

  /** A stream's own listener, or the shared one of the call's operation (calls other than streams keep no state). */
  private GatewayListener callListener(CallInfo call) {
    OperationMeters meters = meters(call.operation());
    return call.operation() == Operation.CHAT_STREAM ? new StreamMetrics(meters) : meters.calls;
  }

  private Timer timer(Timer.Builder builder) {
    builder.tags(tags).publishPercentileHistogram(percentileHistogram);
    if (slos != null) {
      builder.serviceLevelObjectives(slos);
    }
    return builder.register(registry);
  }

  private Counter counter(Counter.Builder builder) {
    return builder.tags(tags).register(registry);
  }

  /**
   * One operation's meters, each registered on first use and then read from its field: no
   * registry lookup and no allocation on the per-call path once registered. A race registers
   * the same id twice, and the registry returns the one meter both times.
   */
  private final class OperationMeters {
    private final String operation;
    private volatile @Nullable Timer succeeded;
    private final ConcurrentMap<Class<?>, Timer> failed = new ConcurrentHashMap<>();
    // By status class: 0 for no response, 1 to 5 for 1xx to 5xx.
    private final AtomicReferenceArray<Timer> attempts = new AtomicReferenceArray<>(STATUS_CLASSES.length);
    private final ConcurrentMap<Class<?>, Counter> retries = new ConcurrentHashMap<>();
    private final ConcurrentMap<Class<?>, Counter> refusals = new ConcurrentHashMap<>();
    private volatile @Nullable Timer firstEvent;
    private volatile @Nullable Counter tokensIn;
    private volatile @Nullable Counter tokensOut;
    private volatile @Nullable Counter reservations;
    private volatile @Nullable Counter reserved;
    /** The listener of this operation's calls other than streams, shared by all of them. */
    final GatewayListener calls = new CallMetrics(this);

    OperationMeters(Operation op) {
      this.operation = lower(op);
    }

    Timer call(@Nullable LlmGatewayException failure) {
      if (failure == null) {
        Timer t = succeeded;
        if (t == null) {
          t = callTimer("success", NONE);
          succeeded = t;
        }
        return t;
      }
      Timer t = failed.get(failure.getClass());
      return t != null ? t
          : failed.computeIfAbsent(failure.getClass(), c -> callTimer(outcome(failure), exceptionName(c)));
    }

    private Timer callTimer(String outcome, String exception) {
      return timer(Timer.builder(CALLS)
          .description("Logical calls to the LLM service (retries included) and their latency")
          .tag("operation", operation)
          .tag("outcome", outcome)
          .tag("exception", exception));
    }

    Timer attempt(int status) {
      int statusClass = status >= 100 && status < 600 ? status / 100 : 0;
      Timer t = attempts.get(statusClass);
      if (t == null) {
        t = timer(Timer.builder(ATTEMPTS)
            .description("HTTP attempts to the LLM service and their latency")
            .tag("operation", operation)
            .tag("status", STATUS_CLASSES[statusClass]));
        attempts.set(statusClass, t);
      }
      return t;
    }

    Counter retry(LlmGatewayException failure) {
      Counter c = retries.get(failure.getClass());
      return c != null ? c : retries.computeIfAbsent(failure.getClass(), type -> counter(Counter.builder(RETRIES)
          .description("Retries scheduled after a failed attempt")
          .tag("operation", operation)
          .tag("exception", exceptionName(type))));
    }

    Counter refusal(LlmGatewayException refusal) {
      Counter c = refusals.get(refusal.getClass());
      return c != null ? c : refusals.computeIfAbsent(refusal.getClass(), type -> counter(Counter.builder(REFUSALS)
          .description("Requests refused before any call was made for them")
          .tag("operation", operation)
          .tag("reason", refusalReason(type))));
    }

    Timer firstEvent() {
      Timer t = firstEvent;
      if (t == null) {
        t = timer(Timer.builder(FIRST_EVENT)
            .description("Time from a stream's start to its first event (time to first token), retries included")
            .tag("operation", operation));
        firstEvent = t;
      }
      return t;
    }

    Counter tokensIn() {
      Counter c = tokensIn;
      if (c == null) {
        c = tokens("input");
        tokensIn = c;
      }
      return c;
    }

    Counter tokensOut() {
      Counter c = tokensOut;
      if (c == null) {
        c = tokens("output");
        tokensOut = c;
      }
      return c;
    }

    private Counter tokens(String type) {
      return counter(Counter.builder(TOKENS)
          .description("Tokens the LLM service reported: input (prompt) and output (completion)")
          .baseUnit("tokens")
          .tag("operation", operation)
          .tag("type", type));
    }

    Counter reservations() {
      Counter c = reservations;
      if (c == null) {
        c = counter(Counter.builder(CREDIT_RESERVATIONS)
            .description("Credit reservations made for gateway calls")
            .tag("operation", operation));
        reservations = c;
      }
      return c;
    }

    Counter reserved() {
      Counter c = reserved;
      if (c == null) {
        c = counter(Counter.builder(CREDITS_RESERVED)
            .description("Credits held by the reservations of gateway calls")
            .baseUnit("credits")
            .tag("operation", operation));
        reserved = c;
      }
      return c;
    }
  }

  static String outcome(LlmGatewayException failure) {
    if (failure instanceof CallCancelledException) {
      return "cancelled";
    }
    if (failure instanceof CallTimeoutException) {
      return "timeout";
    }
    return "error";
  }

  /**
   * The {@code reason} tag of a refused request, a fixed set whatever the exception: {@code
   * invalid} ({@link ValidationException}), {@code forbidden} (the host's {@code ChatPolicy}),
   * {@code rate_limited}, {@code insufficient_credits}, {@code store_failure} (a {@code StateStoreException} or a store's subclass of it), {@code
   * other}. The host's classes are matched by name, so this never loads them (llm-gateway-host
   * is optional).
   */
  static String refusalReason(Class<?> type) {
    if (ValidationException.class.isAssignableFrom(type)) {
      return "invalid";
    }
    for (Class<?> c = type; c != null && c != LlmGatewayException.class; c = c.getSuperclass()) {
      switch (c.getName()) {
        case RATE_LIMIT_EXCEEDED:
          return "rate_limited";
        case INSUFFICIENT_CREDITS:
          return "insufficient_credits";
        case FORBIDDEN:
          return "forbidden";
        case STATE_STORE_FAILED:
          return "store_failure";
        default:
          break;
      }
    }
    return "other";
  }

  /** The simple name of an exception class (a bounded set: classes, never messages). */
  static String exceptionName(Class<?> type) {
    String simple = type.getSimpleName();
    return simple.isEmpty() ? type.getName() : simple;
  }

  static String lower(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }

  /** The shared listener: refusals and circuit breaker transitions, which belong to no call. */
  private final class SharedListener implements GatewayListener {
    @Override
    public void callRefused(Operation operation, LlmGatewayException refusal) {
      meters(operation).refusal(refusal).increment();
    }

    @Override
    public void circuitStateChanged(CircuitBreaker.State from, CircuitBreaker.State to) {
      // Rare: the registry's lookup of the existing counter is cheap enough.
      counter(Counter.builder(CIRCUIT_TRANSITIONS)
          .description("Circuit breaker state changes")
          .tag("from", lower(from))
          .tag("to", lower(to)))
          .increment();
    }
  }

  /**
   * The listener of the calls of one operation other than a stream: it keeps no state of its own,
   * so one instance per operation serves all of them (nothing allocated per call). Settlements are
   * not counted here but by {@link HostMetrics#settlementListener()}, which also sees those of
   * direct streams (which have no call listener).
   */
  private static class CallMetrics implements GatewayListener {
    final OperationMeters meters;

    CallMetrics(OperationMeters meters) {
      this.meters = meters;
    }

    @Override
    public void attemptEnd(
        CallInfo call, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {
      meters.attempt(status).record(latency.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void retryScheduled(CallInfo call, int nextAttempt, Duration delay, LlmGatewayException failure) {
      meters.retry(failure).increment();
    }

    @Override
    public void firstEvent(CallInfo call, Duration sinceCallStart) {
      meters.firstEvent().record(sinceCallStart.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void usageReported(CallInfo call, Usage usage) {
      meters.tokensIn().increment((double) usage.promptTokens());
      meters.tokensOut().increment((double) usage.completionTokens());
    }

    @Override
    public void creditsReserved(CallInfo call, long credits) {
      meters.reservations().increment();
      meters.reserved().increment((double) credits);
    }

    @Override
    public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
      meters.call(failure).record(latency.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /**
   * The listener of one stream, which also counts it among the active streams and, when it is a
   * {@code ChatGateway} relay cancelled by its browser, among the relay disconnects. Its events
   * come one at a time (see {@link GatewayListener}).
   */
  private final class StreamMetrics extends CallMetrics {
    private boolean streamStarted;
    private boolean gatewayCall;

    StreamMetrics(OperationMeters meters) {
      super(meters);
    }

    @Override
    public void callStart(CallInfo call) {
      streamStarted = true;
      activeStreams.incrementAndGet();
    }

    @Override
    public void creditsReserved(CallInfo call, long credits) {
      gatewayCall = true;
      super.creditsReserved(call, credits);
    }

    @Override
    public void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {
      if (streamStarted) {
        streamStarted = false;
        activeStreams.decrementAndGet();
        if (gatewayCall && failure instanceof CallCancelledException) {
          // A ChatGateway relay is cancelled only when its browser goes away.
          relayDisconnects.increment();
        }
      }
      super.callEnd(call, latency, failure);
    }
  }

  /**
   * Builds {@link GatewayMetrics}. Not thread-safe.
   */
  public static final class Builder {
    private final MeterRegistry registry;
    private Tags tags = Tags.empty();
    private boolean percentileHistogram;
    private Duration @Nullable [] slos;

    private Builder(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
    }

    /**
     * Adds tags to every meter, e.g. {@code client=search} to tell two clients apart. Keep their
     * values few and fixed.
     *
     * @param tags the tags
     * @return this builder
     * @throws NullPointerException if {@code tags} is null
     */
    public Builder tags(Iterable<Tag> tags) {
      this.tags = this.tags.and(Objects.requireNonNull(tags, "tags"));
      return this;
    }

    /**
     * Publishes a percentile histogram with the timers ({@value #CALLS}, {@value #ATTEMPTS},
     * {@value #FIRST_EVENT}), for percentiles aggregated across instances (Prometheus {@code
     * histogram_quantile}). Off by default (a registry's {@code MeterFilter} may also turn it on).
     *
     * @param enabled whether to publish the histogram
     * @return this builder
     */
    public Builder percentileHistogram(boolean enabled) {
      this.percentileHistogram = enabled;
      return this;
    }

    /**
     * Publishes counts of timings at or below each of these bounds with the timers, e.g. 1 s and
     * 5 s for a latency objective. None by default.
     *
     * @param objectives positive durations
     * @return this builder
     * @throws NullPointerException if {@code objectives} or one of them is null
     * @throws IllegalArgumentException if one is zero or negative
     */
    public Builder serviceLevelObjectives(Duration... objectives) {
      Duration[] copy = Objects.requireNonNull(objectives, "objectives").clone();
      for (Duration d : copy) {
        Objects.requireNonNull(d, "objectives");
        if (d.isZero() || d.isNegative()) {
          throw new IllegalArgumentException("objectives must be positive: " + d);
        }
      }
      this.slos = copy.length == 0 ? null : copy;
      return this;
    }

    /**
     * Builds the metrics and registers the {@value #ACTIVE_STREAMS} gauge and the {@value
     * #RELAY_DISCONNECTS} counter; the other meters appear on first use.
     *
     * @return the metrics
     */
    public GatewayMetrics build() {
      return new GatewayMetrics(this);
    }
  }
}
