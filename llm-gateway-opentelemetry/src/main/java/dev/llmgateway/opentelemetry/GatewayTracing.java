package dev.llmgateway.opentelemetry;

import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.Objects;

/**
 * Traces the calls of an {@link LlmGatewayClient} with OpenTelemetry: a span of kind {@code
 * CLIENT} per logical call, and the call's trace context sent to the service on every attempt.
 *
 * <pre>{@code
 * GatewayTracing tracing = GatewayTracing.create(openTelemetry);
 * LlmGatewayClient client = LlmGatewayClient.builder()
 *     .listenerFactory(tracing.listenerFactory())
 *     .build();
 * }</pre>
 *
 * <p>What a call's span holds:
 *
 * <ul>
 *   <li>Name {@code llm-gateway <operation>} ({@code llm-gateway chat}, {@code llm-gateway
 *       chat_stream}, {@code llm-gateway list_sessions}, …); parent: the OpenTelemetry {@link
 *       Context} current on the thread that starts the call (for a publisher stream, the thread
 *       that subscribes). The span covers the whole call, retries and the waits between them
 *       included, and ends when the call ends (a stream: when it completes, fails or is closed).
 *   <li>Attributes {@value #OPERATION}, {@code http.request.method}, {@value #REQUEST_ID} (the
 *       {@code X-Request-Id}, as in the service's logs), {@value #ATTEMPTS}, {@code
 *       http.response.status_code} (of the last attempt that got an answer), {@value
 *       #TIME_TO_FIRST_EVENT_MS} (streams), {@code gen_ai.usage.input_tokens} and {@code
 *       gen_ai.usage.output_tokens} (when the service reported usage), {@value #CREDITS_RESERVED}
 *       (calls through {@code ChatGateway}), {@value #OUTCOME} ({@code success}, {@code error} or
 *       {@code cancelled}) and, on failure, {@code error.type} (the exception's class name).
 *   <li>Events {@value #RETRY_EVENT} per retry (the coming attempt, the wait, the failure's type
 *       and status), {@value #FIRST_EVENT_EVENT} when a stream's first event arrives, and {@code
 *       exception} when the call fails.
 *   <li>Status {@code ERROR} when the call fails; unset when it succeeds or the caller cancelled
 *       it (a cancellation is the caller's choice, not a fault).
 * </ul>
 *
 * <p>Never recorded: the query (not even its preview), the exception's message (it may quote the
 * service's answer, which may quote the query), credentials; the end user's and company's ids
 * only when the host opts in with {@link Builder#recordUserIds(boolean)}.
 *
 * <p>Retries are events of the call's span rather than child spans per attempt: the service's own
 * spans already show each attempt that reached it (each attempt sends the call span's context),
 * the call is what the host's trace waits on, and one span per call keeps the cost per call fixed.
 *
 * <p>Each attempt's request carries the headers of the {@link OpenTelemetry#getPropagators()
 * propagators} (W3C {@code traceparent} and {@code tracestate} with the usual configuration),
 * naming the call's span, whichever thread sends the attempt. Propagators cannot override the
 * SDK's own headers (see {@link GatewayListener#attemptHeaders}).
 *
 * <p>Immutable and thread-safe: create one per client (or share one) and keep it.
 */
public final class GatewayTracing {
  /** The instrumentation scope name of the spans: {@value}. */
  public static final String INSTRUMENTATION_SCOPE = "dev.llmgateway.opentelemetry";
  /** Attribute: the operation, e.g. {@code chat}, {@code chat_stream}: {@value}. */
  public static final String OPERATION = "llm_gateway.operation";
  /** Attribute: the call's {@code X-Request-Id}: {@value}. */
  public static final String REQUEST_ID = "llm_gateway.request_id";
  /** Attribute: the number of HTTP attempts the call made: {@value}. */
  public static final String ATTEMPTS = "llm_gateway.attempts";
  /** Attribute: how the call ended, {@code success}, {@code error} or {@code cancelled}: {@value}. */
  public static final String OUTCOME = "llm_gateway.outcome";
  /** Attribute: a stream's time to first event from the call's start, in ms: {@value}. */
  public static final String TIME_TO_FIRST_EVENT_MS = "llm_gateway.time_to_first_event_ms";
  /** Attribute: the credits {@code ChatGateway} reserved for the call: {@value}. */
  public static final String CREDITS_RESERVED = "llm_gateway.credits.reserved";
  /** Attribute (opt-in): the end user's company id: {@value}; the user's id goes in {@code user.id}. */
  public static final String COMPANY_ID = "llm_gateway.company_id";
  /** Event: a failed attempt will be retried: {@value}. */
  public static final String RETRY_EVENT = "llm_gateway.retry";
  /** Event: a stream's first event arrived: {@value}. */
  public static final String FIRST_EVENT_EVENT = "llm_gateway.first_event";

  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final boolean recordUserIds;
  private final GatewayListener.Factory factory;

  private GatewayTracing(Builder builder) {
    this.tracer = builder.openTelemetry.getTracer(INSTRUMENTATION_SCOPE);
    this.propagator = builder.openTelemetry.getPropagators().getTextMapPropagator();
    this.recordUserIds = builder.recordUserIds;
    this.factory = call -> new CallSpan(this, call, Context.current());
  }

  /**
   * Returns tracing with the defaults: no user ids recorded.
   *
   * @param openTelemetry where the tracer and the propagators come from
   * @return the tracing
   * @throws NullPointerException if {@code openTelemetry} is null
   */
  public static GatewayTracing create(OpenTelemetry openTelemetry) {
    return builder(openTelemetry).build();
  }

  /**
   * Returns a builder.
   *
   * @param openTelemetry where the tracer and the propagators come from
   * @return a builder with the defaults
   * @throws NullPointerException if {@code openTelemetry} is null
   */
  public static Builder builder(OpenTelemetry openTelemetry) {
    return new Builder(openTelemetry);
  }

  /**
   * Returns the factory to pass to {@link LlmGatewayClient.Builder#listenerFactory}; it creates
   * one listener, holding one span, per logical call. To combine it with other per-call
   * listeners, call its {@code create} from your own factory and {@link
   * GatewayListener#composite(GatewayListener...) compose} the results.
   *
   * @return the factory (the same on every call)
   */
  public GatewayListener.Factory listenerFactory() {
    return factory;
  }

  Tracer tracer() {
    return tracer;
  }

  TextMapPropagator propagator() {
    return propagator;
  }

  boolean recordUserIds() {
    return recordUserIds;
  }

  @Override
  public String toString() {
    return "GatewayTracing{recordUserIds=" + recordUserIds + "}";
  }

  /** Configures {@link GatewayTracing}. Not thread-safe. */
  public static final class Builder {
    /** By default user and company ids are not recorded: {@value}. */
    public static final boolean DEFAULT_RECORD_USER_IDS = false;

    private final OpenTelemetry openTelemetry;
    private boolean recordUserIds = DEFAULT_RECORD_USER_IDS;

    private Builder(OpenTelemetry openTelemetry) {
      this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
    }

    /**
     * Whether spans carry the end user's id ({@code user.id}) and company id ({@value
     * #COMPANY_ID}). Off by default: turn on only where your tracing backend may hold them.
     *
     * @param recordUserIds true to record them
     * @return this builder
     */
    public Builder recordUserIds(boolean recordUserIds) {
      this.recordUserIds = recordUserIds;
      return this;
    }

    /**
     * Builds the tracing.
     *
     * @return the tracing
     */
    public GatewayTracing build() {
      return new GatewayTracing(this);
    }
  }
}
