package dev.llmgateway;

import dev.llmgateway.internal.CallEngine;
import dev.llmgateway.internal.CallSpec;
import dev.llmgateway.internal.ClientConfig;
import dev.llmgateway.internal.HealthCheck;
import dev.llmgateway.internal.HostAccess;
import dev.llmgateway.internal.HttpResources;
import dev.llmgateway.internal.Requests;
import dev.llmgateway.internal.SessionsImpl;
import dev.llmgateway.internal.StreamCall;
import dev.llmgateway.internal.Text;
import dev.llmgateway.internal.Version;
import dev.llmgateway.spi.SandboxProvider;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.function.Function;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client of the LLM chat service: chat (blocking and asynchronous) and the user's sessions.
 *
 * <p>Create one client per service, share it across the host's threads and close it when the host
 * shuts down; it holds a connection pool and threads. Like OkHttp, it performs best when one
 * instance serves all calls.
 *
 * <pre>{@code
 * try (LlmGatewayClient client = LlmGatewayClient.builder()
 *     .baseUrl("https://llm.internal.example")
 *     .serviceToken(System.getenv("LLM_SERVICE_TOKEN"))
 *     .build()) {
 *   ChatResponse answer = client.chat(ChatRequest.of("Find senior Rails engineers in Berlin"), user);
 * }
 * }</pre>
 *
 * <p>Every call is validated before any byte is sent ({@link ValidationException}), carries one
 * {@code X-Request-Id} on all its attempts (chat calls also one {@code Idempotency-Key}), is
 * retried by the {@link RetryPolicy}, guarded by the {@link CircuitBreaker}, reported to the
 * {@link GatewayListener} and recorded once by the {@link AuditSink}.
 *
 * <p>This class is immutable and thread-safe.
 */
public final class LlmGatewayClient implements AutoCloseable {
  /** Environment variable read for the default {@link Builder#baseUrl(String) base URL}. */
  public static final String ENV_BASE_URL = "LLM_SERVICE_BASE_URL";
  /** Environment variable read for the default {@link Builder#serviceToken(String) service token}. */
  public static final String ENV_SERVICE_TOKEN = "LLM_SERVICE_TOKEN";
  /**
   * Environment variable that turns on the {@link Builder#sandbox(boolean) sandbox} when {@code
   * true} (any case); a client it turns on logs a WARN, since its answers are fake.
   */
  public static final String ENV_SANDBOX = "LLM_GATEWAY_SANDBOX";
  /** Base URL used when neither the builder nor the environment sets one. */
  public static final String DEFAULT_BASE_URL = "http://localhost:8000";
  /** Time allowed to establish a connection. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
  /** Time allowed for one whole attempt of a non-streaming call. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  /** Longest silence tolerated on a stream. */
  public static final Duration DEFAULT_STREAM_TIMEOUT = Duration.ofSeconds(120);
  /** Calls in flight at once, of every kind (OkHttp's own default of 5 per host would throttle a gateway). */
  public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 256;
  /** Longest a call waits for one of the {@link #DEFAULT_MAX_CONCURRENT_REQUESTS calls in flight} to end. */
  public static final Duration DEFAULT_MAX_QUEUE_WAIT = Duration.ofSeconds(5);
  /** Largest success body read. */
  public static final long DEFAULT_MAX_RESPONSE_BYTES = 8L * 1024 * 1024;
  /** MDC key under which the request id is read and logged. */
  public static final String DEFAULT_MDC_KEY = "llm_request_id";
  /** Time allowed for one {@link #health()} probe, from connecting to reading its answer. */
  public static final Duration DEFAULT_HEALTH_TIMEOUT = Duration.ofSeconds(2);
  /** How long {@link #health()} reuses a probe's answer before probing again. */
  public static final Duration DEFAULT_HEALTH_CACHE_TTL = Duration.ofSeconds(5);

  private static final String SANDBOX_ARTIFACT = "dev.llmgateway:llm-gateway-sandbox";

  private static final Logger LOG = LoggerFactory.getLogger(LlmGatewayClient.class);
  private static final Set<String> WARNED_INSECURE_HOSTS = ConcurrentHashMap.newKeySet();

  static {
    HostAccess.set(new HostAccess() {
      @Override
      public ChatResponse chat(
          LlmGatewayClient client, ChatRequest request, UserContext user, CallOptions options, ListenerHook hook,
          AuditSink auditSink) {
        return Objects.requireNonNull(
            client.engine.execute(client.requests.chat(request, user, options, auditSink), hook));
      }

      @Override
      public ChatStream chatStream(
          LlmGatewayClient client, ChatRequest request, UserContext user, StreamOptions options, ListenerHook hook,
          AuditSink auditSink) {
        return client.openStream(request, user, options, hook, auditSink);
      }

      @Override
      public StreamHandle chatStream(
          LlmGatewayClient client, ChatRequest request, UserContext user, StreamOptions options,
          StreamListener listener, ListenerHook hook, AuditSink auditSink) {
        return client.beginStream(new StreamCall(client.config, client.requests.chatStream(request, user, options,
            auditSink), client.streamHttp(options), client.limits(options), hook), listener);
      }

      @Override
      public Sessions sessions(LlmGatewayClient client, AuditSink auditSink) {
        return new SessionsImpl(client.requests, client.engine, auditSink);
      }

      @Override
      public ClientConfig config(LlmGatewayClient client) {
        return client.config;
      }
    });
  }

  private final HttpResources resources;
  private final CallEngine engine;
  private final ClientConfig config;
  private final Requests requests;
  private final boolean sandbox;
  private final CircuitBreaker breaker;
  private final CircuitBreaker.StateListener breakerListener;
  private final Sessions sessions;
  private final HealthCheck healthCheck;
  private volatile boolean closed;

  // What newBuilder() hands on that config does not hold, as the builder had it (build() reads the environment again).
  private final @Nullable String givenBaseUrl;
  private final @Nullable String serviceToken;
  private final @Nullable AuthStrategy givenAuth;
  private final @Nullable Boolean givenSandbox;
  private final Function<String, @Nullable String> environment;
  private final @Nullable OkHttpClient okHttpClient;
  private final @Nullable Executor callbackExecutor;
  private final Duration connectTimeout;

  /** Copies every setting out of {@code b}, which it does not keep. */
  private LlmGatewayClient(
      Builder b, HttpResources resources, HttpUrl baseUrl, AuthStrategy auth, @Nullable Interceptor sandbox) {
    this.resources = resources;
    this.sandbox = sandbox != null;
    this.givenBaseUrl = b.baseUrl;
    this.serviceToken = b.serviceToken;
    this.givenAuth = b.auth;
    this.givenSandbox = b.sandbox;
    this.environment = b.environment;
    this.okHttpClient = b.okHttpClient;
    this.callbackExecutor = b.callbackExecutor;
    this.connectTimeout = b.connectTimeout;
    OkHttpClient.Builder http = resources.root().newBuilder()
        .connectTimeout(b.connectTimeout)
        .readTimeout(b.timeout)
        .writeTimeout(b.timeout)
        .callTimeout(b.timeout)
        // A redirect could carry the service token to another host: treat 3xx as an answer.
        .followRedirects(false)
        .followSslRedirects(false);
    if (sandbox != null) {
      http.addInterceptor(sandbox);
    }
    CircuitBreaker breaker = b.circuitBreaker != null ? b.circuitBreaker : CircuitBreaker.builder().ticker(b.ticker).build();
    this.breaker = breaker;
    OkHttpClient jsonHttp = http.build();
    OkHttpClient streamHttp = jsonHttp.newBuilder().callTimeout(Duration.ZERO).readTimeout(b.streamTimeout).build();
    this.config = new ClientConfig(
        jsonHttp, streamHttp, baseUrl, auth, b.retryPolicy,
        breaker instanceof DefaultCircuitBreaker ? breaker : new GuardedCircuitBreaker(breaker), b.listener,
        b.listenerFactory, b.auditSink,
        RequestValidator.builder().maxQueryLength(b.maxQueryLength).maxMetadataDepth(b.maxMetadataDepth)
            .maxMetadataBytes(b.maxMetadataBytes).build(), b.ticker, b.sleeper, b.clock,
        b.timeout, b.streamTimeout, b.userAgent, b.mdcKey, b.maxResponseBytes, resources.limiter(), b.maxQueueWait,
        b.callbackExecutor != null ? b.callbackExecutor : resources.dispatcherExecutor());
    this.engine = new CallEngine(config);
    this.requests = new Requests(config, engine, config.validator()::checkAndEncode, () -> closed);
    this.sessions = new SessionsImpl(requests, engine, config.auditSink());
    this.healthCheck = new HealthCheck(jsonHttp, baseUrl, b.userAgent, b.healthTimeout, b.healthCacheTtl, b.ticker,
        b.clock);
    GatewayListener listener = b.listener;
    this.breakerListener = (from, to) -> listener.circuitStateChanged(from, to);
    breaker.addListener(breakerListener);
  }

  /**
   * Starts a builder with every setting at its default.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts a builder holding this client's settings. The client it builds shares this client's
   * connection pool, threads and circuit breaker (unless those settings are changed), so deriving
   * clients with other timeouts or listeners is cheap. Each client must still be closed. A client
   * built once every client sharing the pool has closed gets a pool and threads of its own.
   *
   * @return a new builder
   */
  public Builder newBuilder() {
    return new Builder(this);
  }

  /**
   * Sends one chat message and waits for the whole answer.
   *
   * @param request the message
   * @param user the end user it is sent for
   * @return the answer
   * @throws ValidationException if the request or user is invalid; nothing was sent
   * @throws CallTimeoutException if an attempt or the retry deadline ran out
   * @throws ServiceUnavailableException if the service answered 502, 503 or 504, after the retries
   *     allowed
   * @throws TransportException if no answer came (connection refused or reset, unknown host, TLS),
   *     after the retries allowed
   * @throws CircuitOpenException if the circuit breaker is open
   * @throws ApiException (or a subclass) if the service answered with another error status
   * @throws InvalidResponseException if the service's answer was unusable
   * @throws CallCancelledException if the calling thread was interrupted while waiting to retry
   * @throws IllegalStateException if the client is closed
   */
  public ChatResponse chat(ChatRequest request, UserContext user) {
    return chat(request, user, CallOptions.DEFAULTS);
  }

  /**
   * Sends one chat message with per-call options and waits for the whole answer.
   *
   * @param request the message
   * @param user the end user it is sent for
   * @param options the request id and idempotency key to use
   * @return the answer
   * @throws LlmGatewayException as listed for {@link #chat(ChatRequest, UserContext)}
   * @throws IllegalStateException if the client is closed
   */
  public ChatResponse chat(ChatRequest request, UserContext user, CallOptions options) {
    return Objects.requireNonNull(engine.execute(requests.chat(request, user, options)));
  }

  /**
   * Sends one chat message without blocking. The future completes on an OkHttp thread with the
   * answer, or exceptionally with one of the exceptions listed for {@link #chat(ChatRequest,
   * UserContext)} (validation failures included: nothing is thrown directly). Cancelling the future
   * cancels the HTTP call.
   *
   * @param request the message
   * @param user the end user it is sent for
   * @return the future answer
   * @throws IllegalStateException if the client is closed
   */
  public CompletableFuture<ChatResponse> chatAsync(ChatRequest request, UserContext user) {
    return chatAsync(request, user, CallOptions.DEFAULTS);
  }

  /**
   * Sends one chat message with per-call options without blocking; see {@link
   * #chatAsync(ChatRequest, UserContext)}.
   *
   * @param request the message
   * @param user the end user it is sent for
   * @param options the request id and idempotency key to use
   * @return the future answer
   * @throws IllegalStateException if the client is closed
   */
  public CompletableFuture<ChatResponse> chatAsync(ChatRequest request, UserContext user, CallOptions options) {
    CallSpec<ChatResponse> spec;
    try {
      spec = requests.chat(request, user, options);
    } catch (ValidationException e) {
      return CompletableFuture.failedFuture(e);
    }
    return engine.executeAsync(spec);
  }

  /**
   * Streams the answer to one chat message, to be read with the returned {@link ChatStream}. The
   * request is sent (and retried as the policy allows) before this method returns; the events are
   * then read as the caller iterates.
   *
   * @param request the message
   * @param user the end user it is sent for
   * @return the open stream; close it
   * @throws ValidationException if the request or user is invalid; nothing was sent
   * @throws CallTimeoutException if the connection or the first event did not come in time
   * @throws ServiceUnavailableException if the service answered 502, 503 or 504, after the retries
   *     allowed
   * @throws TransportException if no answer came (connection refused or reset, unknown host, TLS),
   *     after the retries allowed
   * @throws CircuitOpenException if the circuit breaker is open
   * @throws ApiException (or a subclass) if the service answered with another error status
   * @throws InvalidResponseException if the answer was not an event stream
   * @throws IllegalStateException if the client is closed
   */
  public ChatStream chatStream(ChatRequest request, UserContext user) {
    return chatStream(request, user, StreamOptions.DEFAULTS);
  }

  /**
   * Streams the answer to one chat message with per-stream options; see {@link
   * #chatStream(ChatRequest, UserContext)}.
   *
   * @param request the message
   * @param user the end user it is sent for
   * @param options time limits, strictness and ids
   * @return the open stream; close it
   * @throws LlmGatewayException as listed for {@link #chatStream(ChatRequest, UserContext)}
   * @throws IllegalStateException if the client is closed
   */
  public ChatStream chatStream(ChatRequest request, UserContext user, StreamOptions options) {
    return openStream(request, user, options, null, config.auditSink());
  }

  private ChatStream openStream(
      ChatRequest request, UserContext user, StreamOptions options, HostAccess.@Nullable ListenerHook hook,
      AuditSink auditSink) {
    StreamCall call = new StreamCall(
        config, requests.chatStream(request, user, options, auditSink), streamHttp(options), limits(options), hook);
    call.open();
    return new ChatStream(call);
  }

  /**
   * Streams the answer to one chat message into a listener, without blocking the caller. The
   * stream is read, and the listener called, on a thread of the client's {@linkplain
   * Builder#callbackExecutor(Executor) callback executor}. Exactly one of {@link
   * StreamListener#onComplete} and {@link StreamListener#onError} is called, once. When the
   * client's {@linkplain Builder#maxConcurrentRequests(int) limit of calls in flight} is reached,
   * the stream waits for a slot without holding a thread, and fails with {@link
   * ConcurrencyLimitExceededException} (through {@code onError}) after {@linkplain
   * Builder#maxQueueWait(Duration) the longest wait}.
   *
   * @param request the message
   * @param user the end user it is sent for
   * @param listener receives the events
   * @return a handle to cancel the stream or await its end
   * @throws ValidationException if the request or user is invalid; nothing was sent and the
   *     listener is not called
   * @throws IllegalStateException if the client is closed
   */
  public StreamHandle chatStream(ChatRequest request, UserContext user, StreamListener listener) {
    return chatStream(request, user, StreamOptions.DEFAULTS, listener);
  }

  /**
   * Streams the answer to one chat message into a listener, with per-stream options; see {@link
   * #chatStream(ChatRequest, UserContext, StreamListener)}.
   *
   * @param request the message
   * @param user the end user it is sent for
   * @param options time limits, strictness and ids
   * @param listener receives the events
   * @return a handle to cancel the stream or await its end
   * @throws ValidationException if the request or user is invalid; nothing was sent
   * @throws IllegalStateException if the client is closed
   */
  public StreamHandle chatStream(ChatRequest request, UserContext user, StreamOptions options, StreamListener listener) {
    Objects.requireNonNull(listener, "listener");
    return beginStream(streamCall(request, user, options), listener);
  }

  private StreamHandle beginStream(StreamCall call, StreamListener listener) {
    CallbackStream stream = new CallbackStream(call, listener);
    stream.begin(config.executor());
    return stream;
  }

  /**
   * Streams the answer to one chat message as a {@link Flow.Publisher} of its events, for reactive
   * hosts (Reactor, RxJava, Mutiny; with Reactor: {@code
   * JdkFlowAdapter.flowPublisherToFlux(client.chatPublisher(request, user))}). Nothing is sent
   * until a subscriber requests its first event.
   *
   * <ul>
   *   <li><b>Cold, one stream per subscription.</b> Each subscription sends the message and reads
   *       its own stream, with the same request id and {@code Idempotency-Key} (both fixed by this
   *       call), so a re-subscription such as Reactor's {@code retry()} is de-duplicated by the
   *       service instead of generating and billing twice. For a new answer, call this method
   *       again.
   *   <li><b>Demand-driven.</b> The stream is read only while the subscriber has demand: events
   *       are read one by one as requested, never ahead into a buffer, so a subscriber that stops
   *       requesting stops the read (and, once the socket buffers are full, the service) while
   *       the stream keeps its connection and its slot among the calls in flight. The idle limit
   *       runs only while reading; the total limit always runs (a stream past it fails at the
   *       next request).
   *   <li><b>Threads.</b> {@code onSubscribe} is called on the subscribing thread; every other
   *       signal on a thread of the client's {@linkplain Builder#callbackExecutor(Executor)
   *       callback executor}, which also opens the stream (a wait for a slot of {@linkplain
   *       Builder#maxConcurrentRequests(int) the calls in flight} holds no thread). {@code
   *       request} and {@code cancel} never block and may be called from any thread, signals
   *       included. Signals are serialized and never made from inside {@code request}. The
   *       publisher is thread-safe: any thread may subscribe.
   *   <li><b>Exactly one terminal signal</b>, unless the subscriber cancels: {@code onComplete}
   *       after the service's {@code done} and {@code [DONE]} (signalled when a request finds the
   *       end), else {@code onError} with the exception the {@link ChatStream} iterator would throw
   *       ({@link StreamErrorException}, {@link StreamInterruptedException}, {@link
   *       CallTimeoutException}, the exceptions of {@link #chatStream(ChatRequest, UserContext)} before
   *       the first event), or {@link IllegalArgumentException} for a {@code request(n)} with
   *       {@code n <= 0} (rule 3.9; the stream is cancelled), or {@link IllegalStateException} for
   *       a subscription made after the client was closed. A subscriber whose {@code onNext}
   *       throws has its stream cancelled and gets {@code onError} with what it threw as the cause.
   *   <li><b>Cancel</b> cancels the HTTP call at once (the service sees the connection close), ends
   *       a wait for a slot or between attempts, and the subscriber gets no further signal (a
   *       signal already under way on another thread may still arrive) and never a {@link
   *       CallCancelledException} caused by its own cancel. The stream is audited {@code
   *       CANCELLED}; a subscription cancelled before its first request sends nothing and audits
   *       nothing.
   * </ul>
   *
   * @param request the message
   * @param user the end user it is sent for
   * @return a publisher of the stream's events
   * @throws ValidationException if the request or user is invalid; nothing was sent
   * @throws IllegalStateException if the client is closed
   */
  public Flow.Publisher<StreamEvent> chatPublisher(ChatRequest request, UserContext user) {
    return chatPublisher(request, user, StreamOptions.DEFAULTS);
  }

  /**
   * Streams the answer to one chat message as a {@link Flow.Publisher}, with per-stream options;
   * see {@link #chatPublisher(ChatRequest, UserContext)}.
   *
   * @param request the message
   * @param user the end user it is sent for
   * @param options time limits, strictness and ids
   * @return a publisher of the stream's events
   * @throws ValidationException if the request or user is invalid; nothing was sent
   * @throws IllegalStateException if the client is closed
   */
  public Flow.Publisher<StreamEvent> chatPublisher(ChatRequest request, UserContext user, StreamOptions options) {
    CallSpec<Void> spec = requests.chatStream(request, user, options);
    OkHttpClient http = streamHttp(options);
    StreamCall.Limits limits = limits(options);
    return new StreamPublisher(() -> {
      requests.checkOpen();
      return new StreamCall(config, spec, http, limits);
    }, config.executor());
  }

  /**
   * Reads a direct stream: the URL a {@code StreamTokenIssuer} of the {@code llm-gateway-auth}
   * module returned for a browser ({@code GET .../chat/stream?token=...}). The token in the URL is
   * the only credential, so no auth headers are sent, and since a stream token is single-use the
   * call is never retried. The events, limits and failures are those of {@link
   * #chatStream(ChatRequest, UserContext)}.
   *
   * @param streamUrl the direct stream URL, token included
   * @param user the end user the token was minted for (for the audit event and logs)
   * @param options time limits, strictness and request id
   * @return the open stream; close it
   * @throws ValidationException if the URL is not an http(s) URL or the user is invalid
   * @throws AuthenticationException if the service refused the token (expired, reused, forged)
   * @throws LlmGatewayException as listed for {@link #chatStream(ChatRequest, UserContext)}
   * @throws IllegalStateException if the client is closed
   */
  public ChatStream chatStreamFromUrl(String streamUrl, UserContext user, StreamOptions options) {
    CallSpec<Void> spec = requests.directStream(streamUrl, user, options);
    StreamCall call = new StreamCall(config, spec, streamHttp(options), limits(options));
    call.open();
    return new ChatStream(call);
  }

  private OkHttpClient streamHttp(StreamOptions options) {
    Duration idle = options.idleTimeout() == null ? config.streamTimeout() : options.idleTimeout();
    return idle.equals(config.streamTimeout())
        ? config.streamHttp()
        : config.streamHttp().newBuilder().readTimeout(idle).build();
  }

  private StreamCall.Limits limits(StreamOptions options) {
    return new StreamCall.Limits(
        options.firstEventTimeout() == null ? config.timeout() : options.firstEventTimeout(),
        options.idleTimeout() == null ? config.streamTimeout() : options.idleTimeout(),
        options.totalTimeout(), options.strict(), options.maxEventBytes());
  }

  private StreamCall streamCall(ChatRequest request, UserContext user, StreamOptions options) {
    return new StreamCall(config, requests.chatStream(request, user, options), streamHttp(options), limits(options));
  }

  /**
   * Returns the user's conversations.
   *
   * @return the sessions API of this client
   */
  public Sessions sessions() {
    return sessions;
  }

  /**
   * Asks the service whether it is up: {@code GET /health} (no credentials are sent), up when it
   * answers {@code 200 {"status": "ok"}}. Meant for health endpoints and readiness probes, so it
   * cannot stampede the service nor hang its caller:
   *
   * <ul>
   *   <li>an answer is reused for the {@linkplain Builder#healthCacheTtl(Duration) cache time}
   *       (default 5 s), whether up or down;
   *   <li>callers arriving while a probe is under way share its answer: at most one probe request is
   *       in flight per client;
   *   <li>no caller waits longer than the {@linkplain Builder#healthTimeout(Duration) health
   *       timeout} (default 2 s): past it, the caller gets a down result saying so.
   * </ul>
   *
   * <p>The probe does not go through the circuit breaker, the retry policy, the limit of calls in
   * flight, the listener or the audit, and never throws for a failed probe: every failure is a
   * down result with a short reason (no secret, no body beyond the reported status). The first
   * caller of a new probe runs it on its own thread; a client answering from the sandbox probes the
   * sandbox. Thread-safe.
   *
   * @return the service's health, possibly cached
   * @throws IllegalStateException if the client is closed
   */
  public ServiceHealth health() {
    requests.checkOpen();
    return healthCheck.check();
  }

  /** The connection pool and threads this client holds, for tests of their lifecycle. */
  HttpResources resources() {
    return resources;
  }

  /**
   * Returns the circuit breaker guarding this client's calls.
   *
   * @return the breaker (shared with clients derived by {@link #newBuilder()})
   */
  public CircuitBreaker circuitBreaker() {
    return breaker;
  }

  /**
   * Returns the service's base URL.
   *
   * @return the base URL
   */
  public HttpUrl baseUrl() {
    return config.baseUrl();
  }

  /**
   * Tells whether this client answers from the in-process sandbox instead of the service.
   *
   * @return true in sandbox mode
   */
  public boolean isSandbox() {
    return sandbox;
  }

  /**
   * Returns the validator applied to every call.
   *
   * @return the validator
   */
  public RequestValidator validator() {
    return config.validator();
  }

  /**
   * Stops this client: later calls fail with {@link IllegalStateException}. When the last client
   * sharing the connection pool and threads closes, the ones the SDK created are released; an
   * {@link OkHttpClient} the host passed in is never shut down. Calls in flight are not cancelled.
   * Idempotent.
   */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      breaker.removeListener(breakerListener);
      resources.release();
    }
  }

  @Override
  public String toString() {
    return "LlmGatewayClient{baseUrl=" + config.baseUrl() + ", sandbox=" + sandbox + ", auth=" + config.auth()
        + ", closed=" + closed + "}";
  }

  /**
   * Builds an {@link LlmGatewayClient}. Each setting has a default (the {@code DEFAULT_*}
   * constants, or the environment variable named); setters check their argument at once. {@link
   * #build()} copies the settings into the client: changing the builder afterwards leaves the
   * clients already built as they are, and the builder may build again. Not thread-safe.
   */
  public static final class Builder {
    private @Nullable String baseUrl;
    private @Nullable String serviceToken;
    private @Nullable AuthStrategy auth;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Duration streamTimeout = DEFAULT_STREAM_TIMEOUT;
    private RetryPolicy retryPolicy = RetryPolicy.ofDefaults();
    private @Nullable CircuitBreaker circuitBreaker;
    private @Nullable OkHttpClient okHttpClient;
    private int maxConcurrentRequests = DEFAULT_MAX_CONCURRENT_REQUESTS;
    private Duration maxQueueWait = DEFAULT_MAX_QUEUE_WAIT;
    private @Nullable Executor callbackExecutor;
    private String userAgent = "llm-gateway-java/" + Version.VERSION;
    private GatewayListener listener = GatewayListener.logging();
    private GatewayListener.@Nullable Factory listenerFactory;
    private AuditSink auditSink = AuditSink.logging();
    private @Nullable Boolean sandbox;
    private int maxQueryLength = RequestValidator.DEFAULT_MAX_QUERY_LENGTH;
    private int maxMetadataDepth = RequestValidator.DEFAULT_MAX_METADATA_DEPTH;
    private int maxMetadataBytes = RequestValidator.DEFAULT_MAX_METADATA_BYTES;
    private String mdcKey = DEFAULT_MDC_KEY;
    private long maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;
    private Duration healthTimeout = DEFAULT_HEALTH_TIMEOUT;
    private Duration healthCacheTtl = DEFAULT_HEALTH_CACHE_TTL;
    private Ticker ticker = Ticker.system();
    private Sleeper sleeper = Sleeper.system();
    private Clock clock = Clock.systemUTC();
    private Function<String, @Nullable String> environment = System::getenv;
    private @Nullable HttpResources inherited;

    private Builder() {}

    private Builder(LlmGatewayClient client) {
      ClientConfig c = client.config;
      baseUrl = client.givenBaseUrl;
      serviceToken = client.serviceToken;
      auth = client.givenAuth;
      connectTimeout = client.connectTimeout;
      timeout = c.timeout();
      streamTimeout = c.streamTimeout();
      retryPolicy = c.retryPolicy();
      circuitBreaker = client.breaker;
      okHttpClient = client.okHttpClient;
      maxConcurrentRequests = c.limiter().max();
      maxQueueWait = c.maxQueueWait();
      callbackExecutor = client.callbackExecutor;
      userAgent = c.userAgent();
      listener = c.listener();
      listenerFactory = c.listenerFactory();
      auditSink = c.auditSink();
      sandbox = client.givenSandbox;
      maxQueryLength = c.validator().maxQueryLength();
      maxMetadataDepth = c.validator().maxMetadataDepth();
      maxMetadataBytes = c.validator().maxMetadataBytes();
      mdcKey = c.mdcKey();
      maxResponseBytes = c.maxResponseBytes();
      healthTimeout = client.healthCheck.timeout();
      healthCacheTtl = client.healthCheck.ttl();
      ticker = c.ticker();
      sleeper = c.sleeper();
      clock = c.clock();
      environment = client.environment;
      inherited = client.resources;
    }

    /**
     * Sets the service's base URL, e.g. {@code https://llm.internal.example} (a path prefix is
     * kept). Default: env {@value #ENV_BASE_URL}, else {@value #DEFAULT_BASE_URL}.
     *
     * @param baseUrl an {@code http} or {@code https} URL
     * @return this builder
     * @throws IllegalArgumentException if it is not an http(s) URL
     */
    public Builder baseUrl(String baseUrl) {
      Objects.requireNonNull(baseUrl, "baseUrl");
      if (HttpUrl.parse(baseUrl) == null) {
        throw new IllegalArgumentException("baseUrl is not an http or https URL: " + Text.preview(baseUrl, 200));
      }
      this.baseUrl = baseUrl;
      return this;
    }

    /**
     * Sets the shared service token of scheme 1 (gateway headers). Never logged or shown. Default:
     * env {@value #ENV_SERVICE_TOKEN}. Required unless {@link #auth(AuthStrategy)} is set or the
     * client is a sandbox.
     *
     * @param serviceToken the token
     * @return this builder
     */
    public Builder serviceToken(String serviceToken) {
      this.serviceToken = Objects.requireNonNull(serviceToken, "serviceToken");
      return this;
    }

    /**
     * Sets how each request is authenticated, e.g. the scheme-2 service JWT of the {@code
     * llm-gateway-auth} module. Default: {@link AuthStrategy#serviceToken(String)} with the
     * {@link #serviceToken(String) service token}.
     *
     * @param auth the strategy
     * @return this builder
     */
    public Builder auth(AuthStrategy auth) {
      this.auth = Objects.requireNonNull(auth, "auth");
      return this;
    }

    /**
     * Sets the time allowed to establish a connection. Default 5 s.
     *
     * @param connectTimeout positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = positive(connectTimeout, "connectTimeout");
      return this;
    }

    /**
     * Sets the time allowed for one whole attempt of a non-streaming call (connect, send, wait,
     * read). Default 30 s. Streams use it for their first event.
     *
     * @param timeout positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder timeout(Duration timeout) {
      this.timeout = positive(timeout, "timeout");
      return this;
    }

    /**
     * Sets the longest silence tolerated between bytes of a stream (heartbeats count). Default
     * 120 s.
     *
     * @param streamTimeout positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder streamTimeout(Duration streamTimeout) {
      this.streamTimeout = positive(streamTimeout, "streamTimeout");
      return this;
    }

    /**
     * Sets when failed calls are retried. Default {@link RetryPolicy#ofDefaults()}.
     *
     * @param retryPolicy the policy; {@link RetryPolicy#none()} to never retry
     * @return this builder
     */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /**
     * Sets the circuit breaker. Default: a new {@link CircuitBreaker#ofDefaults()} per client
     * (shared with clients derived by {@code newBuilder()}); {@link CircuitBreaker#disabled()} to
     * turn it off; or the host's own breaker (e.g. resilience4j's) behind the {@link
     * CircuitBreaker} interface, whose contract it must honour.
     *
     * @param circuitBreaker the breaker
     * @return this builder
     */
    public Builder circuitBreaker(CircuitBreaker circuitBreaker) {
      this.circuitBreaker = Objects.requireNonNull(circuitBreaker, "circuitBreaker");
      return this;
    }

    /**
     * Shares the host's OkHttp client: its connection pool, threads, interceptors, proxy and TLS
     * settings. The SDK applies its own timeouts and concurrency limit on a derived client and
     * never shuts the host's client down. Default: the SDK creates and owns its own.
     *
     * @param okHttpClient the host's client
     * @return this builder
     */
    public Builder okHttpClient(OkHttpClient okHttpClient) {
      this.okHttpClient = Objects.requireNonNull(okHttpClient, "okHttpClient");
      this.inherited = null;
      return this;
    }

    /**
     * Sets how many calls may be in flight at once: sync and async chats, session calls, iterator,
     * callback and publisher streams alike, each from its start to its end (retries and the waits
     * between them included; an iterator stream until it ends or is closed, a publisher stream
     * until it ends or is cancelled). Clients derived with {@link #newBuilder()} share the limit.
     * When it is reached, a call waits for a slot up to {@link #maxQueueWait(Duration)} (sync calls
     * and iterator streams on the caller's thread; async calls, callback and publisher streams in a
     * queue, without a thread), then fails with {@link
     * ConcurrencyLimitExceededException}, nothing sent. Default {@value
     * #DEFAULT_MAX_CONCURRENT_REQUESTS}.
     *
     * @param maxConcurrentRequests at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxConcurrentRequests(int maxConcurrentRequests) {
      if (maxConcurrentRequests < 1) {
        throw new IllegalArgumentException("maxConcurrentRequests < 1: " + maxConcurrentRequests);
      }
      this.maxConcurrentRequests = maxConcurrentRequests;
      this.inherited = null;
      return this;
    }

    /**
     * Sets how long a call waits for a slot when {@link #maxConcurrentRequests(int)} calls are in
     * flight, before it fails with {@link ConcurrencyLimitExceededException}. Default 5 s.
     *
     * @param maxQueueWait zero (fail at once) or positive
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder maxQueueWait(Duration maxQueueWait) {
      Objects.requireNonNull(maxQueueWait, "maxQueueWait");
      if (maxQueueWait.isNegative()) {
        throw new IllegalArgumentException("maxQueueWait must not be negative: " + maxQueueWait);
      }
      this.maxQueueWait = maxQueueWait;
      return this;
    }

    /**
     * Sets the executor that reads callback streams and calls their {@link StreamListener} (one
     * task per stream, for its whole life: the task blocks on the stream's socket), that reads
     * {@linkplain LlmGatewayClient#chatPublisher publisher} streams and signals their subscribers
     * (a task while the subscriber has demand), and that starts asynchronous calls and callback
     * streams which waited for a slot. On JDK 21+ a virtual-thread
     * executor ({@code Executors.newVirtualThreadPerTaskExecutor()}) serves any number of streams
     * without a platform thread each. The SDK never shuts it down. Default: the threads of OkHttp's
     * dispatcher (the SDK's own, or those of the {@link #okHttpClient(OkHttpClient) host's client}).
     * {@link LlmGatewayClient#chatAsync chatAsync} futures complete on OkHttp's dispatcher threads
     * whatever this setting; sync calls and iterator streams run on the caller's thread.
     *
     * @param callbackExecutor the executor
     * @return this builder
     */
    public Builder callbackExecutor(Executor callbackExecutor) {
      this.callbackExecutor = Objects.requireNonNull(callbackExecutor, "callbackExecutor");
      return this;
    }

    /**
     * Sets the {@code User-Agent} header. Default {@code llm-gateway-java/<version>}.
     *
     * @param userAgent printable ASCII
     * @return this builder
     * @throws IllegalArgumentException if blank or not printable ASCII
     */
    public Builder userAgent(String userAgent) {
      Objects.requireNonNull(userAgent, "userAgent");
      if (userAgent.isBlank() || !Text.isHeaderSafe(userAgent)) {
        throw new IllegalArgumentException("userAgent must be non-blank printable ASCII");
      }
      this.userAgent = userAgent;
      return this;
    }

    /**
     * Sets the observer of calls, attempts, retries and breaker changes, shared by every call of
     * the client (for a listener per call, see {@link #listenerFactory(GatewayListener.Factory)}).
     * Default {@link GatewayListener#logging()}; replacing it drops those logs unless you compose
     * it back with {@link GatewayListener#composite(GatewayListener...)}.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder listener(GatewayListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Sets a factory creating a listener of its own for each logical call (see {@link
     * GatewayListener.Factory}): the place for per-call state such as a trace span or the time to
     * first token. It adds to the {@link #listener(GatewayListener) shared listener}, which keeps
     * receiving every event: each event goes first to the shared listener, then to the call's own.
     * Default: none (no per-call listener, and nothing allocated for one).
     *
     * @param listenerFactory called once per logical call, on the thread starting it
     * @return this builder
     */
    public Builder listenerFactory(GatewayListener.Factory listenerFactory) {
      this.listenerFactory = Objects.requireNonNull(listenerFactory, "listenerFactory");
      return this;
    }

    /**
     * Sets where the one audit event per call goes. Default {@link AuditSink#logging()}.
     *
     * @param auditSink the sink
     * @return this builder
     */
    public Builder auditSink(AuditSink auditSink) {
      this.auditSink = Objects.requireNonNull(auditSink, "auditSink");
      return this;
    }

    /**
     * Answers every call from an in-process simulation of the service instead of the network:
     * deterministic intents, answers, candidates and sessions through the same HTTP and JSON path
     * the real service takes. For development and demos; no service token is needed. The
     * simulation is the artifact {@code dev.llmgateway:llm-gateway-sandbox}, which must be on the
     * classpath (test or runtime scope): {@link #build()} finds its {@link SandboxProvider} with
     * {@link ServiceLoader}, through the class loader that loaded this class. Default: env {@value
     * #ENV_SANDBOX} is {@code true} (then each {@link #build()} logs a WARN: the answers are fake),
     * else false; this setting wins over the environment.
     *
     * @param sandbox true for the sandbox
     * @return this builder
     */
    public Builder sandbox(boolean sandbox) {
      this.sandbox = sandbox;
      return this;
    }

    /**
     * Sets the longest query accepted, in Unicode code points. Default {@value
     * RequestValidator#DEFAULT_MAX_QUERY_LENGTH}.
     *
     * @param maxQueryLength at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxQueryLength(int maxQueryLength) {
      this.maxQueryLength = RequestValidator.checkMaxQueryLength(maxQueryLength);
      return this;
    }

    /**
     * Sets the deepest metadata accepted, in nested maps and lists (the metadata object is level
     * 1); deeper metadata, or a map or list that contains itself, fails with {@link
     * ValidationException}. Default {@value RequestValidator#DEFAULT_MAX_METADATA_DEPTH}.
     *
     * @param maxMetadataDepth 1 to {@value RequestValidator#MAX_METADATA_DEPTH_LIMIT}
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder maxMetadataDepth(int maxMetadataDepth) {
      this.maxMetadataDepth = RequestValidator.checkMaxMetadataDepth(maxMetadataDepth);
      return this;
    }

    /**
     * Sets the largest metadata accepted, in bytes of its UTF-8 JSON encoding; larger metadata fails
     * with {@link ValidationException}. Default {@value RequestValidator#DEFAULT_MAX_METADATA_BYTES}.
     *
     * @param maxMetadataBytes at least 2
     * @return this builder
     * @throws IllegalArgumentException if below 2
     */
    public Builder maxMetadataBytes(int maxMetadataBytes) {
      this.maxMetadataBytes = RequestValidator.checkMaxMetadataBytes(maxMetadataBytes);
      return this;
    }

    /**
     * Sets the SLF4J MDC key of the request id: a value the host already put there is used as the
     * request id of calls made on that thread (unless the call sets its own), and the SDK puts the
     * request id there while it logs. Default {@value #DEFAULT_MDC_KEY}.
     *
     * @param mdcKey the key
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder requestIdMdcKey(String mdcKey) {
      Objects.requireNonNull(mdcKey, "mdcKey");
      if (mdcKey.isBlank()) {
        throw new IllegalArgumentException("mdcKey must not be blank");
      }
      this.mdcKey = mdcKey;
      return this;
    }

    /**
     * Sets the largest success body read; a larger one fails with {@link
     * InvalidResponseException}. Default 8 MiB.
     *
     * @param maxResponseBytes at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxResponseBytes(long maxResponseBytes) {
      if (maxResponseBytes < 1) {
        throw new IllegalArgumentException("maxResponseBytes < 1: " + maxResponseBytes);
      }
      this.maxResponseBytes = maxResponseBytes;
      return this;
    }

    /**
     * Sets the time allowed for one {@link LlmGatewayClient#health()} probe (connect, send, read),
     * which is also the longest any caller of {@code health()} waits. Default 2 s.
     *
     * @param healthTimeout positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder healthTimeout(Duration healthTimeout) {
      this.healthTimeout = positive(healthTimeout, "healthTimeout");
      return this;
    }

    /**
     * Sets how long {@link LlmGatewayClient#health()} reuses a probe's answer (up or down) before
     * probing again, measured with the {@link #ticker(Ticker) ticker} from the answer. Default 5 s.
     *
     * @param healthCacheTtl zero (probe on every call not sharing one under way) or positive
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder healthCacheTtl(Duration healthCacheTtl) {
      Objects.requireNonNull(healthCacheTtl, "healthCacheTtl");
      if (healthCacheTtl.isNegative()) {
        throw new IllegalArgumentException("healthCacheTtl must not be negative: " + healthCacheTtl);
      }
      this.healthCacheTtl = healthCacheTtl;
      return this;
    }

    /**
     * Sets the monotonic time source for deadlines, latencies and the default circuit breaker.
     * Default {@link Ticker#system()}.
     *
     * @param ticker the ticker
     * @return this builder
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Sets how the client waits between retries. Default {@link Sleeper#system()}.
     *
     * @param sleeper the sleeper
     * @return this builder
     */
    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /**
     * Sets the wall clock for {@code Retry-After} dates and audit timestamps. Default {@link
     * Clock#systemUTC()}.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets where the environment defaults ({@value #ENV_BASE_URL}, {@value #ENV_SERVICE_TOKEN},
     * {@value #ENV_SANDBOX}) are read from. Default {@link System#getenv(String)}.
     *
     * @param environment returns a variable's value, or null when unset
     * @return this builder
     */
    public Builder environment(Function<String, @Nullable String> environment) {
      this.environment = Objects.requireNonNull(environment, "environment");
      return this;
    }

    /**
     * Builds a client from the settings as they are now; the client keeps none of this builder's
     * state. Without a {@link #circuitBreaker(CircuitBreaker) breaker set}, each call makes a new
     * default breaker, so two clients built by one builder do not share one (clients derived with
     * {@link LlmGatewayClient#newBuilder()} share the original's).
     *
     * @return the client
     * @throws IllegalStateException if no service token is available (not set, env {@value
     *     #ENV_SERVICE_TOKEN} unset) while neither a custom {@link #auth(AuthStrategy)} nor the
     *     sandbox is configured; or if the sandbox is asked for and {@code
     *     dev.llmgateway:llm-gateway-sandbox} is not on the classpath
     * @throws IllegalArgumentException if the base URL from the environment is not an http(s) URL
     */
    public LlmGatewayClient build() {
      boolean sandboxFromEnv = sandbox == null && "true".equalsIgnoreCase(env(ENV_SANDBOX));
      boolean isSandbox = sandbox != null ? sandbox : sandboxFromEnv;
      SandboxProvider sandboxProvider = isSandbox ? sandboxProvider(sandboxFromEnv) : null;
      String url = baseUrl != null ? baseUrl : env(ENV_BASE_URL);
      if (url == null || url.isBlank()) {
        url = DEFAULT_BASE_URL;
      }
      HttpUrl parsed = HttpUrl.parse(url);
      if (parsed == null) {
        throw new IllegalArgumentException(
            "The base URL from " + ENV_BASE_URL + " is not an http or https URL: " + Text.preview(url, 200));
      }
      AuthStrategy strategy = auth;
      if (strategy == null) {
        String token = serviceToken != null ? serviceToken : env(ENV_SERVICE_TOKEN);
        if (token == null || token.isBlank()) {
          if (!isSandbox) {
            throw new IllegalStateException(
                "No service token: set LlmGatewayClient.Builder.serviceToken(...) or the " + ENV_SERVICE_TOKEN
                    + " environment variable (or use sandbox(true), with " + SANDBOX_ARTIFACT
                    + " on the classpath, for local development without the service)");
          }
          token = "sandbox";
        }
        strategy = AuthStrategy.serviceToken(token);
      }
      if (!isSandbox) {
        warnIfInsecure(parsed);
      } else if (sandboxFromEnv) {
        LOG.warn("The sandbox is on because the environment variable {} is true: every call is answered by an "
            + "in-process simulation with fake answers, and the LLM service is never called. Unset {} "
            + "outside development.", ENV_SANDBOX, ENV_SANDBOX);
      }
      HttpResources resources = inherited != null && inherited.retain()
          ? inherited
          : HttpResources.create(okHttpClient, maxConcurrentRequests);
      try {
        return new LlmGatewayClient(this, resources, parsed, strategy,
            sandboxProvider == null ? null : sandboxProvider.newSandbox(clock));
      } catch (RuntimeException | Error e) {
        // No client holds them: give them back, or the pool and threads would outlive every client.
        resources.release();
        throw e;
      }
    }

    /** The first provider on the classpath, else a refusal naming the artifact to add. */
    private static SandboxProvider sandboxProvider(boolean fromEnv) {
      return ServiceLoader.load(SandboxProvider.class, SandboxProvider.class.getClassLoader()).findFirst()
          .orElseThrow(() -> new IllegalStateException("The sandbox was asked for ("
              + (fromEnv ? "environment variable " + ENV_SANDBOX + "=true" : "sandbox(true)")
              + ") but is not on the classpath: add the dependency " + SANDBOX_ARTIFACT
              + " (test or runtime scope), or turn the sandbox off to call the service"));
    }

    private @Nullable String env(String name) {
      return environment.apply(name);
    }

    private static void warnIfInsecure(HttpUrl url) {
      if (url.isHttps() || isLoopback(url.host()) || !WARNED_INSECURE_HOSTS.add(url.host())) {
        return;
      }
      LOG.warn("The LLM service at {} is reached over plain http: its credentials travel unencrypted. "
          + "Use an https base URL outside loopback.", url.host());
    }

    static boolean isLoopback(String host) {
      String h = host.toLowerCase(Locale.ROOT);
      return h.equals("localhost") || h.endsWith(".localhost") || h.startsWith("127.") || h.equals("::1")
          || h.equals("0:0:0:0:0:0:0:1");
    }

    private static Duration positive(Duration value, String name) {
      Objects.requireNonNull(value, name);
      if (value.isZero() || value.isNegative()) {
        throw new IllegalArgumentException(name + " must be positive: " + value);
      }
      return value;
    }
  }
}
