package dev.llmgateway;

import dev.llmgateway.internal.CompositeListener;
import dev.llmgateway.internal.LoggingListener;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Observes calls: their start and end, each HTTP attempt, scheduled retries and circuit breaker
 * changes; may add trace-propagation headers to each attempt ({@link #attemptHeaders}). Every method has an empty default, so implement only what you need. The client's
 * default is {@link #logging()}; to keep logs while adding metrics, use {@link
 * #composite(GatewayListener...)}.
 *
 * <p>Two ways to attach one, both on {@link LlmGatewayClient.Builder}: {@link
 * LlmGatewayClient.Builder#listener(GatewayListener) listener(...)} sets one listener shared by
 * every call of the client (it tells calls apart by their {@link CallInfo}); {@link
 * LlmGatewayClient.Builder#listenerFactory(Factory) listenerFactory(...)} sets a {@link Factory}
 * that creates a listener per logical call, which sees only that call's events and may keep
 * per-call state (a span, a start time, time to first token) in plain fields. When both are set,
 * each event goes first to the shared listener, then to the call's own.
 *
 * <p>A call's events come in this order: {@link #creditsReserved} (calls made through {@code
 * llm-gateway-host}'s {@code ChatGateway} only), {@link #callStart}, then per attempt {@link
 * #attemptStart}, {@link #attemptHeaders} and {@link #attemptEnd} with a {@link #retryScheduled}
 * between attempts, {@link
 * #firstEvent} (streams), {@link #usageReported} (when the service reported usage), {@link
 * #callEnd} exactly once, and {@link #creditsSettled} exactly once after a {@link
 * #creditsReserved}. A stream's attempt ends when its first event arrives. A request refused
 * before any call was made for it has none of these: the shared listener hears {@link
 * #callRefused} instead.
 *
 * <p>Methods run synchronously on the thread doing the work (the caller's thread for blocking calls,
 * an OkHttp dispatcher thread for asynchronous ones), with the request id in the SLF4J MDC. They
 * must be fast and must not block; an exception thrown by a listener is logged and ignored: it
 * never changes the call or its settlement. A call's events come one at a time, except that
 * cancelling an asynchronous call ends it ({@link #callEnd}) on the cancelling thread while the
 * attempt in flight may still report its {@link #attemptEnd} on another. Implementations of the
 * shared listener must be thread-safe.
 */
public interface GatewayListener {
  /**
   * A logical call passed validation and is about to make its first attempt.
   *
   * @param call the call
   */
  default void callStart(CallInfo call) {}

  /**
   * An HTTP attempt starts.
   *
   * @param call the call
   * @param attempt the attempt number, from 1
   */
  default void attemptStart(CallInfo call, int attempt) {}

  /**
   * An HTTP attempt ended.
   *
   * @param call the call
   * @param attempt the attempt number, from 1
   * @param status the HTTP status, or 0 when no response arrived
   * @param latency time from the attempt's start to its end
   * @param failure why the attempt failed, or null when it succeeded
   */
  default void attemptEnd(
      CallInfo call, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {}

  /**
   * Lets the listener add headers to an attempt's request just before it is sent, chiefly to
   * propagate a trace (W3C {@code traceparent} and {@code tracestate}, so that the service's spans
   * join the caller's trace; CONTRACT section 6). Called once per attempt, right after {@link
   * #attemptStart}, on the thread sending the attempt: for asynchronous calls, retries and
   * streams that is an OkHttp, executor or sleeper thread, so take the trace context from the call
   * (e.g. from a span kept since {@link #callStart}), never from the thread.
   *
   * <p>{@code headers} accepts only headers the request does not have yet: it refuses, with an
   * {@link IllegalArgumentException}, every header the SDK sets itself ({@code Authorization},
   * {@code X-Service-Token}, {@code X-User-*}, {@code X-Company-*}, {@code X-Request-Id}, {@code
   * Idempotency-Key}, {@code Accept}, {@code Content-Type}, {@code User-Agent}, …), those its
   * {@link AuthStrategy} set, HTTP's own ({@code Host}, {@code Content-Length}, {@code
   * Connection}, {@code Cookie}, …), and invalid names or values (see {@link HeaderSink#set}). It
   * is valid only during this call. When both a shared listener and the call's own add the same
   * header, the first (the shared one) wins. Not called for the built-in {@link #logging()} and
   * {@link #none()} listeners, which add none.
   *
   * @param call the call
   * @param attempt the attempt number, from 1
   * @param headers where to add the attempt's extra headers
   */
  default void attemptHeaders(CallInfo call, int attempt, HeaderSink headers) {}

  /**
   * A failed attempt will be retried.
   *
   * @param call the call
   * @param nextAttempt the number of the coming attempt
   * @param delay the wait before it
   * @param failure the failure that caused the retry
   */
  default void retryScheduled(CallInfo call, int nextAttempt, Duration delay, LlmGatewayException failure) {}

  /**
   * A stream's first event arrived: its time to first token. Streams only; called at most once,
   * after the {@link #attemptEnd} of the attempt that delivered it and before the event reaches
   * the caller. Not called for a stream that failed before its first event.
   *
   * @param call the call
   * @param sinceCallStart time from the call's start, retries and the waits between them included
   */
  default void firstEvent(CallInfo call, Duration sinceCallStart) {}

  /**
   * The service reported the tokens the call used: the usage of a chat answer, or of a stream's
   * final {@code done} event. Called at most once, just before a successful {@link #callEnd}; not
   * called when the service reported none.
   *
   * @param call the call
   * @param usage the tokens read and generated
   */
  default void usageReported(CallInfo call, Usage usage) {}

  /**
   * The host reserved credits for the call before starting it (a call made through {@code
   * llm-gateway-host}'s {@code ChatGateway}; other calls never see it). Called on the thread
   * starting the call, before {@link #callStart}.
   *
   * @param call the call
   * @param credits the credits held for it
   */
  default void creditsReserved(CallInfo call, long credits) {}

  /**
   * The call's credit reservation was settled: exactly once after each {@link #creditsReserved},
   * after {@link #callEnd}. On the thread that ended the call, or on the host's settlement retry
   * thread when the credit store failed at first.
   *
   * @param call the call
   * @param settlement what the settlement did
   * @param creditsCharged the credits taken from the user: the priced usage for {@link
   *     CreditSettlement#COMMITTED}, else 0
   */
  default void creditsSettled(CallInfo call, CreditSettlement settlement, long creditsCharged) {}

  /**
   * A logical call ended, successfully or not. Called exactly once per {@link #callStart}.
   *
   * @param call the call
   * @param latency time from the call's start
   * @param failure the exception the caller receives, or null on success
   */
  default void callEnd(CallInfo call, Duration latency, @Nullable LlmGatewayException failure) {}

  /**
   * A request was refused before any call was made for it, so it has no {@link CallInfo}, no
   * {@link #callStart} and no {@link #callEnd}: the client's validation ({@link
   * ValidationException}), or, in {@code llm-gateway-host}'s {@code ChatGateway}, its validation,
   * rate limits ({@code RateLimitExceededException}), credits ({@code InsufficientCreditsException})
   * or a credit or rate limit store that failed ({@code StateStoreException}). Told to the client's
   * shared listener only ({@link LlmGatewayClient.Builder#listener}), never to a per-call listener,
   * once per refused request, on the thread that made the request. For counting refusals: both
   * parameters are of low cardinality (count by {@code refusal.getClass()}, never by its message).
   *
   * @param operation the operation refused ({@link Operation#CHAT_STREAM} for a direct stream's start)
   * @param refusal the exception the caller receives
   */
  default void callRefused(Operation operation, LlmGatewayException refusal) {}

  /**
   * The circuit breaker changed state.
   *
   * @param from the old state
   * @param to the new state
   */
  default void circuitStateChanged(CircuitBreaker.State from, CircuitBreaker.State to) {}

  /**
   * Returns the default listener: logs to SLF4J logger {@code dev.llmgateway.LlmGatewayClient},
   * DEBUG per attempt, WARN per retry and per breaker change, never a secret and the query only as
   * a 50-character preview.
   *
   * @return the logging listener
   */
  static GatewayListener logging() {
    return LoggingListener.INSTANCE;
  }

  /**
   * Returns a listener that does nothing.
   *
   * @return the no-op listener (one shared instance)
   */
  static GatewayListener none() {
    return LoggingListener.NONE;
  }

  /**
   * Returns a listener that forwards every event to each of {@code listeners} in order; one that
   * throws does not keep the others from being called.
   *
   * @param listeners the listeners
   * @return the composite
   * @throws NullPointerException if {@code listeners} or one of them is null
   */
  static GatewayListener composite(GatewayListener... listeners) {
    return CompositeListener.of(listeners);
  }

  /**
   * Where {@link GatewayListener#attemptHeaders} adds headers to one attempt's request. Used by one
   * thread, only during that call; not thread-safe.
   */
  interface HeaderSink {
    /** The longest header name accepted, in characters: {@value}. */
    int MAX_NAME_LENGTH = 64;
    /** The longest header value accepted, in characters: {@value} (a W3C {@code tracestate} fits). */
    int MAX_VALUE_LENGTH = 1024;
    /** The most headers accepted per attempt: {@value}. */
    int MAX_HEADERS = 8;

    /**
     * Adds a header to the attempt's request.
     *
     * @param name the header name: an HTTP token (letters, digits and {@code !#$%&'*+-.^_`|~}) of at
     *     most {@link #MAX_NAME_LENGTH} characters, not one the request has already, nor one the
     *     SDK, its auth strategy or HTTP itself sets (compared ignoring case)
     * @param value the value: at most {@link #MAX_VALUE_LENGTH} characters of visible ASCII, space
     *     and tab (no CR or LF)
     * @throws IllegalArgumentException if the name or value is refused (the message names the
     *     header, never shows the value), or more than {@link #MAX_HEADERS} were added
     * @throws IllegalStateException if called after {@link GatewayListener#attemptHeaders} returned
     * @throws NullPointerException if {@code name} or {@code value} is null
     */
    void set(String name, String value);
  }

  /**
   * Creates the listener of one logical call, like OkHttp's {@code EventListener.Factory}. Set
   * with {@link LlmGatewayClient.Builder#listenerFactory(Factory)}.
   *
   * <p>Called once per logical call (not per attempt: retries are attempts of the same call) of
   * every kind: sync and asynchronous chats, session calls, iterator, callback and publisher
   * streams, direct streams. It runs on the thread starting the call (the caller's thread; for a
   * publisher stream the thread that subscribes), before any of the call's events, including a
   * call that then fails at once (the client's limit on calls in flight, an open breaker). It must
   * be fast and thread-safe; a factory that throws or returns null leaves the call without a
   * listener of its own (logged), never fails the call.
   *
   * <pre>{@code
   * LlmGatewayClient.builder().listenerFactory(call -> new GatewayListener() {
   *   private long startNanos;
   *
   *   public void callStart(CallInfo c) { startNanos = System.nanoTime(); }
   *
   *   public void firstEvent(CallInfo c, Duration sinceCallStart) { timeToFirstToken.record(sinceCallStart); }
   * });
   * }</pre>
   */
  @FunctionalInterface
  interface Factory {
    /**
     * Creates the listener of one call.
     *
     * @param call the call about to start
     * @return its listener, told of that call's events only
     */
    GatewayListener create(CallInfo call);

    /**
     * Returns a factory whose listener of a call forwards each event to the listeners {@code
     * factories} create for it, in order (e.g. metrics and tracing, both set with one {@link
     * LlmGatewayClient.Builder#listenerFactory(Factory) listenerFactory(...)}). What one listener
     * throws is logged and keeps neither the others nor the call from going on; a factory that
     * throws or returns null for a call is logged and left out of that call. Thread-safe when the
     * factories are.
     *
     * @param factories the factories, in the order their listeners hear each event
     * @return the composing factory
     * @throws NullPointerException if {@code factories} or one of them is null
     */
    static Factory composite(Factory... factories) {
      return CompositeListener.ofFactories(factories);
    }
  }
}
