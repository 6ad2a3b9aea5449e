package dev.llmgateway.host;

import dev.llmgateway.AuditEvent;
import dev.llmgateway.AuditSink;
import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallInfo;
import dev.llmgateway.CallOptions;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.ChatStream;
import dev.llmgateway.CreditSettlement;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.Operation;
import dev.llmgateway.PermissionDeniedException;
import dev.llmgateway.RequestValidator;
import dev.llmgateway.Session;
import dev.llmgateway.SessionPage;
import dev.llmgateway.SessionSummary;
import dev.llmgateway.Sessions;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.StreamHandle;
import dev.llmgateway.StreamListener;
import dev.llmgateway.StreamOptions;
import dev.llmgateway.Usage;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.internal.AuditMetadata;
import dev.llmgateway.internal.ClientConfig;
import dev.llmgateway.internal.HostAccess;
import dev.llmgateway.internal.Ids;
import dev.llmgateway.internal.Mdc;
import dev.llmgateway.internal.Text;
import dev.llmgateway.webhooks.CompletionWebhook;
import dev.llmgateway.webhooks.VerifiedWebhook;
import dev.llmgateway.webhooks.WebhookVerificationException;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a host server puts between its users and the LLM service: every call is validated, rate
 * limited, paid for with a credit reservation that is settled exactly once, and audited.
 * Framework-neutral: the host maps its routes onto these methods and its responses onto
 * {@link ErrorMapper}.
 *
 * <p>Order of checks, and nothing spent on a refusal: the {@linkplain Builder#policy authorization
 * policy} (a {@link ForbiddenException}, 403: nothing validated, no rate limit permit taken), validation
 * (nothing reserved), rate limit (nothing reserved), credit reservation (nothing sent), then the call.
 * After the reservation, exactly one of commit and release happens on every path: success,
 * failure after retries, a stream that completes, errors, is cut off, is cancelled or whose
 * browser goes away, a {@linkplain #chatInBackground background chat} however it ends, and
 * direct streams settled by the completion webhook (or by the ledger's reaper when it never comes).
 *
 * <p>A settlement the ledger could not write after the answer was given ({@link
 * StateStoreException}: its database or Redis failed) does not cost the user the answer: it is
 * logged at ERROR and repeated off the request thread ({@link Builder#settlementRetry}); repeats
 * are safe because a ledger applies at most one settlement per reservation. When every repeat
 * fails the reservation stays pending until the ledger's reaper releases it after its lease (the
 * charge is lost, never doubled); the host sees it in {@link #abandonedSettlements()} and {@link
 * SettlementListener#onSettlementAbandoned}. A completion webhook whose settlement fails is not
 * retried here: it throws, so the host answers 503 and the service redelivers it.
 *
 * <p>The client's listeners hear of each chat's and relayed stream's credits: the listener the
 * client creates for the call ({@link LlmGatewayClient.Builder#listenerFactory}), and its shared
 * listener, are told {@link GatewayListener#creditsReserved} before the call starts and {@link
 * GatewayListener#creditsSettled} exactly once after it ends (after the {@link
 * SettlementListener}), also when the settlement lands on a retry or is abandoned. Direct
 * streams, which the gateway does not call, are settled for the {@link SettlementListener} only.
 *
 * <p>Every request the gateway handles leaves exactly one {@link AuditEvent} in its {@link
 * Builder#auditSink audit sink} (default: the client's): a chat or relayed stream sent to the
 * service is audited by the client's call (to this sink); a request refused before that (the policy
 * {@link AuditEvent.Outcome#FORBIDDEN}, validation {@link AuditEvent.Outcome#REJECTED}, rate limit {@link AuditEvent.Outcome#RATE_LIMITED}, credits
 * {@link AuditEvent.Outcome#INSUFFICIENT_CREDITS}, a failed store {@link
 * AuditEvent.Outcome#FAILURE}), each direct stream's start ({@link AuditEvent.Kind#DIRECT_STREAM_INIT})
 * and each completion webhook ({@link AuditEvent.Kind#COMPLETION_WEBHOOK}) by the gateway. Refusals
 * are also told to the client's shared listener ({@link GatewayListener#callRefused}).
 *
 * <p>Thread-safe; one instance serves the whole host. {@link #close()} stops the thread that
 * repeats failed settlements, if one was started.
 */
public final class ChatGateway implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ChatGateway.class);

  private final LlmGatewayClient client;
  private final CreditLedger ledger;
  private final ChatPolicy policy;
  private final RateLimiter rateLimiter;
  private final RateLimitKeys rateLimitKeys;
  private final CreditPricing pricing;
  private final SettlementPolicy settlement;
  private final ToLongFunction<ChatRequest> estimate;
  private final SseRelay relay;
  private final @Nullable StreamTokenIssuer streamTokens;
  /** Where background chats' events go, or null when the host runs none. */
  private final @Nullable ChatEventPublisher eventPublisher;
  private final @Nullable WebhookVerifier webhooks;
  private final SettlementListener settled;
  private final @Nullable Duration streamTotalTimeout;
  private final @Nullable Duration streamFirstEventTimeout;
  private final boolean strictStreams;
  private final SettlementRetries retries;
  private final AuditSink auditSink;
  private final ErrorMapper errors;
  /** The client's settings: its shared listener (told of refusals), clock and ticker. */
  private final ClientConfig clientConfig;
  /** The client's session calls, audited to {@link #auditSink}. */
  private final Sessions sessions;
  /** The host's session records, or null when the host keeps none (the service is asked directly). */
  private final @Nullable SessionStore sessionStore;
  /** Each user's recent sessions as last read from {@link #sessionStore}, for {@link #DEFAULT_RECENT_SESSIONS_TTL}. */
  private final ConcurrentHashMap<String, RecentSessions> recentSessions = new ConcurrentHashMap<>();

  private ChatGateway(Builder b) {
    this.client = Objects.requireNonNull(b.client, "client == null: set ChatGateway.Builder.client");
    this.ledger = Objects.requireNonNull(b.ledger, "ledger == null: set ChatGateway.Builder.ledger");
    this.policy = b.policy;
    this.rateLimiter = b.rateLimiter;
    this.rateLimitKeys = b.rateLimitKeys;
    this.pricing = b.pricing;
    this.settlement = b.settlement;
    this.estimate = b.estimate;
    ErrorMapper errors = b.errors;
    this.errors = errors;
    this.clientConfig = HostAccess.get().config(client);
    this.auditSink = b.auditSink != null ? b.auditSink : clientConfig.auditSink();
    this.sessions = HostAccess.get().sessions(client, auditSink);
    this.sessionStore = b.sessionStore;
    if (b.relay != null && b.relaySettingsSet) {
      throw new IllegalStateException("heartbeat and reconnectDelay configure the default relay: set them on the "
          + "SseRelay given to ChatGateway.Builder.relay(...), or leave relay(...) unset");
    }
    this.relay = b.relay != null
        ? b.relay
        : b.relaySettings.errorJson(e -> errors.toResponse(e).envelope().toJson()).build();
    this.streamTokens = b.streamTokens;
    this.eventPublisher = b.eventPublisher;
    this.webhooks = b.webhooks;
    this.settled = b.settled;
    this.streamTotalTimeout = b.streamTotalTimeout;
    this.streamFirstEventTimeout = b.streamFirstEventTimeout;
    this.strictStreams = b.strictStreams;
    SettlementListener listener = b.settled;
    this.retries = new SettlementRetries(b.settlementAttempts, b.settlementBackoff, b.settlementScheduler,
        listener::onSettlementAbandoned);
  }

  /**
   * Counts the settlements given up: the ledger failed on the first attempt and on every retry
   * ({@link Builder#settlementRetry}), or the gateway was closed while they waited. Each such
   * reservation stays pending until the ledger's reaper releases it after its lease.
   *
   * @return the count since the gateway was built
   */
  public long abandonedSettlements() {
    return retries.abandoned();
  }

  /**
   * Stops the thread the gateway started to repeat failed settlements (none is started until a
   * settlement fails; a scheduler given to {@link Builder#settlementScheduler} is not shut down).
   * Settlements still waiting for a retry are abandoned to the ledger's reaper and counted in
   * {@link #abandonedSettlements()}. Does not close the client or the ledger. Idempotent.
   */
  @Override
  public void close() {
    retries.close();
  }

  /**
   * Starts a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Sends one chat message for a user and settles its credits.
   *
   * @param user the authenticated end user
   * @param request the message
   * @return the answer
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the input is invalid
   * @throws RateLimitExceededException if the user is over a rate limit
   * @throws InsufficientCreditsException if the user cannot pay for the call
   * @throws LlmGatewayException for failures of the call (credits released)
   * @throws IllegalStateException if the {@link Builder#rateLimitKeys rate limit keys} need a
   *     {@link Caller} (use {@link #chat(UserContext, ChatRequest, Caller)})
   */
  public ChatResponse chat(UserContext user, ChatRequest request) {
    return chat(user, request, Caller.unknown());
  }

  /**
   * Sends one chat message for a user and settles its credits, counting it against the rate limit
   * keys of the user and of {@code caller} ({@link Builder#rateLimitKeys}).
   *
   * @param user the authenticated end user
   * @param request the message
   * @param caller what the host knows of the HTTP request: the client's address, extra keys
   * @return the answer
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the input is invalid
   * @throws RateLimitExceededException if a rate limit refuses the call
   * @throws InsufficientCreditsException if the user cannot pay for the call
   * @throws LlmGatewayException for failures of the call (credits released)
   * @throws IllegalStateException if the rate limit keys need what {@code caller} lacks
   */
  public ChatResponse chat(UserContext user, ChatRequest request, Caller caller) {
    long start = clientConfig.ticker().read();
    String requestId = Ids.randomUuid(); // not UUID.randomUUID(): no SecureRandom lock per request
    CallCredits reservation = admitAndReserve(user, request, caller, ChatPolicy.Action.CHAT, requestId, start,
        AuditEvent.Kind.CALL);
    ChatResponse response;
    try {
      response = HostAccess.get().chat(
          client, request, user, CallOptions.withRequestId(requestId), reservation, reservation);
    } catch (RuntimeException | Error e) { // an Error too: the reservation is released now, not at its lease's end
      notAuditedByTheClient(reservation, Operation.CHAT, user, request, requestId, start, e);
      releaseOrRetry(reservation, "chat failed: " + e.getClass().getSimpleName());
      throw e;
    }
    Usage usage = settlement.usageFor(Delivery.completed(request.query(), response));
    recordExchange(user, request, response.sessionId(), usage, reservation);
    commitOrRetry(reservation, usage);
    return response;
  }

  /**
   * Streams one answer to the user's browser through the host's response, and settles its credits
   * by how the stream ended ({@link SettlementPolicy}).
   *
   * <p>{@code response} is started only when the stream's first event has arrived. Refusals, and
   * failures before the first event (the service's error status after the retries, no first event
   * in time, the service's {@code error} event first, a cancellation), are thrown with nothing
   * started and the credits released, so the host answers them as it answers a failed {@link
   * #chat chat}: {@link ErrorMapper} gives the same status (502, 503, 504, ...), envelope and
   * {@code Retry-After}. After the first event, failures reach the browser as an {@code error}
   * event and are reported in the result.
   *
   * @param user the authenticated end user
   * @param request the message
   * @param response starts the host's HTTP response (status 200 and the headers given) and returns
   *     its body; called at most once, with the first event
   * @return how the relay ended
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the input is invalid
   * @throws RateLimitExceededException if the user is over a rate limit
   * @throws InsufficientCreditsException if the user cannot pay for the call
   * @throws LlmGatewayException if the stream could not be opened or failed before its first event
   *     (credits released, {@code response} not started)
   * @throws IllegalStateException if the {@link Builder#rateLimitKeys rate limit keys} need a
   *     {@link Caller} (use {@link #stream(UserContext, ChatRequest, Caller, SseResponse)})
   */
  public RelayResult stream(UserContext user, ChatRequest request, SseResponse response) {
    return stream(user, request, Caller.unknown(), response);
  }

  /**
   * Streams one answer as {@link #stream(UserContext, ChatRequest, SseResponse)} does, counting it
   * against the rate limit keys of the user and of {@code caller} ({@link Builder#rateLimitKeys}).
   *
   * @param user the authenticated end user
   * @param request the message
   * @param caller what the host knows of the HTTP request: the client's address, extra keys
   * @param response starts the host's HTTP response; called at most once, with the first event
   * @return how the relay ended
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the input is invalid
   * @throws RateLimitExceededException if a rate limit refuses the call
   * @throws InsufficientCreditsException if the user cannot pay for the call
   * @throws LlmGatewayException if the stream could not be opened or failed before its first event
   *     (credits released, {@code response} not started)
   * @throws IllegalStateException if the rate limit keys need what {@code caller} lacks
   */
  public RelayResult stream(UserContext user, ChatRequest request, Caller caller, SseResponse response) {
    long start = clientConfig.ticker().read();
    String requestId = Ids.randomUuid();
    CallCredits reservation = admitAndReserve(user, request, caller, ChatPolicy.Action.STREAM, requestId, start,
        AuditEvent.Kind.CALL);
    ChatStream stream;
    try {
      stream = HostAccess.get().chatStream(client, request, user, streamOptions(requestId), reservation, reservation);
    } catch (RuntimeException | Error e) {
      notAuditedByTheClient(reservation, Operation.CHAT_STREAM, user, request, requestId, start, e);
      releaseOrRetry(reservation, "stream did not open: " + e.getClass().getSimpleName());
      throw e;
    }
    RelayResult result;
    try (stream) {
      try {
        result = relay.relay(stream, response);
      } catch (LlmGatewayException beforeTheFirstEvent) {
        releaseOrRetry(reservation, "stream failed before its first event: "
            + beforeTheFirstEvent.getClass().getSimpleName());
        throw beforeTheFirstEvent;
      } catch (RuntimeException | Error unexpected) {
        settle(reservation, request, new RelayResult(RelayResult.Outcome.FAILED, null,
            new LlmGatewayException("relay failed", requestId, 1, unexpected), ""));
        throw unexpected;
      }
    }
    settle(reservation, request, result);
    return result;
  }

  /** The options of a stream the gateway reads: its request id, strictness and time limits. */
  private StreamOptions streamOptions(String requestId) {
    StreamOptions.Builder options = StreamOptions.builder().callOptions(CallOptions.withRequestId(requestId))
        .strict(strictStreams);
    if (streamTotalTimeout != null) {
      options.totalTimeout(streamTotalTimeout);
    }
    if (streamFirstEventTimeout != null) {
      options.firstEventTimeout(streamFirstEventTimeout);
    }
    return options.build();
  }

  /**
   * Answers one chat message in the background: the answer is streamed on the client's callback
   * executor and each of its events published to the {@link Builder#eventPublisher event
   * publisher} ({@link ChatEvent.Started}, a {@link ChatEvent.Token} per piece of the answer, then
   * {@link ChatEvent.Completed} or {@link ChatEvent.Failed}), for a host that does not hold a
   * connection open for the answer: it tells the user through its own push channel.
   *
   * <p>On the caller's thread, as for {@link #stream stream}: the {@link Builder#policy policy}
   * ({@link ChatPolicy.Action#BACKGROUND_CHAT}), validation, the rate limit (a stream start, {@link
   * Operation#CHAT_STREAM}) and the credit reservation; a refusal is thrown with nothing reserved,
   * sent or published. Then the method returns, and the rest happens on the client's {@linkplain
   * LlmGatewayClient.Builder#callbackExecutor callback executor}: the stream (with the gateway's
   * {@linkplain Builder#streamTotalTimeout time limits} and {@linkplain Builder#strictStreams
   * strictness}), its events, then the settlement of its credits, exactly once, as for a relayed
   * stream ({@link SettlementPolicy}): a failure before the stream's first event releases them; a
   * chat that delivered tokens and then failed or was {@linkplain BackgroundChat#cancel cancelled} is
   * settled as a relay that failed or whose browser went away after delivery. The last event is
   * published after the settlement: {@link ChatEvent.Completed} with the credits committed, or
   * {@link ChatEvent.Failed} with the code and user-safe message of the {@link Builder#errors error
   * mapper}'s envelope. The {@link Builder#sessionStore session store} records the exchange, the
   * audit sink and the client's listeners hear of the call, as for {@link #stream stream}.
   *
   * @param user the authenticated end user
   * @param request the message
   * @return the chat under way: its id, its end, its cancel
   * @throws IllegalStateException if no {@link Builder#eventPublisher event publisher} was set, or
   *     the {@link Builder#rateLimitKeys rate limit keys} need a {@link Caller} (use {@link
   *     #chatInBackground(UserContext, ChatRequest, Caller)}), or the client is closed (credits
   *     released)
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the input is invalid
   * @throws RateLimitExceededException if the user is over a rate limit
   * @throws InsufficientCreditsException if the user cannot pay for the call
   */
  public BackgroundChat chatInBackground(UserContext user, ChatRequest request) {
    return chatInBackground(user, request, Caller.unknown());
  }

  /**
   * Answers one chat message in the background as {@link #chatInBackground(UserContext,
   * ChatRequest)} does, counting it against the rate limit keys of the user and of {@code caller}
   * ({@link Builder#rateLimitKeys}).
   *
   * @param user the authenticated end user
   * @param request the message
   * @param caller what the host knows of the HTTP request: the client's address, extra keys
   * @return the chat under way: its id, its end, its cancel
   * @throws IllegalStateException if no {@link Builder#eventPublisher event publisher} was set, the
   *     rate limit keys need what {@code caller} lacks, or the client is closed (credits released)
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the input is invalid
   * @throws RateLimitExceededException if a rate limit refuses the call
   * @throws InsufficientCreditsException if the user cannot pay for the call
   */
  public BackgroundChat chatInBackground(UserContext user, ChatRequest request, Caller caller) {
    ChatEventPublisher publisher = eventPublisher;
    if (publisher == null) {
      throw new IllegalStateException("Background chats need ChatGateway.Builder.eventPublisher(...)");
    }
    long start = clientConfig.ticker().read();
    String requestId = Ids.randomUuid();
    CallCredits reservation = admitAndReserve(user, request, caller, ChatPolicy.Action.BACKGROUND_CHAT, requestId,
        start, AuditEvent.Kind.CALL);
    BackgroundChat chat = new BackgroundChat(requestId);
    StreamHandle handle;
    try {
      handle = HostAccess.get().chatStream(client, request, user, streamOptions(requestId),
          new BackgroundAnswer(chat, user, request, reservation, publisher), reservation, reservation);
    } catch (RuntimeException | Error e) {
      notAuditedByTheClient(reservation, Operation.CHAT_STREAM, user, request, requestId, start, e);
      releaseOrRetry(reservation, "background chat did not start: " + e.getClass().getSimpleName());
      throw e;
    }
    chat.attach(handle);
    return chat;
  }

  /**
   * Publishes a background chat's stream and settles it: a {@link StreamListener}, so its methods
   * are called one at a time, in order, on the client's callback executor (its fields need no
   * locks), and exactly one of {@code onComplete} and {@code onError} is called, once.
   */
  private final class BackgroundAnswer implements StreamListener {
    private final BackgroundChat chat;
    private final UserContext user;
    private final ChatRequest request;
    private final CallCredits reservation;
    private final ChatEventPublisher publisher;
    /** The answer text published so far, for the settlement of a chat that ends early. */
    private final StringBuilder delivered = new StringBuilder();
    private boolean started;
    private boolean sawEvent;
    private int publishFailures;

    BackgroundAnswer(BackgroundChat chat, UserContext user, ChatRequest request, CallCredits reservation,
        ChatEventPublisher publisher) {
      this.chat = chat;
      this.user = user;
      this.request = request;
      this.reservation = reservation;
      this.publisher = publisher;
    }

    @Override
    public void onEvent(StreamEvent event) {
      sawEvent = true;
      startOnce();
    }

    @Override
    public void onToken(String content) {
      delivered.append(content);
      publish(new ChatEvent.Token(chat.id(), user.userId(), user.companyId(), content));
    }

    @Override
    public void onComplete(StreamCompletion completion) {
      end(() -> settle(reservation, request, new RelayResult(RelayResult.Outcome.COMPLETED, completion, null,
          completion.text())), credits -> new ChatEvent.Completed(chat.id(), user.userId(), user.companyId(),
          completion.sessionId(), completion.text(), credits));
    }

    @Override
    public void onError(LlmGatewayException error) {
      end(() -> {
        if (!sawEvent) {
          releaseOrRetry(reservation, "background chat failed before its first event: "
              + error.getClass().getSimpleName());
        } else {
          boolean cancelled = chat.cancelRequested() && error instanceof CallCancelledException;
          settle(reservation, request, new RelayResult(
              cancelled ? RelayResult.Outcome.CLIENT_DISCONNECTED : RelayResult.Outcome.FAILED, null, error,
              delivered.toString()));
        }
      }, credits -> {
        ErrorResponse response = errors.toResponse(error, chat.id());
        return new ChatEvent.Failed(chat.id(), user.userId(), user.companyId(), response.kind().code(),
            response.envelope().message());
      });
    }

    /**
     * Settles the chat's credits, then publishes its last event and completes it; an unexpected
     * failure of the settlement is logged, and the chat still ends.
     */
    private void end(Runnable settlement, LongFunction<ChatEvent> last) {
      startOnce();
      try {
        settlement.run();
      } catch (RuntimeException e) {
        LOG.error("Settlement of background chat {} failed unexpectedly; its reservation stays pending until the "
            + "ledger's reaper releases it", chat.id(), e);
      } catch (Error e) {
        chat.fail(e);
        throw e;
      }
      ChatEvent event = last.apply(reservation.creditsCharged);
      try {
        publish(event);
      } finally { // an Error the publisher throws still ends the chat
        chat.complete(event);
      }
      if (publishFailures > 1) {
        LOG.warn("ChatEventPublisher threw on {} events of background chat {}", publishFailures, chat.id());
      }
    }

    private void startOnce() {
      if (!started) {
        started = true;
        publish(new ChatEvent.Started(chat.id(), user.userId(), user.companyId()));
      }
    }

    /** Offers an event; what the publisher throws is logged (its class only: its message may hold anything). */
    private void publish(ChatEvent event) {
      try {
        publisher.publish(event);
      } catch (RuntimeException e) {
        if (publishFailures++ == 0) {
          LOG.warn("ChatEventPublisher threw {} on the {} event of background chat {}; ignored, the chat goes on",
              e.getClass().getName(), event.type(), chat.id());
        }
      }
    }
  }

  /**
   * Starts a direct stream (CONTRACT section 4): validates, rate limits, reserves credits under a
   * new request id, and mints the single-use stream token the browser opens. The reservation is
   * settled by {@link #handleCompletionWebhook}, or released by the ledger's reaper after its
   * lease.
   *
   * @param user the authenticated end user
   * @param request the message
   * @return the token, its URL, expiry and request id, for the browser
   * @throws IllegalStateException if no stream token issuer was configured
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the input is invalid
   * @throws RateLimitExceededException if the user is over a rate limit
   * @throws InsufficientCreditsException if the user cannot pay for the call
   */
  public StreamToken initDirectStream(UserContext user, ChatRequest request) {
    return initDirectStream(user, request, Caller.unknown());
  }

  /**
   * Starts a direct stream as {@link #initDirectStream(UserContext, ChatRequest)} does, counting
   * it against the rate limit keys of the user and of {@code caller} ({@link
   * Builder#rateLimitKeys}).
   *
   * @param user the authenticated end user
   * @param request the message
   * @param caller what the host knows of the HTTP request: the client's address, extra keys
   * @return the token, its URL, expiry and request id, for the browser
   * @throws IllegalStateException if no stream token issuer was configured, or the rate limit keys
   *     need what {@code caller} lacks
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the input is invalid
   * @throws RateLimitExceededException if a rate limit refuses the call
   * @throws InsufficientCreditsException if the user cannot pay for the call
   */
  public StreamToken initDirectStream(UserContext user, ChatRequest request, Caller caller) {
    if (streamTokens == null) {
      throw new IllegalStateException("Direct streaming needs ChatGateway.Builder.streamTokens(...)");
    }
    long start = clientConfig.ticker().read();
    String requestId = Ids.randomUuid();
    CallCredits reservation = admitAndReserve(user, request, caller, ChatPolicy.Action.DIRECT_STREAM_INIT, requestId,
        start, AuditEvent.Kind.DIRECT_STREAM_INIT);
    StreamToken token;
    try {
      token = streamTokens.issue(request, user, requestId);
    } catch (RuntimeException | Error e) {
      audit(AuditEvent.Kind.DIRECT_STREAM_INIT, Operation.CHAT_STREAM, user, request, requestId, start,
          AuditEvent.Outcome.FAILURE, errors.toResponse(e).status(), null, e);
      releaseOrRetry(reservation, "stream token not issued: " + e.getClass().getSimpleName());
      throw e;
    }
    // The token and its URL are a credential: the audit holds neither.
    audit(AuditEvent.Kind.DIRECT_STREAM_INIT, Operation.CHAT_STREAM, user, request, requestId, start,
        AuditEvent.Outcome.SUCCESS, 200, null, null);
    return token;
  }

  /**
   * Handles the service's completion webhook (CONTRACT section 5): verifies the signature over the
   * raw body, ignores redeliveries, and commits or releases the reservation of the request id.
   * Answer 2xx whenever this returns, 400 when it throws {@link
   * dev.llmgateway.webhooks.WebhookVerificationException}. Sees every value of a repeated header,
   * so a repeated {@code webhook-id} or {@code webhook-timestamp} whose values differ is refused:
   * prefer it to {@link #handleCompletionWebhook(Function, byte[])}.
   *
   * @param headers every value of every request header (names in any case), e.g. the JDK's {@code
   *     Headers} or Spring's {@code HttpHeaders}
   * @param rawBody the body bytes exactly as received
   * @return what was done
   * @throws IllegalStateException if no webhook verifier was configured
   * @throws dev.llmgateway.webhooks.WebhookVerificationException if the webhook is not authentic
   */
  public WebhookOutcome handleCompletionWebhook(Map<String, ? extends List<String>> headers, byte[] rawBody) {
    return handleWebhook(() -> verifier().verify(headers, rawBody));
  }

  /**
   * Handles the service's completion webhook as {@link #handleCompletionWebhook(Map, byte[])} does,
   * with headers read one at a time. A lookup that returns the first of several values (Servlet
   * {@code getHeader}, the JDK's {@code Headers.getFirst}) cannot show that {@code webhook-id} or
   * {@code webhook-timestamp} was repeated: such hosts should pass every value to the map variant.
   *
   * @param headers looks up a request header by name (case-insensitive)
   * @param rawBody the body bytes exactly as received
   * @return what was done
   * @throws IllegalStateException if no webhook verifier was configured
   * @throws dev.llmgateway.webhooks.WebhookVerificationException if the webhook is not authentic
   */
  public WebhookOutcome handleCompletionWebhook(Function<String, @Nullable String> headers, byte[] rawBody) {
    return handleWebhook(() -> verifier().verify(headers, rawBody));
  }

  /** Verifies, settles and audits one webhook delivery: one audit event whatever happens. */
  private WebhookOutcome handleWebhook(Supplier<VerifiedWebhook> verify) {
    long start = clientConfig.ticker().read();
    WebhookAudit audit = new WebhookAudit();
    try {
      return audited(settleOrForget(verify.get(), audit), audit, start);
    } catch (RuntimeException e) {
      throw refused(e, audit, start);
    }
  }

  /**
   * What the audit event of a webhook says of it, filled in as it is handled: the request id it
   * reports, the user of the reservation it settles, the usage it reports.
   */
  private static final class WebhookAudit {
    String requestId = "";
    @Nullable UserContext user;
    @Nullable Usage usage;
  }

  private WebhookOutcome audited(WebhookOutcome outcome, WebhookAudit audit, long start) {
    AuditEvent.Outcome audited = switch (outcome) {
      case COMMITTED -> AuditEvent.Outcome.COMMITTED;
      case RELEASED -> AuditEvent.Outcome.RELEASED;
      case DUPLICATE -> AuditEvent.Outcome.DUPLICATE;
      case ALREADY_SETTLED -> AuditEvent.Outcome.ALREADY_SETTLED;
      case UNKNOWN_REQUEST -> AuditEvent.Outcome.UNKNOWN_REQUEST;
    };
    auditWebhook(audit, start, audited, 200, null);
    return outcome;
  }

  /** Audits a webhook that threw: 400 when it is not authentic, 503 when a store failed, else 500. */
  private RuntimeException refused(RuntimeException e, WebhookAudit audit, long start) {
    if (e instanceof WebhookVerificationException) {
      auditWebhook(audit, start, AuditEvent.Outcome.REJECTED, 400, e);
    } else {
      auditWebhook(audit, start, AuditEvent.Outcome.FAILURE, e instanceof StateStoreException ? 503 : 500, e);
    }
    return e;
  }

  private void auditWebhook(
      WebhookAudit audit, long start, AuditEvent.Outcome outcome, int status, @Nullable RuntimeException e) {
    UserContext user = audit.user;
    record(new AuditEvent(clientConfig.clock().instant(), audit.requestId, Operation.CHAT_STREAM,
        user == null ? "" : user.userId(), user == null ? "" : user.companyId(), "", outcome, status,
        since(start), 0, audit.usage, e == null ? null : e.getClass().getSimpleName(), Map.of(),
        AuditEvent.Kind.COMPLETION_WEBHOOK));
  }

  /**
   * Settles a verified webhook; when that fails (a {@link StateStoreException}: answer 503), its id
   * is forgotten so that the service's redelivery is settled rather than taken for a duplicate.
   */
  private WebhookOutcome settleOrForget(VerifiedWebhook webhook, WebhookAudit audit) {
    try {
      return settle(webhook, audit);
    } catch (RuntimeException e) {
      if (!webhook.isDuplicate()) {
        try {
          verifier().forget(webhook.id());
        } catch (RuntimeException forgetFailed) {
          e.addSuppressed(forgetFailed);
        }
      }
      throw e;
    }
  }

  private WebhookVerifier verifier() {
    if (webhooks == null) {
      throw new IllegalStateException("Webhooks need ChatGateway.Builder.webhooks(...)");
    }
    return webhooks;
  }

  private WebhookOutcome settle(VerifiedWebhook webhook, WebhookAudit audit) {
    CompletionWebhook done = webhook.completion();
    String requestId = done.requestId();
    // The id is the service's (signed) word, yet bounded and cleaned before it reaches the audit.
    audit.requestId = Text.preview(requestId, AuditEvent.MAX_WEBHOOK_REQUEST_ID_CHARS);
    audit.usage = done.usage();
    if (webhook.isDuplicate()) {
      return WebhookOutcome.DUPLICATE;
    }
    Optional<CallCredits> reservation = requestId == null
        ? Optional.empty()
        : ledger.findByRequestId(requestId).map(r -> new CallCredits(r, AuditSink.none()));
    reservation.ifPresent(r -> audit.user = r.reservation.user());
    if (reservation.isEmpty()) {
      // The id is the service's (signed) word, yet bounded and cleaned before it reaches a log line.
      LOG.warn("Completion webhook for request {} matches no open reservation", Text.preview(requestId, 128));
      return WebhookOutcome.UNKNOWN_REQUEST;
    }
    if (done.status() == CompletionWebhook.Status.COMPLETED) {
      Usage usage = done.usage() == null ? new Usage(0, 0, 0) : done.usage();
      return commit(reservation.get(), usage).applied() ? WebhookOutcome.COMMITTED : WebhookOutcome.ALREADY_SETTLED;
    }
    Usage partial = done.usage();
    if (partial != null && partial.totalTokens() > 0) {
      return commit(reservation.get(), partial).applied() ? WebhookOutcome.COMMITTED : WebhookOutcome.ALREADY_SETTLED;
    }
    return release(reservation.get(), "direct stream " + done.rawStatus()).applied()
        ? WebhookOutcome.RELEASED
        : WebhookOutcome.ALREADY_SETTLED;
  }

  /**
   * Lists the user's sessions (rate limited, free).
   *
   * @param user the authenticated end user
   * @param limit page size, 1 to 100
   * @param cursor the previous page's cursor, or null
   * @return the page
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the user context is invalid
   * @throws RateLimitExceededException if the user is over the rate limit
   * @throws LlmGatewayException for failures of the call
   */
  public SessionPage listSessions(UserContext user, int limit, @Nullable String cursor) {
    return listSessions(user, limit, cursor, Caller.unknown());
  }

  /**
   * Lists the user's sessions (rate limited by the keys of the user and of {@code caller}, free).
   *
   * @param user the authenticated end user
   * @param limit page size, 1 to 100
   * @param cursor the previous page's cursor, or null
   * @param caller what the host knows of the HTTP request: the client's address, extra keys
   * @return the page
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the user context is invalid
   * @throws RateLimitExceededException if a rate limit refuses the call
   * @throws LlmGatewayException for failures of the call
   * @throws IllegalStateException if the rate limit keys need what {@code caller} lacks
   */
  public SessionPage listSessions(UserContext user, int limit, @Nullable String cursor, Caller caller) {
    admitSessionCall(user, caller, ChatPolicy.Action.LIST_SESSIONS, null);
    SessionStore store = sessionStore;
    return store == null ? sessions.list(user, limit, cursor) : listRecorded(store, user, limit, cursor);
  }

  /**
   * Reads one of the user's sessions (rate limited, free).
   *
   * <p>Another user's session is reported as not found: the service answers {@code 403} for it,
   * and passing that on would tell the end user that the session exists.
   *
   * @param user the authenticated end user
   * @param sessionId the session
   * @return the session with its messages
   * @throws NotFoundException if the session does not exist or is not the user's
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the user context is invalid
   * @throws RateLimitExceededException if the user is over the rate limit
   * @throws LlmGatewayException for failures of the call
   */
  public Session getSession(UserContext user, String sessionId) {
    return getSession(user, sessionId, Caller.unknown());
  }

  /**
   * Reads one of the user's sessions as {@link #getSession(UserContext, String)} does, rate
   * limited by the keys of the user and of {@code caller}.
   *
   * @param user the authenticated end user
   * @param sessionId the session
   * @param caller what the host knows of the HTTP request: the client's address, extra keys
   * @return the session with its messages
   * @throws NotFoundException if the session does not exist or is not the user's
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the user context is invalid
   * @throws RateLimitExceededException if a rate limit refuses the call
   * @throws LlmGatewayException for failures of the call
   * @throws IllegalStateException if the rate limit keys need what {@code caller} lacks
   */
  public Session getSession(UserContext user, String sessionId, Caller caller) {
    admitSessionCall(user, caller, ChatPolicy.Action.GET_SESSION, sessionId);
    checkRecordedOwner(user, sessionId, Operation.GET_SESSION);
    try {
      return sessions.get(sessionId, user);
    } catch (PermissionDeniedException e) {
      throw notTheUsers(e);
    } catch (NotFoundException e) {
      forgetGoneSession(user, sessionId);
      throw e;
    }
  }

  /**
   * Deletes one of the user's sessions (rate limited, free).
   *
   * <p>Another user's session is reported as not found, as by {@link #getSession}.
   *
   * @param user the authenticated end user
   * @param sessionId the session
   * @throws NotFoundException if the session does not exist or is not the user's
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the user context is invalid
   * @throws RateLimitExceededException if the user is over the rate limit
   * @throws LlmGatewayException for failures of the call
   */
  public void deleteSession(UserContext user, String sessionId) {
    deleteSession(user, sessionId, Caller.unknown());
  }

  /**
   * Deletes one of the user's sessions as {@link #deleteSession(UserContext, String)} does, rate
   * limited by the keys of the user and of {@code caller}.
   *
   * @param user the authenticated end user
   * @param sessionId the session
   * @param caller what the host knows of the HTTP request: the client's address, extra keys
   * @throws NotFoundException if the session does not exist or is not the user's
   * @throws ForbiddenException if the {@link Builder#policy policy} refuses the user this request
   * @throws dev.llmgateway.ValidationException if the user context is invalid
   * @throws RateLimitExceededException if a rate limit refuses the call
   * @throws LlmGatewayException for failures of the call
   * @throws IllegalStateException if the rate limit keys need what {@code caller} lacks
   */
  public void deleteSession(UserContext user, String sessionId, Caller caller) {
    admitSessionCall(user, caller, ChatPolicy.Action.DELETE_SESSION, sessionId);
    boolean recorded = checkRecordedOwner(user, sessionId, Operation.DELETE_SESSION);
    try {
      sessions.delete(sessionId, user);
    } catch (PermissionDeniedException e) {
      throw notTheUsers(e);
    } catch (NotFoundException e) {
      if (!recorded) {
        throw e;
      }
      // The service's session is gone already (an earlier delete failed before the host's record was): repair.
      LOG.info("Session {} was gone from the service; deleting the host's record", sessionId);
    }
    forgetGoneSession(user, sessionId);
  }

  /**
   * Removes the host's records of idle sessions the service no longer has (it expired or deleted
   * them): each record whose last activity is older than {@code idleFor} is checked with the
   * service on its owner's behalf ({@link Sessions#get}), and deleted when the service answers
   * {@code 404}. Not rate limited, not asked of the {@link Builder#policy policy}: the host
   * schedules it (for example hourly on its own executor); it blocks on one service call per
   * record checked. Without a {@link Builder#sessionStore session store} it does nothing.
   *
   * @param idleFor how long a record must have been idle to be checked, positive
   * @param maxChecked at most this many records are checked, at least 1
   * @return the records deleted
   * @throws IllegalArgumentException if {@code idleFor} is not positive or {@code maxChecked} below 1
   * @throws StateStoreException if the session store fails
   */
  public int removeSessionsGoneFromService(Duration idleFor, int maxChecked) {
    Builder.positive(idleFor, "idleFor");
    if (maxChecked < 1) {
      throw new IllegalArgumentException("maxChecked must be >= 1, was " + maxChecked);
    }
    SessionStore store = sessionStore;
    if (store == null) {
      return 0;
    }
    int removed = 0;
    for (SessionRecord r : store.idleSince(clientConfig.clock().instant().minus(idleFor), maxChecked)) {
      UserContext owner = UserContext.builder().userId(r.userId()).companyId(r.companyId()).role(r.ownerRole())
          .build();
      try {
        sessions.get(r.sessionId(), owner);
      } catch (NotFoundException gone) {
        if (store.delete(r.sessionId())) {
          removed++;
        }
        recentSessions.remove(recentKey(owner));
      } catch (LlmGatewayException e) {
        LOG.warn("Session cleanup could not check session {} with the service: {}; kept", r.sessionId(),
            e.getClass().getSimpleName());
      }
    }
    return removed;
  }

  /**
   * With a session store, refuses a session that has no record or is another user's as not found,
   * before the service is asked (audited as a failure with status 404).
   *
   * @return whether the session store checked it (false without a store)
   */
  private boolean checkRecordedOwner(UserContext user, String sessionId, Operation operation) {
    SessionStore store = sessionStore;
    if (store == null) {
      return false;
    }
    Objects.requireNonNull(sessionId, "sessionId");
    long start = clientConfig.ticker().read();
    Optional<SessionRecord> record = store.find(sessionId);
    if (record.isEmpty() || !record.get().isOwnedBy(user.userId(), user.companyId())) {
      NotFoundException e = new NotFoundException("Session not found for this user (the host has no record of it "
          + "for this user; the service was not asked)", 404, null, List.of(), "", null, Map.of(), null, 0, false);
      refused(AuditEvent.Kind.CALL, operation, user, null, Ids.randomUuid(), start, e);
      throw e;
    }
    return true;
  }

  /** Deletes the host's record of a session the service no longer has, and the user's cached list. */
  private void forgetGoneSession(UserContext user, String sessionId) {
    SessionStore store = sessionStore;
    if (store != null) {
      recentSessions.remove(recentKey(user));
      store.delete(sessionId);
      recentSessions.remove(recentKey(user));
    }
  }

  /**
   * Records an exchange in the session store (when there is one) and forgets the user's cached
   * list. A store failure is logged, not thrown: the user got the answer.
   */
  private void recordExchange(UserContext user, ChatRequest request, String sessionId, Usage usage,
      CallCredits call) {
    SessionStore store = sessionStore;
    if (store == null) {
      return;
    }
    call.sessionId = sessionId;
    try {
      store.recordExchange(sessionId, user, Text.preview(request.query(), SessionRecord.MAX_TITLE_CHARS),
          clientConfig.clock().instant(), 2, usage.totalTokens());
    } catch (RuntimeException e) {
      LOG.warn("SessionStore.recordExchange failed for request {}: {}", call.reservation.requestId(), e.toString());
    }
    recentSessions.remove(recentKey(user));
  }

  /** A page of the user's recent sessions from the host's records, cached per user. */
  private SessionPage listRecorded(SessionStore store, UserContext user, int limit, @Nullable String cursor) {
    int from = 0;
    List<ValidationException.Violation> violations = new ArrayList<>(0);
    if (limit < 1 || limit > MAX_LISTED_SESSIONS) {
      violations.add(new ValidationException.Violation("limit", "must be 1 to " + MAX_LISTED_SESSIONS));
    }
    if (cursor != null) {
      try {
        from = Integer.parseInt(cursor);
      } catch (NumberFormatException e) {
        from = -1;
      }
      if (from < 0) {
        violations.add(new ValidationException.Violation("cursor", "is not a cursor this gateway gave"));
      }
    }
    RequestValidator.throwIfAny(violations, null);
    String key = recentKey(user);
    long now = clientConfig.ticker().read();
    RecentSessions cached = recentSessions.get(key);
    if (cached == null || now - cached.readAt >= DEFAULT_RECENT_SESSIONS_TTL.toNanos()) {
      if (recentSessions.size() >= MAX_CACHED_USERS) {
        recentSessions.clear(); // bounded: a host with more active users re-reads the store
      }
      cached = new RecentSessions(store.recent(user.userId(), user.companyId(), MAX_RECENT_SESSIONS), now);
      recentSessions.put(key, cached);
    }
    List<SessionRecord> all = cached.records;
    int to = Math.min(all.size(), from + limit);
    List<SessionSummary> page = new ArrayList<>(Math.max(0, to - from));
    for (int i = from; i < to; i++) {
      SessionRecord r = all.get(i);
      page.add(new SessionSummary(r.sessionId(), r.title(), r.createdAt(), r.lastActivityAt(), r.messageCount(),
          Map.of("tokens", r.tokens(), "credits", r.credits())));
    }
    return new SessionPage(page, to < all.size() ? Integer.toString(to) : null, Ids.randomUuid());
  }

  private static String recentKey(UserContext user) {
    return user.userId() + '\u0000' + user.companyId();
  }

  /** One user's recent sessions and when ({@link Ticker} nanos) they were read. */
  private record RecentSessions(List<SessionRecord> records, long readAt) {}

  /** How long a user's list of recent sessions is served from the cache unless the user chats or deletes. */
  public static final Duration DEFAULT_RECENT_SESSIONS_TTL = Duration.ofMinutes(5);
  /** Most sessions a page of {@link #listSessions} holds. */
  private static final int MAX_LISTED_SESSIONS = 100;
  /** Most of a user's sessions the host's list reaches (most recent first). */
  private static final int MAX_RECENT_SESSIONS = 1000;
  /** Most users whose lists are cached at once. */
  private static final int MAX_CACHED_USERS = 10_000;

  /**
   * The service answers {@code 403} both for another user's session and for host credentials that
   * lack the session scope (CONTRACT section 1). The end user learns only "not found"; the host's
   * operators see the refusal in the log, where a missing scope shows on every session call.
   */
  private static NotFoundException notTheUsers(PermissionDeniedException e) {
    LOG.warn("The service refused a session call with 403 (request {}): another user's session, or the host's "
        + "credentials lack the session scope; answered as not found", e.requestId());
    return new NotFoundException("Session not found for this user (the service answered 403)", e.status(),
        e.detail(), e.fieldErrors(), e.body(), null, e.headers(), e.requestId(), e.attempts(), e.isRetryable());
  }

  /**
   * The policy, validation, the rate limit, then the credit reservation. A refusal (or any failure)
   * is audited here, once, and told to the client's shared listener ({@link
   * GatewayListener#callRefused}): nothing was reserved, nothing will be sent, the client never
   * sees the request.
   */
  private CallCredits admitAndReserve(
      UserContext user, ChatRequest request, Caller caller, ChatPolicy.Action action, String requestId, long start,
      AuditEvent.Kind kind) {
    Operation operation = action.operation();
    try {
      authorize(user, action, Objects.requireNonNull(request, "request").sessionId(), requestId);
      client.validator().validate(request, user);
      limit(user, caller, operation, requestId);
      return new CallCredits(ledger.reserve(user, operation, estimate.applyAsLong(request), requestId), auditSink);
    } catch (RuntimeException e) {
      refused(kind, operation, user, request, requestId, start, e);
      throw e;
    }
  }

  /**
   * A client call that threw before the client made a call of it (the client is closed, or its
   * own check refused it) is audited here; one the client made was audited by the client, to
   * {@code reservation} ({@link CallCredits#record}), and is not audited again.
   */
  private void notAuditedByTheClient(
      CallCredits reservation, Operation operation, UserContext user, ChatRequest request, String requestId,
      long start, Throwable e) {
    if (!reservation.audited) {
      refused(AuditEvent.Kind.CALL, operation, user, request, requestId, start, e);
    }
  }

  /** Audits a request the gateway refused (or failed) before the service saw it, and tells the shared listener. */
  private void refused(
      AuditEvent.Kind kind, Operation operation, UserContext user, @Nullable ChatRequest request, String requestId,
      long start, Throwable e) {
    AuditEvent.Outcome outcome = e instanceof ValidationException ? AuditEvent.Outcome.REJECTED
        : e instanceof RateLimitExceededException ? AuditEvent.Outcome.RATE_LIMITED
        : e instanceof InsufficientCreditsException ? AuditEvent.Outcome.INSUFFICIENT_CREDITS
        : e instanceof ForbiddenException ? AuditEvent.Outcome.FORBIDDEN
        : AuditEvent.Outcome.FAILURE;
    audit(kind, operation, user, request, requestId, start, outcome, errors.toResponse(e).status(), null, e);
    if (e instanceof LlmGatewayException) {
      LlmGatewayException refusal = (LlmGatewayException) e;
      try {
        clientConfig.listener().callRefused(operation, refusal);
      } catch (RuntimeException listenerFailed) {
        LOG.warn("GatewayListener.callRefused threw; ignored", listenerFailed);
      }
    }
  }

  /**
   * Records one event of a request the gateway answers itself. The user's ids are bounded (a
   * refused request may carry invalid ones), the query and metadata as the client bounds them.
   */
  private void audit(
      AuditEvent.Kind kind, Operation operation, @Nullable UserContext user, @Nullable ChatRequest request,
      String requestId, long start, AuditEvent.Outcome outcome, int status, @Nullable Usage usage,
      @Nullable Throwable e) {
    record(new AuditEvent(clientConfig.clock().instant(), requestId, operation,
        user == null ? "" : Text.preview(user.userId(), MAX_AUDITED_ID_CHARS),
        user == null ? "" : Text.preview(user.companyId(), MAX_AUDITED_ID_CHARS),
        request == null ? "" : Text.preview(request.query()), outcome, status, since(start), 0, usage,
        e == null ? null : e.getClass().getSimpleName(),
        request == null ? Map.of() : AuditMetadata.of(request.metadata()), kind));
  }

  /** Records an event, with its request id in the SLF4J MDC as the client's events have theirs. */
  @SuppressWarnings("try") // the Mdc scope's variable is not used
  private void record(AuditEvent event) {
    try (Mdc ignored = event.requestId().isEmpty() ? null : Mdc.put(clientConfig.mdcKey(), event.requestId())) {
      auditSink.record(event);
    } catch (RuntimeException e) {
      LOG.warn("AuditSink threw; ignored", e);
    }
  }

  private Duration since(long start) {
    return Duration.ofNanos(clientConfig.ticker().read() - start);
  }

  /**
   * Longest user or company id of an event the gateway records itself: a valid id is never cut,
   * an invalid one (a refused request's) is bounded.
   */
  private static final int MAX_AUDITED_ID_CHARS = RequestValidator.MAX_HEADER_VALUE_LENGTH;

  /**
   * Checks the policy, the user and the rate limit of a session call, auditing a refusal as {@link
   * #admitAndReserve} does; the call itself is audited by the client.
   */
  private void admitSessionCall(UserContext user, Caller caller, ChatPolicy.Action action, @Nullable String sessionId) {
    long start = clientConfig.ticker().read();
    Operation operation = action.operation();
    try {
      authorize(user, action, sessionId, null);
      checkUser(user);
      limit(user, caller, operation, null);
    } catch (RuntimeException e) {
      refused(AuditEvent.Kind.CALL, operation, user, null, Ids.randomUuid(), start, e);
      throw e;
    }
  }

  /** Asks the {@link Builder#policy policy}; a refusal is a {@link ForbiddenException}, a policy that throws a failure. */
  private void authorize(UserContext user, ChatPolicy.Action action, @Nullable String sessionId,
      @Nullable String requestId) {
    Objects.requireNonNull(user, "user");
    if (!policy.allows(user, action, sessionId)) {
      throw new ForbiddenException(action, requestId);
    }
  }

  /** Refuses a bad user before its ids become rate limiter keys (chat calls check it in {@link #admitAndReserve}). */
  private void checkUser(UserContext user) {
    List<ValidationException.Violation> violations = new ArrayList<>(0);
    client.validator().checkUser(user, violations);
    RequestValidator.throwIfAny(violations, null);
  }

  /** Takes a permit from every key {@link #rateLimitKeys} gives the call, or throws. */
  private void limit(UserContext user, Caller caller, Operation operation, @Nullable String requestId) {
    Objects.requireNonNull(caller, "caller");
    List<String> keys = rateLimitKeys.keys(user, caller, operation);
    if (!keys.isEmpty()) {
      rateLimiter.acquireAll(keys, operation, requestId);
    }
  }

  /** Prices the usage and charges exactly that ({@link CreditLedger#commit(Reservation, long)}). */
  private Settlement commit(CallCredits call, Usage usage) {
    long credits = pricing.credits(call.reservation.operation(), usage);
    return reported(call, ledger.commit(call.reservation, credits), credits);
  }

  private Settlement release(CallCredits call, String reason) {
    return reported(call, ledger.release(call.reservation, reason), 0);
  }

  /** Commits as {@link #commit} does; a store failure is logged and retried, not thrown. */
  private void commitOrRetry(CallCredits call, Usage usage) {
    long credits = pricing.credits(call.reservation.operation(), usage);
    settleOrRetry(call, () -> ledger.commit(call.reservation, credits), credits);
  }

  /** Releases as {@link #release} does; a store failure is logged and retried, not thrown. */
  private void releaseOrRetry(CallCredits call, String reason) {
    settleOrRetry(call, () -> ledger.release(call.reservation, reason), 0);
  }

  private void settleOrRetry(CallCredits call, Supplier<Settlement> attempt, long credits) {
    Settlement settlement;
    try {
      settlement = attempt.get();
    } catch (StateStoreException e) {
      // The message of a store failure names the operation and SQLState or Redis error, no secret.
      Reservation reservation = call.reservation;
      LOG.error("Settlement of reservation {} (request {}) could not be written: {}; retrying off the request thread",
          reservation.id(), reservation.requestId(), e.getMessage());
      retries.retry(reservation, attempt, s -> reported(call, s, credits), call::abandoned, e);
      return;
    }
    reported(call, settlement, credits);
  }

  /**
   * Tells the settlement listener, then the call's listener; {@code credits} counts only when
   * {@code settlement} is a commit that applied.
   */
  private Settlement reported(CallCredits call, Settlement settlement, long credits) {
    long creditsCharged = settlement == Settlement.COMMITTED ? credits : 0;
    try {
      settled.onSettlement(new SettlementEvent(call.reservation, settlement, creditsCharged));
    } catch (RuntimeException e) {
      LOG.warn("Settlement listener threw; ignored", e);
    }
    String sessionId = call.sessionId;
    SessionStore store = sessionStore;
    if (store != null && sessionId != null && creditsCharged > 0) {
      try {
        store.addCredits(sessionId, creditsCharged);
      } catch (RuntimeException e) {
        LOG.warn("SessionStore.addCredits failed for request {}; the session's record misses {} credits: {}",
            call.reservation.requestId(), creditsCharged, e.toString());
      }
    }
    call.settled(settlement, creditsCharged);
    return settlement;
  }

  private void settle(CallCredits reservation, ChatRequest request, RelayResult result) {
    StreamCompletion completion = result.completion();
    Delivery delivery;
    if (result.outcome() == RelayResult.Outcome.COMPLETED) {
      delivery = Delivery.completed(request.query(), Objects.requireNonNull(completion));
    } else if (completion != null) {
      // The browser left while being sent the final event: the service finished and reported usage.
      delivery = new Delivery(Delivery.Outcome.CANCELLED, request.query(), result.text(), completion.usage());
    } else {
      delivery = Delivery.ended(request.query(), result.text(), Objects.requireNonNull(result.failure()));
    }
    Usage usage = settlement.usageFor(delivery);
    String sessionId = completion != null && completion.sessionId() != null ? completion.sessionId()
        : request.sessionId();
    if (sessionId != null && usage.totalTokens() > 0) {
      recordExchange(reservation.reservation.user(), request, sessionId, usage, reservation);
    }
    if (usage.totalTokens() == 0) {
      releaseOrRetry(reservation, "stream " + result.outcome().name().toLowerCase(java.util.Locale.ROOT)
          + " with nothing delivered");
    } else {
      commitOrRetry(reservation, usage);
    }
  }

  /**
   * One reservation and the listener of the client call it pays for: the client hands that
   * listener over as it creates the call ({@link HostAccess.ListenerHook}), which is told of the
   * reservation then and of its settlement later. A reservation of a direct stream, or one the
   * client never started a call for, has no listener. What the listener throws is logged and
   * ignored.
   */
  private static final class CallCredits implements HostAccess.ListenerHook, AuditSink {
    final Reservation reservation;
    private final AuditSink auditSink;
    /** Set when the client recorded the call's audit event (through this object). */
    volatile boolean audited;
    // Set on the thread starting the call; read there or on the retry thread (scheduling orders it).
    private volatile @Nullable CallInfo call;
    private volatile @Nullable GatewayListener listener;
    /** The session the call's credits are added to, once known ({@link SessionStore#addCredits}). */
    volatile @Nullable String sessionId;
    /** The credits the settlement committed, once it applied (0 until then, and for a release). */
    volatile long creditsCharged;

    CallCredits(Reservation reservation, AuditSink auditSink) {
      this.reservation = reservation;
      this.auditSink = auditSink;
    }

    /** The client's one audit event of the call: to the gateway's sink. */
    @Override
    public void record(AuditEvent event) {
      audited = true;
      auditSink.record(event);
    }

    @Override
    public void created(CallInfo call, GatewayListener listener) {
      this.call = call;
      this.listener = listener;
      try {
        listener.creditsReserved(call, reservation.credits());
      } catch (RuntimeException e) {
        LOG.warn("GatewayListener.creditsReserved threw; ignored", e);
      }
    }

    void settled(Settlement settlement, long creditsCharged) {
      this.creditsCharged = creditsCharged;
      tell(switch (settlement) {
        case COMMITTED -> CreditSettlement.COMMITTED;
        case RELEASED -> CreditSettlement.RELEASED;
        case ALREADY_COMMITTED -> CreditSettlement.ALREADY_COMMITTED;
        case ALREADY_RELEASED -> CreditSettlement.ALREADY_RELEASED;
        case UNKNOWN -> CreditSettlement.UNKNOWN;
      }, creditsCharged);
    }

    void abandoned() {
      tell(CreditSettlement.ABANDONED, 0);
    }

    private void tell(CreditSettlement settlement, long creditsCharged) {
      GatewayListener l = listener;
      CallInfo c = call;
      if (l == null || c == null) {
        return;
      }
      try {
        l.creditsSettled(c, settlement, creditsCharged);
      } catch (RuntimeException e) {
        LOG.warn("GatewayListener.creditsSettled threw; ignored", e);
      }
    }
  }

  /**
   * Starts the host's streaming HTTP response, when the stream's first event has arrived. When it
   * is never called, {@link #stream} threw: answer with the error status instead.
   */
  @FunctionalInterface
  public interface SseResponse extends SseRelay.ResponseStarter {
    /**
     * Sends status 200 with {@code headers} and returns the response body. Called at most once,
     * on the thread that called {@link #stream}.
     *
     * @param headers the headers to set (see {@link SseRelay#RESPONSE_HEADERS})
     * @return the body the events are written to
     * @throws IOException if the browser is already gone
     */
    @Override
    OutputStream start(Map<String, String> headers) throws IOException;
  }

  /** What {@link #handleCompletionWebhook} did. Every outcome is answered with 2xx. */
  public enum WebhookOutcome {
    /** The reservation was committed with the reported usage. */
    COMMITTED,
    /** The reservation was released (failed or cancelled without usage). */
    RELEASED,
    /** A redelivery of a webhook already handled: nothing done. */
    DUPLICATE,
    /** The reservation was already settled (e.g. released by the reaper): nothing done. */
    ALREADY_SETTLED,
    /** No reservation has this request id: nothing done. */
    UNKNOWN_REQUEST
  }

  /** Retries of a settlement the ledger could not write, unless {@link Builder#settlementRetry} says otherwise. */
  public static final int DEFAULT_SETTLEMENT_ATTEMPTS = 5;

  /** Wait before the first retry of a failed settlement (then doubled): 1, 2, 4, 8, 16 seconds. */
  public static final Duration DEFAULT_SETTLEMENT_BACKOFF = Duration.ofSeconds(1);

  /** Builds a {@link ChatGateway}. Not thread-safe. */
  public static final class Builder {
    private @Nullable LlmGatewayClient client;
    private @Nullable CreditLedger ledger;
    private ChatPolicy policy = ChatPolicy.allowAll();
    private @Nullable SessionStore sessionStore;
    private RateLimiter rateLimiter = InMemoryRateLimiter.create(RateLimits.ofDefaults());
    private RateLimitKeys rateLimitKeys = RateLimitKeys.perUser();
    private CreditPricing pricing = CreditPricing.perThousandTokens(1, 2);
    private SettlementPolicy settlement = SettlementPolicy.ofDefaults();
    private ToLongFunction<ChatRequest> estimate = request -> 10;
    private ErrorMapper errors = ErrorMapper.ofDefaults();
    private @Nullable SseRelay relay;
    private final SseRelay.Builder relaySettings = SseRelay.builder();
    private boolean relaySettingsSet;
    private @Nullable StreamTokenIssuer streamTokens;
    private @Nullable ChatEventPublisher eventPublisher;
    private @Nullable WebhookVerifier webhooks;
    private SettlementListener settled = event -> {};
    private @Nullable Duration streamTotalTimeout;
    private @Nullable Duration streamFirstEventTimeout;
    private boolean strictStreams;
    private int settlementAttempts = DEFAULT_SETTLEMENT_ATTEMPTS;
    private Duration settlementBackoff = DEFAULT_SETTLEMENT_BACKOFF;
    private @Nullable ScheduledExecutorService settlementScheduler;
    private @Nullable AuditSink auditSink;

    private Builder() {}

    /**
     * Sets where the gateway's audit events go: one {@link AuditEvent} per request it handles.
     * The chats and streams it sends are audited by the client's call, to this sink; requests it
     * refuses before calling the service ({@link AuditEvent.Outcome#FORBIDDEN}, {@link AuditEvent.Outcome#REJECTED}, {@link
     * AuditEvent.Outcome#RATE_LIMITED}, {@link AuditEvent.Outcome#INSUFFICIENT_CREDITS}, {@link
     * AuditEvent.Outcome#FAILURE} when a store failed), direct streams' starts ({@link
     * AuditEvent.Kind#DIRECT_STREAM_INIT}) and completion webhooks ({@link
     * AuditEvent.Kind#COMPLETION_WEBHOOK}) by the gateway. Session calls that reach the client are
     * audited by the client's call to this sink too. Default: the client's {@link
     * LlmGatewayClient.Builder#auditSink sink}.
     *
     * @param auditSink the sink; called on the thread handling the request, must be thread-safe
     * @return this builder
     */
    public Builder auditSink(AuditSink auditSink) {
      this.auditSink = Objects.requireNonNull(auditSink, "auditSink");
      return this;
    }

    /**
     * Sets how a settlement the ledger could not write ({@link StateStoreException}) after a chat
     * answered or a stream ended is repeated: up to {@code attempts} more times, the first after
     * {@code backoff}, each next after twice the previous wait (at most a minute). Keep the total
     * well under the ledger's lease, after which the reaper releases the reservation. Default
     * {@link #DEFAULT_SETTLEMENT_ATTEMPTS} retries from {@link #DEFAULT_SETTLEMENT_BACKOFF}.
     *
     * @param attempts retries after the first failure, 0 (give up at once) to 100
     * @param backoff the first wait, zero to one minute
     * @return this builder
     * @throws IllegalArgumentException if {@code attempts} or {@code backoff} is out of range
     */
    public Builder settlementRetry(int attempts, Duration backoff) {
      if (attempts < 0 || attempts > 100) {
        throw new IllegalArgumentException("attempts must be 0 to 100: " + attempts);
      }
      Objects.requireNonNull(backoff, "backoff");
      if (backoff.isNegative() || backoff.compareTo(Duration.ofMinutes(1)) > 0) {
        throw new IllegalArgumentException("backoff must be zero to one minute: " + backoff);
      }
      this.settlementAttempts = attempts;
      this.settlementBackoff = backoff;
      return this;
    }

    /**
     * Sets the scheduler that runs the {@linkplain #settlementRetry retries} of failed settlements.
     * Default: one daemon thread the gateway starts at the first failure and stops in {@link
     * ChatGateway#close()}. A scheduler given here is the host's: the gateway never shuts it down.
     *
     * @param scheduler runs the retries; its tasks call the ledger
     * @return this builder
     */
    public Builder settlementScheduler(ScheduledExecutorService scheduler) {
      this.settlementScheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Sets whether a {@linkplain #stream stream} whose {@code data} is not JSON fails (with {@link
     * dev.llmgateway.InvalidResponseException}, the browser sent an {@code error} event and the
     * reservation settled as for any stream that ends early) instead of skipping it. Default false:
     * skipped and counted, as {@link StreamOptions.Builder#strict} says. Applies to {@linkplain
     * ChatGateway#chatInBackground background chats} too (their last event is then {@link
     * ChatEvent.Failed}).
     *
     * @param strict the setting
     * @return this builder
     */
    public Builder strictStreams(boolean strict) {
      this.strictStreams = strict;
      return this;
    }

    /**
     * Sets the longest a whole {@linkplain #stream stream} may take, however steadily it drips:
     * past it the stream ends with {@link dev.llmgateway.CallTimeoutException} ({@code TOTAL}) and its
     * reservation is settled. Without it a stream that keeps sending a byte now and then holds
     * the host's thread and the user's credits until it ends. Also bounds a {@linkplain
     * ChatGateway#chatInBackground background chat}, whose stream holds a thread of the client's
     * callback executor. Default: no limit (the client's idle and first-event limits still apply).
     *
     * @param timeout positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder streamTotalTimeout(Duration timeout) {
      this.streamTotalTimeout = positive(timeout, "streamTotalTimeout");
      return this;
    }

    /**
     * Sets how long a {@linkplain #stream stream}'s attempt may wait for its first event. The
     * browser's response starts only with that event, so this bounds how long the browser (and
     * any proxy before it) waits for the response's headers, per attempt; past it the attempt
     * fails with {@link dev.llmgateway.CallTimeoutException} ({@code FIRST_EVENT}) and is retried as
     * the client's retry policy allows. Also applies to {@linkplain ChatGateway#chatInBackground
     * background chats}. Default: the client's {@code timeout} (30 s unless set), which also
     * bounds synchronous calls.
     *
     * @param timeout positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder streamFirstEventTimeout(Duration timeout) {
      this.streamFirstEventTimeout = positive(timeout, "streamFirstEventTimeout");
      return this;
    }

    private static Duration positive(Duration timeout, String name) {
      Objects.requireNonNull(timeout, name);
      if (timeout.isZero() || timeout.isNegative()) {
        throw new IllegalArgumentException(name + " must be positive: " + timeout);
      }
      return timeout;
    }

    /**
     * Sets a listener told of every commit and release the gateway makes, with the credits each
     * charged, so a host can audit billing without wrapping its ledger. See {@link
     * SettlementListener} for its threads. Replaces any listener set before.
     *
     * @param listener receives each settlement
     * @return this builder
     */
    public Builder settlementListener(SettlementListener listener) {
      this.settled = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Sets the longest silence on a relayed stream: a {@code : ping} comment goes to the browser
     * whenever nothing was written for this long, so proxies keep the connection open. Default
     * {@link SseRelay#DEFAULT_HEARTBEAT} (15 s). A setting of the default relay: not allowed
     * together with {@link #relay(SseRelay)}.
     *
     * @param heartbeat positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder heartbeat(Duration heartbeat) {
      relaySettings.heartbeat(heartbeat);
      relaySettingsSet = true;
      return this;
    }

    /**
     * Sets the reconnection delay a relayed stream announces to the browser ({@code retry:}).
     * Default {@link SseRelay#DEFAULT_RECONNECT_DELAY} (300 ms). A setting of the default relay:
     * not allowed together with {@link #relay(SseRelay)}.
     *
     * @param reconnectDelay zero or positive
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder reconnectDelay(Duration reconnectDelay) {
      relaySettings.reconnectDelay(reconnectDelay);
      relaySettingsSet = true;
      return this;
    }

    /**
     * Sets the client of the service. Required. The gateway does not close it.
     *
     * @param client the client
     * @return this builder
     */
    public Builder client(LlmGatewayClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * Sets the credit ledger. Required.
     *
     * @param ledger the ledger
     * @return this builder
     */
    public Builder ledger(CreditLedger ledger) {
      this.ledger = Objects.requireNonNull(ledger, "ledger");
      return this;
    }

    /**
     * Sets who may do what: the gateway asks {@code policy} before anything else on every request a
     * user makes ({@link ChatGateway#chat chat}, {@link ChatGateway#stream stream}, {@link
     * ChatGateway#initDirectStream initDirectStream}, {@link ChatGateway#chatInBackground chatInBackground},
     * {@link ChatGateway#listSessions listSessions},
     * {@link ChatGateway#getSession getSession}, {@link ChatGateway#deleteSession deleteSession}, each
     * overload), before validation, the rate limit and the credit reservation. A refusal throws
     * {@link ForbiddenException} ({@code 403}) with nothing validated, rate limited, reserved or
     * sent, audited as {@link AuditEvent.Outcome#FORBIDDEN}. The completion webhook, which comes
     * from the service, is not asked about. Default {@link ChatPolicy#allowAll()}.
     *
     * @param policy the policy; called on request threads, must be thread-safe and non-blocking
     * @return this builder
     */
    public Builder policy(ChatPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Keeps the host's own records of its users' conversations ({@link SessionStore}): the gateway
     * records each chat and each stream that delivered something (title from the first query,
     * message count, tokens, then the credits committed), lists a user's sessions from the store
     * (cached per user for {@link ChatGateway#DEFAULT_RECENT_SESSIONS_TTL}, forgotten when the user
     * chats or deletes; the page's cursor is an offset in that list), and answers another user's
     * session, or one it has no record of, as not found without asking the service. Deleting a
     * session deletes the service's session first, then the host's record: when the second step
     * fails the record stays, and the next read or delete of it (the service answers 404) deletes
     * it. {@link ChatGateway#removeSessionsGoneFromService} removes records of sessions the service
     * dropped. Sessions started before the store was set have no record and are not reachable
     * through the gateway. Default: none (every session call goes to the service).
     *
     * @param sessionStore the store; called on request threads, must be thread-safe
     * @return this builder
     */
    public Builder sessionStore(SessionStore sessionStore) {
      this.sessionStore = Objects.requireNonNull(sessionStore, "sessionStore");
      return this;
    }

    /**
     * Sets the rate limiter. Default: in memory, 100 calls and 10 stream starts per minute per user.
     *
     * @param rateLimiter the limiter
     * @return this builder
     */
    public Builder rateLimiter(RateLimiter rateLimiter) {
      this.rateLimiter = Objects.requireNonNull(rateLimiter, "rateLimiter");
      return this;
    }

    /**
     * Sets which rate limiter keys a call is counted against; the call passes only if every key
     * allows it, and a refusal takes nothing from any key (when the limiter decides all keys at
     * once: {@link RateLimiter#tryAcquireAll}). Default {@link RateLimitKeys#perUser()}: {@code
     * user:<userId>}, for every call.
     *
     * <pre>{@code
     * builder.rateLimitKeys(RateLimitKeys.perUser()
     *         .and(RateLimitKeys.perCompany())
     *         .and(RateLimitKeys.perClientAddress().onlyFor(Operation.CHAT_STREAM)))
     *     .rateLimiter(InMemoryRateLimiter.builder()
     *         .limits(RateLimitKeys.COMPANY, RateLimits.builder().calls(RateLimit.perMinute(1000)).build())
     *         .build());
     * }</pre>
     *
     * <p>Keys that use the client's address or an extra key need the {@link Caller} overloads
     * ({@link ChatGateway#chat(UserContext, ChatRequest, Caller)} and the others): a call without them throws
     * {@link IllegalStateException} before anything is reserved.
     *
     * @param keys the setting
     * @return this builder
     */
    public Builder rateLimitKeys(RateLimitKeys keys) {
      this.rateLimitKeys = Objects.requireNonNull(keys, "keys");
      return this;
    }

    /**
     * Sets how usage becomes credits. Default: 1 credit per 1,000 prompt tokens and 2 per 1,000
     * completion tokens, rounded up.
     *
     * @param pricing the pricing
     * @return this builder
     */
    public Builder pricing(CreditPricing pricing) {
      this.pricing = Objects.requireNonNull(pricing, "pricing");
      return this;
    }

    /**
     * Sets what a stream that ended early is charged. Default {@link SettlementPolicy#ofDefaults()}:
     * the usage the service reported, else an estimate from the text delivered.
     *
     * @param settlement the policy
     * @return this builder
     */
    public Builder settlement(SettlementPolicy settlement) {
      this.settlement = Objects.requireNonNull(settlement, "settlement");
      return this;
    }

    /**
     * Sets how many credits to reserve before a call. Default 10.
     *
     * @param estimate the credits to hold for a request
     * @return this builder
     */
    public Builder estimate(ToLongFunction<ChatRequest> estimate) {
      this.estimate = Objects.requireNonNull(estimate, "estimate");
      return this;
    }

    /**
     * Sets how failures become the data of the relay's "error" events. Default {@link
     * ErrorMapper#ofDefaults()}; ignored when a {@link #relay(SseRelay)} is set.
     *
     * @param errors the mapper
     * @return this builder
     */
    public Builder errors(ErrorMapper errors) {
      this.errors = Objects.requireNonNull(errors, "errors");
      return this;
    }

    /**
     * Replaces the relay used by {@link #stream}. Default: {@link SseRelay} with the {@link
     * #errors(ErrorMapper) error mapper}'s envelopes in its {@code error} events and the {@link
     * #heartbeat(Duration)} and {@link #reconnectDelay(Duration)} set here. A relay given here
     * brings its own error events, heartbeat and reconnection delay: to change only those two,
     * use their setters instead.
     *
     * @param relay the relay
     * @return this builder
     */
    public Builder relay(SseRelay relay) {
      this.relay = Objects.requireNonNull(relay, "relay");
      return this;
    }

    /**
     * Enables direct streaming with this stream token issuer.
     *
     * @param streamTokens the issuer
     * @return this builder
     */
    public Builder streamTokens(StreamTokenIssuer streamTokens) {
      this.streamTokens = Objects.requireNonNull(streamTokens, "streamTokens");
      return this;
    }

    /**
     * Enables {@linkplain ChatGateway#chatInBackground background chats}: their events go to {@code
     * publisher}, one chat's in order and never concurrently, on the client's callback executor
     * (see {@link ChatEventPublisher}). Default: none ({@link ChatGateway#chatInBackground} throws
     * {@link IllegalStateException}).
     *
     * @param publisher the host's channel to its users; must be thread-safe and must not block
     * @return this builder
     */
    public Builder eventPublisher(ChatEventPublisher publisher) {
      this.eventPublisher = Objects.requireNonNull(publisher, "publisher");
      return this;
    }

    /**
     * Enables completion webhooks with this verifier.
     *
     * @param webhooks the verifier
     * @return this builder
     */
    public Builder webhooks(WebhookVerifier webhooks) {
      this.webhooks = Objects.requireNonNull(webhooks, "webhooks");
      return this;
    }

    /**
     * Builds the gateway.
     *
     * @return the gateway
     * @throws NullPointerException if the client or the ledger was not set
     * @throws IllegalStateException if {@link #relay(SseRelay)} was set together with {@link
     *     #heartbeat(Duration)} or {@link #reconnectDelay(Duration)}
     */
    public ChatGateway build() {
      return new ChatGateway(this);
    }
  }
}
