package dev.llmgateway.internal;

import dev.llmgateway.AuditSink;
import dev.llmgateway.CallOptions;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.Operation;
import dev.llmgateway.RequestValidator;
import dev.llmgateway.Session;
import dev.llmgateway.SessionPage;
import dev.llmgateway.StreamOptions;
import dev.llmgateway.Usage;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.ValidationException.Violation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/**
 * Builds what a client sends: for each call its URL, request id (the caller's, else the MDC's,
 * else a new one), idempotency key and checked JSON body, as a {@link CallSpec}; and for each
 * attempt the HTTP request with its headers. A call that breaks a rule is audited as rejected and
 * refused with {@link ValidationException} before anything is sent; a call on a closed client is
 * refused with {@link IllegalStateException} before it is checked. One per client; thread-safe.
 */
public final class Requests {
  static final String CHAT_PATH = "api/v1/llm-chat/recruiter/chat";
  static final String CHAT_STREAM_PATH = "api/v1/llm-chat/recruiter/chat/stream";
  static final String SESSIONS_PATH = "api/v1/llm-chat/recruiter/sessions";

  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");

  /** Checks a chat request and writes its JSON body, walking the metadata once. */
  @FunctionalInterface
  public interface BodyEncoder {
    /**
     * Returns the body, or null when a violation was added.
     *
     * @param request the request
     * @param violations where violations are added
     * @return the UTF-8 JSON body, or null
     */
    byte @Nullable [] encode(ChatRequest request, List<Violation> violations);
  }

  private final ClientConfig config;
  private final CallEngine engine;
  private final BodyEncoder encoder;
  private final BooleanSupplier closed;
  private final HttpUrl chatUrl;
  private final HttpUrl chatStreamUrl;
  private final HttpUrl sessionsUrl;

  /**
   * Creates the request builder of one client.
   *
   * @param encoder checks chat requests and writes their bodies ({@code config.validator()}'s)
   * @param closed tells whether the client is closed
   */
  public Requests(ClientConfig config, CallEngine engine, BodyEncoder encoder, BooleanSupplier closed) {
    this.config = config;
    this.engine = engine;
    this.encoder = encoder;
    this.closed = closed;
    this.chatUrl = config.baseUrl().newBuilder().addPathSegments(CHAT_PATH).build();
    this.chatStreamUrl = config.baseUrl().newBuilder().addPathSegments(CHAT_STREAM_PATH).build();
    this.sessionsUrl = config.baseUrl().newBuilder().addPathSegments(SESSIONS_PATH).build();
  }

  /** Throws {@link IllegalStateException} once the client is closed. */
  public void checkOpen() {
    if (closed.getAsBoolean()) {
      throw new IllegalStateException("LlmGatewayClient is closed");
    }
  }

  /** A chat call: {@code POST .../chat} with a JSON answer. */
  public CallSpec<ChatResponse> chat(ChatRequest request, UserContext user, CallOptions options) {
    return chat(request, user, options, config.auditSink());
  }

  /** A chat call audited to {@code auditSink} instead of the client's sink. */
  public CallSpec<ChatResponse> chat(ChatRequest request, UserContext user, CallOptions options, AuditSink auditSink) {
    return chat(request, user, options.requestId(), options.idempotencyKey(), Operation.CHAT, chatUrl,
        (bytes, id) -> Json.chatResponse(Json.parse(bytes), id), ChatResponse::usage, auditSink);
  }

  /** A streamed chat call: {@code POST .../chat/stream}. */
  public CallSpec<Void> chatStream(ChatRequest request, UserContext user, StreamOptions options) {
    return chatStream(request, user, options, config.auditSink());
  }

  /** A streamed chat call audited to {@code auditSink} instead of the client's sink. */
  public CallSpec<Void> chatStream(ChatRequest request, UserContext user, StreamOptions options, AuditSink auditSink) {
    Objects.requireNonNull(options, "options");
    return chat(request, user, options.callOptions().requestId(), options.callOptions().idempotencyKey(),
        Operation.CHAT_STREAM, chatStreamUrl, (bytes, id) -> null, value -> null, auditSink);
  }

  /**
   * A direct stream: {@code GET} of a stream URL that carries its own single-use token, so no auth
   * headers and no retries.
   */
  public CallSpec<Void> directStream(String streamUrl, UserContext user, StreamOptions options) {
    checkOpen();
    Objects.requireNonNull(streamUrl, "streamUrl");
    Objects.requireNonNull(user, "user");
    List<Violation> violations = new ArrayList<>();
    String requestId = requestId(options.callOptions().requestId(), violations);
    config.validator().checkUser(user, violations);
    HttpUrl url = checkStreamUrl(streamUrl, violations);
    CallSpec<Void> spec = new CallSpec<>(Operation.CHAT_STREAM, "GET", url == null ? chatStreamUrl : url, null,
        user, requestId, null, "", (bytes, id) -> null, value -> null, false, true, Map.of(), config.auditSink());
    refuseIfInvalid(spec, violations);
    return spec;
  }

  /** One page of the user's sessions: {@code GET .../sessions?limit=&cursor=}. */
  public CallSpec<SessionPage> listSessions(
      UserContext user, int limit, @Nullable String cursor, CallOptions options, AuditSink auditSink) {
    checkOpen();
    Objects.requireNonNull(user, "user");
    List<Violation> violations = new ArrayList<>();
    String requestId = requestId(options.requestId(), violations);
    config.validator().checkListLimit(limit, violations);
    config.validator().checkCursor(cursor, violations);
    config.validator().checkUser(user, violations);
    HttpUrl.Builder url = sessionsUrl.newBuilder().addQueryParameter("limit", Integer.toString(limit));
    if (cursor != null && !cursor.isEmpty()) {
      url.addQueryParameter("cursor", cursor);
    }
    CallSpec<SessionPage> spec = new CallSpec<>(
        Operation.LIST_SESSIONS, "GET", url.build(), null, user, requestId, null, "",
        (bytes, id) -> Json.sessionPage(Json.parse(bytes), id), page -> null, false, false, Map.of(), auditSink);
    refuseIfInvalid(spec, violations);
    return spec;
  }

  /** One session with its messages: {@code GET .../sessions/{id}}. */
  public CallSpec<Session> getSession(String sessionId, UserContext user, CallOptions options, AuditSink auditSink) {
    return session(Operation.GET_SESSION, "GET", sessionId, user, options,
        (bytes, id) -> Json.session(Json.parse(bytes), id), auditSink);
  }

  /** Deleting a session: {@code DELETE .../sessions/{id}}. */
  public CallSpec<Void> deleteSession(String sessionId, UserContext user, CallOptions options, AuditSink auditSink) {
    return session(Operation.DELETE_SESSION, "DELETE", sessionId, user, options, (bytes, id) -> null, auditSink);
  }

  /**
   * The HTTP request of one attempt, to build: the spec's method, URL and body, {@code
   * User-Agent}, {@code Accept}, {@code X-Request-Id}, {@code Idempotency-Key} when the call has
   * one, and the auth headers unless the URL carries its own credential.
   */
  static Request.Builder http(CallSpec<?> spec, ClientConfig config, String accept) {
    Request.Builder request = new Request.Builder()
        .url(spec.url())
        .header("User-Agent", config.userAgent())
        .header("Accept", accept)
        .header("X-Request-Id", spec.requestId());
    if (spec.idempotencyKey() != null) {
      request.header("Idempotency-Key", spec.idempotencyKey());
    }
    request.method(spec.method(), spec.body() == null ? null : RequestBody.create(spec.body(), JSON));
    if (!spec.direct()) {
      config.auth().authenticate(request, spec.user(), spec.operation());
    }
    return request;
  }

  private <T> CallSpec<T> chat(
      ChatRequest request, UserContext user, @Nullable String callerRequestId, @Nullable String idempotencyKey,
      Operation operation, HttpUrl url, CallSpec.ResponseParser<T> parser, Function<T, @Nullable Usage> usageOf,
      AuditSink auditSink) {
    checkOpen();
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(user, "user");
    List<Violation> violations = new ArrayList<>();
    String requestId = requestId(callerRequestId, violations);
    String key = idempotencyKey;
    if (key != null) {
      config.validator().checkHeaderValue("idempotency_key", key, violations);
    } else {
      key = Ids.randomUuid();
    }
    byte[] body = encoder.encode(request, violations);
    config.validator().checkUser(user, violations);
    CallSpec<T> spec = new CallSpec<>(
        operation, "POST", url, body, user, requestId, key, Text.preview(request.query()),
        parser, usageOf, false, false, AuditMetadata.of(request.metadata()), auditSink);
    refuseIfInvalid(spec, violations);
    return spec;
  }

  private <T> CallSpec<T> session(
      Operation operation, String method, String sessionId, UserContext user, CallOptions options,
      CallSpec.ResponseParser<T> parser, AuditSink auditSink) {
    checkOpen();
    Objects.requireNonNull(user, "user");
    List<Violation> violations = new ArrayList<>();
    String requestId = requestId(options.requestId(), violations);
    config.validator().checkSessionId("session_id", sessionId, violations);
    config.validator().checkUser(user, violations);
    HttpUrl url = sessionsUrl.newBuilder().addPathSegment(sessionId == null ? "" : sessionId).build();
    CallSpec<T> spec = new CallSpec<>(operation, method, url, null, user, requestId, null, "", parser,
        value -> null, operation == Operation.DELETE_SESSION, false, Map.of(), auditSink);
    refuseIfInvalid(spec, violations);
    return spec;
  }

  /** Resolves the request id: the caller's, else the MDC's, else a random UUID. */
  private String requestId(@Nullable String id, List<Violation> violations) {
    if (id != null) {
      config.validator().checkHeaderValue("request_id", id, violations);
      return id;
    }
    String fromMdc = MDC.get(config.mdcKey());
    if (fromMdc != null && !fromMdc.isBlank() && fromMdc.length() <= RequestValidator.MAX_HEADER_VALUE_LENGTH
        && Text.isHeaderSafe(fromMdc)) {
      return fromMdc;
    }
    return Ids.randomUuid();
  }

  /**
   * Checks a direct stream URL and parses it: an http(s) URL of at most {@value
   * RequestValidator#MAX_STREAM_URL_LENGTH} characters, with UTF-8 encodable text, carrying a
   * {@code token} query parameter.
   *
   * @return the URL, or null when a violation was added
   */
  static @Nullable HttpUrl checkStreamUrl(String streamUrl, List<Violation> violations) {
    HttpUrl url = null;
    if (streamUrl.length() > RequestValidator.MAX_STREAM_URL_LENGTH) {
      violations.add(new Violation("stream_url", "must be at most " + RequestValidator.MAX_STREAM_URL_LENGTH
          + " characters"));
    } else if (Text.unpairedSurrogate(streamUrl) >= 0) {
      violations.add(new Violation("stream_url", "must have a UTF-8 encoding (it holds an unpaired UTF-16 surrogate)"));
    } else if ((url = HttpUrl.parse(streamUrl)) == null) {
      violations.add(new Violation("stream_url", "must be an http or https URL"));
    } else if (url.queryParameter("token") == null || url.queryParameter("token").isEmpty()) {
      violations.add(new Violation("stream_url", "must carry the stream token as its token query parameter"));
      url = null;
    }
    return url;
  }

  private void refuseIfInvalid(CallSpec<?> spec, List<Violation> violations) {
    if (!violations.isEmpty()) {
      ValidationException e = new ValidationException(violations, spec.requestId());
      engine.rejected(spec, e);
      throw e;
    }
  }
}
