package dev.llmgateway.auth;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Operation;
import dev.llmgateway.RequestValidator;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.ValidationException.Violation;
import dev.llmgateway.internal.Ids;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * Mints stream tokens for direct browser streaming (CONTRACT section 4): the host validates the
 * request, reserves credits, then hands the browser a single-use token and the URL to open with
 * {@code EventSource}.
 *
 * <p>A stream token is an HS256 JWT with {@code aud} {@value #DEFAULT_AUDIENCE}, the user claims of
 * scheme 2, the single scope {@code llm:chat:send}, a unique {@code jti}, a {@code req} claim holding
 * the validated request ({@code query}, {@code session_id}, {@code user_intent}, {@code
 * profile_id}; nulls left out; the request's metadata is not carried) and a {@code rid} claim
 * holding the request id.
 *
 * <pre>{@code
 * StreamTokenIssuer issuer = StreamTokenIssuer.builder()
 *     .keys(JwtKeySet.of("2026-11", System.getenv("LLM_JWT_SECRET")))
 *     .serviceBaseUrl("https://llm.internal.example")
 *     .build();
 * StreamToken token = issuer.issue(request, user);   // throws ValidationException for bad input
 * return token.toJson();
 * }</pre>
 *
 * <p>Immutable and thread-safe: create one and share it.
 */
public final class StreamTokenIssuer {
  /** Default {@code aud} of stream tokens. */
  public static final String DEFAULT_AUDIENCE = "llm-chat-stream";
  /** Default lifetime. */
  public static final Duration DEFAULT_TTL = Duration.ofSeconds(120);
  /** Shortest lifetime accepted. */
  public static final Duration MIN_TTL = Duration.ofSeconds(30);
  /** Longest lifetime accepted: the service refuses tokens living longer. */
  public static final Duration MAX_TTL = Duration.ofSeconds(300);
  /** The path the browser opens, below the service's base URL. */
  public static final String STREAM_PATH = "api/v1/llm-chat/recruiter/chat/stream";
  /** The scope every stream token carries. */
  public static final String SCOPE = Operation.CHAT_STREAM.scope();

  private final JwtSigning signing;
  private final HttpUrl streamUrl;
  private final RequestValidator validator;
  private final String audience;
  private final Duration ttl;

  private StreamTokenIssuer(Builder builder, JwtKeySet keys, HttpUrl baseUrl) {
    this.audience = builder.audience;
    this.ttl = builder.ttl;
    this.validator = builder.validator;
    this.streamUrl = baseUrl.newBuilder().addPathSegments(STREAM_PATH).build();
    this.signing = new JwtSigning(keys, audience, builder.issuer, ttl, builder.clock);
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
   * Validates the request and user and mints a token with a random request id.
   *
   * @param request the chat request the browser may run
   * @param user the end user
   * @return the token and URL
   * @throws ValidationException listing every problem of the request and user; nothing is minted
   * @throws LlmGatewayException if signing fails
   */
  public StreamToken issue(ChatRequest request, UserContext user) {
    return issue(request, user, Ids.randomUuid());
  }

  /**
   * Validates the request and user and mints a token with the caller's request id (e.g. the id the
   * host reserved credits under).
   *
   * @param request the chat request the browser may run
   * @param user the end user
   * @param requestId the request id for the {@code rid} claim: printable ASCII, at most 256
   *     characters
   * @return the token and URL
   * @throws ValidationException listing every problem of the request, user and request id; nothing
   *     is minted
   * @throws LlmGatewayException if signing fails
   */
  public StreamToken issue(ChatRequest request, UserContext user, String requestId) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(requestId, "requestId");
    List<Violation> requestIdViolations = new ArrayList<>();
    validator.checkHeaderValue("request_id", requestId, requestIdViolations);
    List<Violation> violations = new ArrayList<>();
    validator.checkRequest(request, violations);
    validator.checkUser(user, violations);
    violations.addAll(requestIdViolations);
    RequestValidator.throwIfAny(violations, requestIdViolations.isEmpty() ? requestId : null);

    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("req", requestClaim(request));
    claims.put("rid", requestId);
    ServiceJwt jwt = signing.sign(user, List.of(SCOPE), claims);
    String url = streamUrl.newBuilder().addQueryParameter("token", jwt.token()).build().toString();
    return new StreamToken(jwt.token(), url, jwt.expiresAt(), requestId, jwt.jti());
  }

  static Map<String, String> requestClaim(ChatRequest request) {
    Map<String, String> req = new LinkedHashMap<>();
    req.put("query", request.query());
    putIfNotNull(req, "session_id", request.sessionId());
    putIfNotNull(req, "user_intent", request.userIntent());
    putIfNotNull(req, "profile_id", request.profileId());
    return req;
  }

  private static void putIfNotNull(Map<String, String> map, String key, @Nullable String value) {
    if (value != null) {
      map.put(key, value);
    }
  }

  /**
   * Returns the lifetime of minted tokens.
   *
   * @return {@code exp - iat}
   */
  public Duration ttl() {
    return ttl;
  }

  /**
   * Returns the stream URL without a token.
   *
   * @return e.g. {@code https://llm.example/api/v1/llm-chat/recruiter/chat/stream}
   */
  public String streamUrl() {
    return streamUrl.toString();
  }

  /** Shows the settings, never a secret. */
  @Override
  public String toString() {
    return "StreamTokenIssuer{url=" + streamUrl + ", aud=" + audience + ", ttl=" + ttl.toSeconds() + "s}";
  }

  /** Builds a {@link StreamTokenIssuer}. Not thread-safe. */
  public static final class Builder {
    private @Nullable JwtKeySet keys;
    private @Nullable HttpUrl serviceBaseUrl;
    private String audience = DEFAULT_AUDIENCE;
    private String issuer = ServiceJwtMinter.DEFAULT_ISSUER;
    private Duration ttl = DEFAULT_TTL;
    private Clock clock = Clock.systemUTC();
    private RequestValidator validator = RequestValidator.ofDefaults();
    private @Nullable String serviceTokenToAvoid;
    private Function<String, @Nullable String> environment = System::getenv;

    private Builder() {}

    /**
     * Sets the signing keys; the active key signs. Required.
     *
     * @param keys the key set
     * @return this builder
     */
    public Builder keys(JwtKeySet keys) {
      this.keys = Objects.requireNonNull(keys, "keys");
      return this;
    }

    /**
     * Sets the service's base URL as the browser reaches it. Required.
     *
     * @param serviceBaseUrl an {@code http} or {@code https} URL, optionally with a path prefix;
     *     no query or fragment
     * @return this builder
     * @throws IllegalArgumentException if not such a URL
     */
    public Builder serviceBaseUrl(String serviceBaseUrl) {
      Objects.requireNonNull(serviceBaseUrl, "serviceBaseUrl");
      HttpUrl url = HttpUrl.parse(serviceBaseUrl);
      if (url == null || url.query() != null || url.fragment() != null) {
        throw new IllegalArgumentException(
            "serviceBaseUrl must be an http(s) URL without query or fragment, e.g. https://llm.example");
      }
      this.serviceBaseUrl = url;
      return this;
    }

    /**
     * Sets the {@code aud} claim. Default {@value #DEFAULT_AUDIENCE}.
     *
     * @param audience the audience
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder audience(String audience) {
      this.audience = ServiceJwtMinter.nonBlank(audience, "audience");
      return this;
    }

    /**
     * Sets the {@code iss} claim. Default {@value ServiceJwtMinter#DEFAULT_ISSUER}.
     *
     * @param issuer the issuer
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder issuer(String issuer) {
      this.issuer = ServiceJwtMinter.nonBlank(issuer, "issuer");
      return this;
    }

    /**
     * Sets the lifetime of minted tokens, in whole seconds. Default 120 s.
     *
     * @param ttl from 30 s to 300 s
     * @return this builder
     * @throws IllegalArgumentException if outside that range or not whole seconds
     */
    public Builder ttl(Duration ttl) {
      this.ttl = ServiceJwtMinter.checkTtl(ttl, MIN_TTL, MAX_TTL);
      return this;
    }

    /**
     * Sets the clock that dates tokens. Default {@link Clock#systemUTC()}.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets the rules requests are validated with. Default {@link RequestValidator#ofDefaults()}.
     *
     * @param validator the validator
     * @return this builder
     */
    public Builder validator(RequestValidator validator) {
      this.validator = Objects.requireNonNull(validator, "validator");
      return this;
    }

    /**
     * Names the scheme-1 service token, so that {@link #build()} refuses a key set holding it as a
     * JWT secret. Checked in addition to the environment variable {@value
     * ServiceJwtMinter#SERVICE_TOKEN_ENV}.
     *
     * @param serviceToken the scheme-1 token; compared in constant time, never shown
     * @return this builder
     */
    public Builder serviceTokenToAvoid(String serviceToken) {
      this.serviceTokenToAvoid = Objects.requireNonNull(serviceToken, "serviceToken");
      return this;
    }

    /**
     * Sets how environment variables are read. Default {@link System#getenv(String)}.
     *
     * @param environment returns a variable's value, or null when unset
     * @return this builder
     */
    public Builder environment(Function<String, @Nullable String> environment) {
      this.environment = Objects.requireNonNull(environment, "environment");
      return this;
    }

    /**
     * Builds the issuer.
     *
     * @return the issuer
     * @throws IllegalStateException if keys or the service base URL are missing
     * @throws IllegalArgumentException if a JWT secret equals the scheme-1 service token
     */
    public StreamTokenIssuer build() {
      if (keys == null) {
        throw new IllegalStateException("StreamTokenIssuer needs keys: call keys(JwtKeySet.of(kid, secret))");
      }
      if (serviceBaseUrl == null) {
        throw new IllegalStateException(
            "StreamTokenIssuer needs the service's base URL: call serviceBaseUrl(\"https://...\")");
      }
      ServiceTokenGuard.check("StreamTokenIssuer", keys, serviceTokenToAvoid, environment);
      return new StreamTokenIssuer(this, keys, serviceBaseUrl);
    }
  }
}
