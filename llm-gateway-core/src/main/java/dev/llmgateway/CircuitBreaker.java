package dev.llmgateway;

import java.time.Duration;
import java.util.Objects;

/**
 * Stops calling a service that keeps failing. The client asks its breaker before every HTTP
 * attempt ({@link #tryAcquire()}); a refused attempt fails at once with {@link
 * CircuitOpenException} and touches no network. After each permitted attempt the client tells the
 * breaker how it went.
 *
 * <p><b>The default.</b> {@link #builder()}, {@link #ofDefaults()} and {@link #disabled()} return
 * the SDK's own breaker: after {@link Builder#failureThreshold(int) failureThreshold} consecutive
 * failed attempts (connection failures, timeouts, {@code 5xx}) it opens; after {@link
 * Builder#openDuration(Duration) openDuration} it lets one probe attempt through (half-open):
 * success closes it, failure opens it again. Answers such as {@code 4xx} count as successes (the
 * service is up); attempts the client cancelled count as nothing. It is thread-safe and lock-free.
 *
 * <p><b>Plugging in another breaker.</b> A host that already runs a breaker library (resilience4j,
 * Failsafe) implements this interface over it and passes it to {@link
 * LlmGatewayClient.Builder#circuitBreaker(CircuitBreaker)}. With resilience4j:
 *
 * <pre>{@code
 * final class Resilience4jBreaker implements dev.llmgateway.CircuitBreaker {
 *   private final io.github.resilience4j.circuitbreaker.CircuitBreaker r4j;
 *   public boolean tryAcquire() { return r4j.tryAcquirePermission(); }
 *   public void onSuccess() { r4j.onSuccess(0, TimeUnit.NANOSECONDS); }
 *   public void onFailure() { r4j.onError(0, TimeUnit.NANOSECONDS, FAILED_ATTEMPT); } // any shared exception
 *   public void onIgnored() { r4j.releasePermission(); }
 *   // state(), remainingOpenTime(), addListener(...) and removeListener(...) map r4j's state and
 *   // its state-transition events
 * }
 * }</pre>
 *
 * <p><b>The contract an implementation must honour.</b>
 *
 * <ul>
 *   <li>{@link #tryAcquire()} is called before every HTTP attempt of every call: each retry, chat
 *       and session calls, every kind of stream. {@code false} refuses the attempt; the call then
 *       ends with {@link CircuitOpenException}, whose {@link CircuitOpenException#retryAfter()} is
 *       {@link #remainingOpenTime()} read right after the refusal.
 *   <li>After each {@code true}, the client calls exactly one of {@link #onSuccess()}, {@link
 *       #onFailure()} and {@link #onIgnored()}, once, and never one without a {@code true} before
 *       it. The calls carry no identity: an implementation that needs one (a probe count, a
 *       latency) keeps it itself.
 *   <li>An attempt is settled as soon as its outcome is known: a JSON call's when its answer has
 *       been read (or failed); a stream's with its first event, which may come long after the
 *       {@code 200} (up to the stream's first-event limit). A stream that ends, is cut off or
 *       times out before its first event is a failure; one cancelled before it is ignored. So a
 *       half-open probe that is a stream proves the service healthy only with its first event.
 *   <li>The permit and its outcome may be on different threads (an asynchronous call settles on an
 *       OkHttp thread), and many attempts run at once: every method must be thread-safe. They are
 *       called on the threads that make and read the calls, streams included, so none may block or
 *       take long.
 *   <li>Methods should not throw. If {@link #tryAcquire()} throws, the client logs it at WARN and
 *       treats the attempt as refused (nothing is sent, nothing is settled). What {@link
 *       #onSuccess()}, {@link #onFailure()}, {@link #onIgnored()} and {@link #remainingOpenTime()}
 *       throw is logged at WARN and ignored (the remaining open time then counts as zero); what
 *       {@link #addListener} throws fails {@link LlmGatewayClient.Builder#build()}.
 *   <li>The client {@linkplain #addListener registers a listener} when it is built (it forwards
 *       changes to {@link GatewayListener#circuitStateChanged}) and removes it when closed;
 *       implementations call their listeners on every state change, on any thread, and must not
 *       let a listener's exception break the attempt that caused the change.
 *   <li>{@link #state()} is for the host to observe (health endpoints, metrics); the client does not
 *       consult it.
 * </ul>
 *
 * <p>One breaker guards one service: a client builds its own default unless given one, and {@link
 * LlmGatewayClient#newBuilder()} shares it with the derived client. Implementations must be
 * thread-safe.
 */
public interface CircuitBreaker {
  /** Consecutive failures that open the default breaker. */
  int DEFAULT_FAILURE_THRESHOLD = 5;
  /** How long the default breaker stays open before letting a probe through. */
  Duration DEFAULT_OPEN_DURATION = Duration.ofSeconds(30);

  /** The breaker's states. */
  enum State {
    /** Calls flow; failures are counted. */
    CLOSED,
    /** Calls fail fast. */
    OPEN,
    /** One or a few probe calls are allowed through. */
    HALF_OPEN,
    /** The breaker never opens. */
    DISABLED
  }

  /** Receives state changes. Called on the thread whose call caused the change; must not block. */
  @FunctionalInterface
  interface StateListener {
    /**
     * The state changed.
     *
     * @param from the previous state
     * @param to the new state
     */
    void onStateChange(State from, State to);
  }

  /**
   * Returns a new default breaker with the default settings: opens after {@value
   * #DEFAULT_FAILURE_THRESHOLD} consecutive failures, for 30 s.
   *
   * @return a new breaker
   */
  static CircuitBreaker ofDefaults() {
    return builder().build();
  }

  /**
   * Returns a breaker that never opens.
   *
   * @return a new disabled breaker
   */
  static CircuitBreaker disabled() {
    return builder().enabled(false).build();
  }

  /**
   * Starts a builder of the default breaker, holding the defaults.
   *
   * @return a new builder
   */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Asks to make one attempt. Every {@code true} is followed by exactly one of {@link
   * #onSuccess()}, {@link #onFailure()} or {@link #onIgnored()}.
   *
   * @return true if the attempt may go ahead
   */
  boolean tryAcquire();

  /** Records a permitted attempt the service answered (even with a {@code 4xx}). */
  void onSuccess();

  /** Records a permitted attempt that failed: connection failure, timeout, {@code 5xx}. */
  void onFailure();

  /**
   * Records a permitted attempt that says nothing about the service's health, e.g. one the caller
   * cancelled, and gives its permit back.
   */
  void onIgnored();

  /**
   * Returns the current state. The default breaker reports an open breaker whose open period has
   * passed as {@link State#HALF_OPEN}: the next call is the probe.
   *
   * @return the state
   */
  State state();

  /**
   * Returns how long until the open breaker lets a probe through.
   *
   * @return the remaining open time; zero when not open, or when unknown
   */
  Duration remainingOpenTime();

  /**
   * Registers a listener for state changes.
   *
   * @param listener the listener
   */
  void addListener(StateListener listener);

  /**
   * Removes a listener added with {@link #addListener}.
   *
   * @param listener the listener
   */
  void removeListener(StateListener listener);

  /** Builds the SDK's default {@link CircuitBreaker}. Not thread-safe. */
  final class Builder {
    private boolean enabled = true;
    private int failureThreshold = DEFAULT_FAILURE_THRESHOLD;
    private Duration openDuration = DEFAULT_OPEN_DURATION;
    private Ticker ticker = Ticker.system();

    private Builder() {}

    /**
     * Sets whether the breaker can open at all. Default true.
     *
     * @param enabled false for a breaker that never opens
     * @return this builder
     */
    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    /**
     * Sets how many consecutive failed attempts open the breaker. Default {@value
     * #DEFAULT_FAILURE_THRESHOLD}.
     *
     * @param failureThreshold at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder failureThreshold(int failureThreshold) {
      if (failureThreshold < 1) {
        throw new IllegalArgumentException("failureThreshold < 1: " + failureThreshold);
      }
      this.failureThreshold = failureThreshold;
      return this;
    }

    /**
     * Sets how long the breaker stays open before it lets a probe through. Default 30 s.
     *
     * @param openDuration positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder openDuration(Duration openDuration) {
      Objects.requireNonNull(openDuration, "openDuration");
      if (openDuration.isZero() || openDuration.isNegative()) {
        throw new IllegalArgumentException("openDuration must be positive: " + openDuration);
      }
      this.openDuration = openDuration;
      return this;
    }

    /**
     * Sets the time source. Default {@link Ticker#system()}; tests pass a fake.
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Builds the breaker, closed.
     *
     * @return a new breaker
     */
    public CircuitBreaker build() {
      return new DefaultCircuitBreaker(enabled, failureThreshold, openDuration, ticker);
    }
  }
}
