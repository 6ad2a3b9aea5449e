package dev.llmgateway.spring.boot;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;

/**
 * The {@code llm-gateway.*} properties. Unset properties keep the SDK's defaults (the {@code
 * DEFAULT_*} constants named on each); the values are checked by the SDK's builders when the beans
 * are created, so a bad value fails the application's start with a message naming the setting.
 *
 * <p>Secrets ({@code service-token}, {@code auth.jwt-secret}, {@code stream-tokens.secret},
 * {@code webhooks.secret}) are never shown: not by {@link #toString()}, not by the actuator's
 * {@code configprops} endpoint (their getters are {@link JsonIgnore @JsonIgnore}d), and the
 * auto-configuration masks their keys in the {@code env} endpoint even when it shows values.
 *
 * <p>Bound by Spring once at startup; not thread-safe while bound, read-only afterwards.
 */
@ConfigurationProperties(LlmGatewayProperties.PREFIX)
public class LlmGatewayProperties {
  /** The prefix of every property. */
  public static final String PREFIX = "llm-gateway";

  /** The service's base URL. Default: env LLM_SERVICE_BASE_URL, else http://localhost:8000. */
  private @Nullable String baseUrl;
  /** The shared service token of scheme 1 (X-Service-Token). Default: env LLM_SERVICE_TOKEN. Secret. */
  private @Nullable String serviceToken;
  /**
   * Answer every call from the in-process sandbox (needs llm-gateway-sandbox on the classpath).
   * Default: env LLM_GATEWAY_SANDBOX, else false.
   */
  private @Nullable Boolean sandbox;
  /** Time allowed to establish a connection. */
  private Duration connectTimeout = LlmGatewayClient.DEFAULT_CONNECT_TIMEOUT;
  /** Time allowed for one whole attempt of a non-streaming call; a stream's first event too. */
  private Duration timeout = LlmGatewayClient.DEFAULT_TIMEOUT;
  /** Longest silence tolerated on a stream. */
  private Duration streamTimeout = LlmGatewayClient.DEFAULT_STREAM_TIMEOUT;
  /** Calls in flight at once, of every kind. */
  private int maxConcurrentRequests = LlmGatewayClient.DEFAULT_MAX_CONCURRENT_REQUESTS;
  /** Longest a call waits for a slot among the calls in flight. */
  private Duration maxQueueWait = LlmGatewayClient.DEFAULT_MAX_QUEUE_WAIT;
  /** Retries of failed calls. */
  @NestedConfigurationProperty
  private final Retry retry = new Retry();
  /** The circuit breaker. */
  @NestedConfigurationProperty
  private final Breaker breaker = new Breaker();
  /** The GET /health probe behind LlmGatewayClient.health() and the actuator health indicator. */
  @NestedConfigurationProperty
  private final Health health = new Health();
  /** Scheme 2: a scoped service JWT instead of the service token (needs llm-gateway-auth). */
  @NestedConfigurationProperty
  private final Auth auth = new Auth();
  /** Stream tokens for direct browser streams (needs llm-gateway-auth). */
  @NestedConfigurationProperty
  private final StreamTokens streamTokens = new StreamTokens();
  /** Verification of the service's completion webhooks (needs llm-gateway-auth). */
  @NestedConfigurationProperty
  private final Webhooks webhooks = new Webhooks();
  /** Rate limits and replay stores in Redis (needs llm-gateway-redis). */
  @NestedConfigurationProperty
  private final Redis redis = new Redis();
  /** The credit ledger in the application's DataSource (needs llm-gateway-jdbc). */
  @NestedConfigurationProperty
  private final Jdbc jdbc = new Jdbc();
  /** Per-user rate limits of the ChatGateway, in memory or in Redis (needs llm-gateway-host). */
  @NestedConfigurationProperty
  private final Limits rateLimits = new Limits();
  /** What the ChatGateway reserves and charges (needs llm-gateway-host). */
  @NestedConfigurationProperty
  private final Credits credits = new Credits();
  /** The ChatGateway's relay of streams to the browser (needs llm-gateway-host). */
  @NestedConfigurationProperty
  private final Relay relay = new Relay();

  /** @return the base URL, or null for the SDK's default */
  public @Nullable String getBaseUrl() {
    return baseUrl;
  }

  /** @param baseUrl the base URL */
  public void setBaseUrl(@Nullable String baseUrl) {
    this.baseUrl = textOrNull(baseUrl);
  }

  /** @return the service token, or null for the SDK's default (never shown by the actuator) */
  @JsonIgnore
  public @Nullable String getServiceToken() {
    return serviceToken;
  }

  /** @param serviceToken the service token */
  public void setServiceToken(@Nullable String serviceToken) {
    this.serviceToken = textOrNull(serviceToken);
  }

  /** @return whether to use the sandbox, or null for the SDK's default */
  public @Nullable Boolean getSandbox() {
    return sandbox;
  }

  /** @param sandbox whether to use the sandbox */
  public void setSandbox(@Nullable Boolean sandbox) {
    this.sandbox = sandbox;
  }

  /** @return the connect timeout */
  public Duration getConnectTimeout() {
    return connectTimeout;
  }

  /** @param connectTimeout the connect timeout */
  public void setConnectTimeout(Duration connectTimeout) {
    this.connectTimeout = connectTimeout;
  }

  /** @return the per-attempt timeout */
  public Duration getTimeout() {
    return timeout;
  }

  /** @param timeout the per-attempt timeout */
  public void setTimeout(Duration timeout) {
    this.timeout = timeout;
  }

  /** @return the stream idle timeout */
  public Duration getStreamTimeout() {
    return streamTimeout;
  }

  /** @param streamTimeout the stream idle timeout */
  public void setStreamTimeout(Duration streamTimeout) {
    this.streamTimeout = streamTimeout;
  }

  /** @return the calls in flight at once */
  public int getMaxConcurrentRequests() {
    return maxConcurrentRequests;
  }

  /** @param maxConcurrentRequests the calls in flight at once */
  public void setMaxConcurrentRequests(int maxConcurrentRequests) {
    this.maxConcurrentRequests = maxConcurrentRequests;
  }

  /** @return the longest wait for a slot */
  public Duration getMaxQueueWait() {
    return maxQueueWait;
  }

  /** @param maxQueueWait the longest wait for a slot */
  public void setMaxQueueWait(Duration maxQueueWait) {
    this.maxQueueWait = maxQueueWait;
  }

  /** @return the retry settings */
  public Retry getRetry() {
    return retry;
  }

  /** @return the breaker settings */
  public Breaker getBreaker() {
    return breaker;
  }

  /** @return the health probe settings */
  public Health getHealth() {
    return health;
  }

  /** @return the service JWT settings */
  public Auth getAuth() {
    return auth;
  }

  /** @return the stream token settings */
  public StreamTokens getStreamTokens() {
    return streamTokens;
  }

  /** @return the webhook settings */
  public Webhooks getWebhooks() {
    return webhooks;
  }

  /** @return the Redis settings */
  public Redis getRedis() {
    return redis;
  }

  /** @return the JDBC settings */
  public Jdbc getJdbc() {
    return jdbc;
  }

  /** @return the rate limits */
  public Limits getRateLimits() {
    return rateLimits;
  }

  /** @return the credit settings */
  public Credits getCredits() {
    return credits;
  }

  /** @return the relay settings */
  public Relay getRelay() {
    return relay;
  }

  /** Shows every setting but the secrets, which show as set or not. */
  @Override
  public String toString() {
    return "LlmGatewayProperties{baseUrl=" + baseUrl + ", serviceToken=" + shown(serviceToken) + ", sandbox=" + sandbox
        + ", connectTimeout=" + connectTimeout + ", timeout=" + timeout + ", streamTimeout=" + streamTimeout
        + ", maxConcurrentRequests=" + maxConcurrentRequests + ", maxQueueWait=" + maxQueueWait + ", retry=" + retry
        + ", breaker=" + breaker + ", health=" + health + ", auth=" + auth + ", streamTokens=" + streamTokens
        + ", webhooks=" + webhooks + ", redis=" + redis + ", jdbc=" + jdbc + ", rateLimits=" + rateLimits + ", credits=" + credits
        + ", relay=" + relay + "}";
  }

  /**
   * An empty or blank value is no value: {@code llm-gateway.redis.url=${LLM_REDIS_URL:}} leaves the
   * setting unset when the variable is, instead of failing on an empty URL.
   */
  static @Nullable String textOrNull(@Nullable String value) {
    return value == null || value.isBlank() ? null : value;
  }

  static String shown(@Nullable String secret) {
    return secret == null ? "<unset>" : "<set>";
  }

  /** {@code llm-gateway.retry.*}. */
  public static class Retry {
    /** Retries after the first attempt; 0 never retries. */
    private int maxRetries = RetryPolicy.DEFAULT_MAX_RETRIES;
    /** Wait before the first retry (then multiplied). */
    private Duration initialBackoff = RetryPolicy.DEFAULT_INITIAL_BACKOFF;
    /** Longest wait between attempts. */
    private Duration maxBackoff = RetryPolicy.DEFAULT_MAX_BACKOFF;
    /** Longest a call runs, retries and waits included. */
    private Duration deadline = RetryPolicy.DEFAULT_DEADLINE;

    /** @return retries after the first attempt */
    public int getMaxRetries() {
      return maxRetries;
    }

    /** @param maxRetries retries after the first attempt */
    public void setMaxRetries(int maxRetries) {
      this.maxRetries = maxRetries;
    }

    /** @return the first wait */
    public Duration getInitialBackoff() {
      return initialBackoff;
    }

    /** @param initialBackoff the first wait */
    public void setInitialBackoff(Duration initialBackoff) {
      this.initialBackoff = initialBackoff;
    }

    /** @return the longest wait */
    public Duration getMaxBackoff() {
      return maxBackoff;
    }

    /** @param maxBackoff the longest wait */
    public void setMaxBackoff(Duration maxBackoff) {
      this.maxBackoff = maxBackoff;
    }

    /** @return the whole call's limit */
    public Duration getDeadline() {
      return deadline;
    }

    /** @param deadline the whole call's limit */
    public void setDeadline(Duration deadline) {
      this.deadline = deadline;
    }

    @Override
    public String toString() {
      return "{maxRetries=" + maxRetries + ", initialBackoff=" + initialBackoff + ", maxBackoff=" + maxBackoff
          + ", deadline=" + deadline + "}";
    }
  }

  /** {@code llm-gateway.breaker.*}. */
  public static class Breaker {
    /** False turns the breaker off (it never opens). */
    private boolean enabled = true;
    /** Consecutive failures that open it. */
    private int failureThreshold = CircuitBreaker.DEFAULT_FAILURE_THRESHOLD;
    /** How long it stays open before letting a probe call through. */
    private Duration openDuration = CircuitBreaker.DEFAULT_OPEN_DURATION;

    /** @return whether the breaker is on */
    public boolean isEnabled() {
      return enabled;
    }

    /** @param enabled whether the breaker is on */
    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    /** @return the failures that open it */
    public int getFailureThreshold() {
      return failureThreshold;
    }

    /** @param failureThreshold the failures that open it */
    public void setFailureThreshold(int failureThreshold) {
      this.failureThreshold = failureThreshold;
    }

    /** @return how long it stays open */
    public Duration getOpenDuration() {
      return openDuration;
    }

    /** @param openDuration how long it stays open */
    public void setOpenDuration(Duration openDuration) {
      this.openDuration = openDuration;
    }

    @Override
    public String toString() {
      return "{enabled=" + enabled + ", failureThreshold=" + failureThreshold + ", openDuration=" + openDuration + "}";
    }
  }

  /** {@code llm-gateway.health.*}. */
  public static class Health {
    /** Time allowed for one probe; also the longest a caller waits. */
    private Duration timeout = LlmGatewayClient.DEFAULT_HEALTH_TIMEOUT;
    /** How long a probe's answer is reused; 0 for never. */
    private Duration cacheTtl = LlmGatewayClient.DEFAULT_HEALTH_CACHE_TTL;

    /** @return the probe's timeout */
    public Duration getTimeout() {
      return timeout;
    }

    /** @param timeout the probe's timeout */
    public void setTimeout(Duration timeout) {
      this.timeout = timeout;
    }

    /** @return the cache time */
    public Duration getCacheTtl() {
      return cacheTtl;
    }

    /** @param cacheTtl the cache time */
    public void setCacheTtl(Duration cacheTtl) {
      this.cacheTtl = cacheTtl;
    }

    @Override
    public String toString() {
      return "{timeout=" + timeout + ", cacheTtl=" + cacheTtl + "}";
    }
  }

  /** {@code llm-gateway.auth.*}: set {@code jwt-secret} to authenticate with service JWTs. */
  public static class Auth {
    /** The id (kid) of the signing key. */
    private String jwtKeyId = "default";
    /** The HS256 signing secret, at least 32 bytes; not the service token. Secret. */
    private @Nullable String jwtSecret;
    /** The JWT's iss claim; default rails-api. */
    private @Nullable String issuer;
    /** The JWT's aud claim; default llm-chat. */
    private @Nullable String audience;
    /** Each JWT's lifetime, 30 s to 300 s; default 180 s. */
    private @Nullable Duration ttl;

    /** @return the key id */
    public String getJwtKeyId() {
      return jwtKeyId;
    }

    /** @param jwtKeyId the key id */
    public void setJwtKeyId(String jwtKeyId) {
      this.jwtKeyId = jwtKeyId;
    }

    /** @return the signing secret (never shown by the actuator) */
    @JsonIgnore
    public @Nullable String getJwtSecret() {
      return jwtSecret;
    }

    /** @param jwtSecret the signing secret */
    public void setJwtSecret(@Nullable String jwtSecret) {
      this.jwtSecret = textOrNull(jwtSecret);
    }

    /** @return the issuer, or null for the default */
    public @Nullable String getIssuer() {
      return issuer;
    }

    /** @param issuer the issuer */
    public void setIssuer(@Nullable String issuer) {
      this.issuer = textOrNull(issuer);
    }

    /** @return the audience, or null for the default */
    public @Nullable String getAudience() {
      return audience;
    }

    /** @param audience the audience */
    public void setAudience(@Nullable String audience) {
      this.audience = textOrNull(audience);
    }

    /** @return the lifetime, or null for the default */
    public @Nullable Duration getTtl() {
      return ttl;
    }

    /** @param ttl the lifetime */
    public void setTtl(@Nullable Duration ttl) {
      this.ttl = ttl;
    }

    @Override
    public String toString() {
      return "{jwtKeyId=" + jwtKeyId + ", jwtSecret=" + shown(jwtSecret) + ", issuer=" + issuer + ", audience="
          + audience + ", ttl=" + ttl + "}";
    }
  }

  /** {@code llm-gateway.stream-tokens.*}: set {@code secret} to issue stream tokens. */
  public static class StreamTokens {
    /** The id (kid) of the signing key. */
    private String keyId = "default";
    /** The HS256 signing secret the service verifies stream tokens with, at least 32 bytes. Secret. */
    private @Nullable String secret;
    /** The base URL browsers stream from; default the client's base URL. */
    private @Nullable String serviceBaseUrl;
    /** Each token's lifetime, 30 s to 300 s; default 120 s. */
    private @Nullable Duration ttl;

    /** @return the key id */
    public String getKeyId() {
      return keyId;
    }

    /** @param keyId the key id */
    public void setKeyId(String keyId) {
      this.keyId = keyId;
    }

    /** @return the signing secret (never shown by the actuator) */
    @JsonIgnore
    public @Nullable String getSecret() {
      return secret;
    }

    /** @param secret the signing secret */
    public void setSecret(@Nullable String secret) {
      this.secret = textOrNull(secret);
    }

    /** @return the browsers' base URL, or null for the client's */
    public @Nullable String getServiceBaseUrl() {
      return serviceBaseUrl;
    }

    /** @param serviceBaseUrl the browsers' base URL */
    public void setServiceBaseUrl(@Nullable String serviceBaseUrl) {
      this.serviceBaseUrl = textOrNull(serviceBaseUrl);
    }

    /** @return the lifetime, or null for the default */
    public @Nullable Duration getTtl() {
      return ttl;
    }

    /** @param ttl the lifetime */
    public void setTtl(@Nullable Duration ttl) {
      this.ttl = ttl;
    }

    @Override
    public String toString() {
      return "{keyId=" + keyId + ", secret=" + shown(secret) + ", serviceBaseUrl=" + serviceBaseUrl + ", ttl=" + ttl
          + "}";
    }
  }

  /** {@code llm-gateway.webhooks.*}: set {@code secret} to verify completion webhooks. */
  public static class Webhooks {
    /** The Standard Webhooks secret, whsec_ followed by base64. Secret. */
    private @Nullable String secret;
    /** Largest distance between a webhook's timestamp and the clock; default 5 min. */
    private @Nullable Duration tolerance;

    /** @return the secret (never shown by the actuator) */
    @JsonIgnore
    public @Nullable String getSecret() {
      return secret;
    }

    /** @param secret the secret */
    public void setSecret(@Nullable String secret) {
      this.secret = textOrNull(secret);
    }

    /** @return the tolerance, or null for the default */
    public @Nullable Duration getTolerance() {
      return tolerance;
    }

    /** @param tolerance the tolerance */
    public void setTolerance(@Nullable Duration tolerance) {
      this.tolerance = tolerance;
    }

    @Override
    public String toString() {
      return "{secret=" + shown(secret) + ", tolerance=" + tolerance + "}";
    }
  }

  /**
   * {@code llm-gateway.redis.*}: set {@code url} for a Lettuce connection of the starter's own, or
   * define a {@code StatefulRedisConnection<String, String>} bean.
   */
  public static class Redis {
    /** A Lettuce URI, e.g. redis://localhost:6379/0 (a password in it is never shown). */
    private @Nullable String url;

    /** @return the URI, or null (never shown by the actuator: it may hold a password) */
    @JsonIgnore
    public @Nullable String getUrl() {
      return url;
    }

    /** @param url the URI */
    public void setUrl(@Nullable String url) {
      this.url = textOrNull(url);
    }

    @Override
    public String toString() {
      return "{url=" + shown(url) + "}";
    }
  }

  /** {@code llm-gateway.jdbc.*}. */
  public static class Jdbc {
    /** Create the ledger's tables at startup where missing (PostgreSQL); off: run the migration yourself. */
    private boolean createSchema;
    /** How often the ledger releases reservations whose lease ended; unset: no reaper thread. */
    private @Nullable Duration reaperInterval;

    /** @return whether the tables are created at startup */
    public boolean isCreateSchema() {
      return createSchema;
    }

    /** @param createSchema whether the tables are created at startup */
    public void setCreateSchema(boolean createSchema) {
      this.createSchema = createSchema;
    }

    /** @return the reaper's interval, or null for none */
    public @Nullable Duration getReaperInterval() {
      return reaperInterval;
    }

    /** @param reaperInterval the reaper's interval */
    public void setReaperInterval(@Nullable Duration reaperInterval) {
      this.reaperInterval = reaperInterval;
    }

    @Override
    public String toString() {
      return "{createSchema=" + createSchema + ", reaperInterval=" + reaperInterval + "}";
    }
  }

  /** What Redis rate limits do when Redis fails or is too slow to answer. */
  public enum RateLimitFailure {
    /** Let calls through (credits still fail closed): the SDK's default. */
    OPEN,
    /** Refuse calls. */
    CLOSED
  }

  /**
   * {@code llm-gateway.rate-limits.*}: the limits per user of the auto-configured {@code
   * ChatGateway}'s limiter (in Redis with {@code redis.url} or a connection bean, else in memory).
   * A {@code RateLimiter} bean of the host's replaces them.
   */
  public static class Limits {
    /** The SDK's {@code RateLimits.DEFAULT_CALLS}, per minute. */
    public static final int DEFAULT_CALLS_PER_MINUTE = 100;
    /** The SDK's {@code RateLimits.DEFAULT_STREAM_STARTS}, per minute. */
    public static final int DEFAULT_STREAM_STARTS_PER_MINUTE = 10;

    // Literals, not RateLimits.DEFAULT_*: llm-gateway-host is optional, and this class is loaded
    // without it. LlmGatewayRateLimitsAndCreditsTest checks that they are the SDK's defaults.
    /** Calls of every kind per user per minute; 0 for no limit. */
    private int callsPerMinute = DEFAULT_CALLS_PER_MINUTE;
    /** Stream starts (relayed or direct) per user per minute; 0 for no limit. */
    private int streamStartsPerMinute = DEFAULT_STREAM_STARTS_PER_MINUTE;
    /** Redis only: what the limiter does when Redis fails, open (let calls through) or closed. */
    private RateLimitFailure failure = RateLimitFailure.OPEN;

    /** @return calls per minute, 0 for none */
    public int getCallsPerMinute() {
      return callsPerMinute;
    }

    /** @param callsPerMinute calls per minute, 0 for none */
    public void setCallsPerMinute(int callsPerMinute) {
      this.callsPerMinute = callsPerMinute;
    }

    /** @return stream starts per minute, 0 for none */
    public int getStreamStartsPerMinute() {
      return streamStartsPerMinute;
    }

    /** @param streamStartsPerMinute stream starts per minute, 0 for none */
    public void setStreamStartsPerMinute(int streamStartsPerMinute) {
      this.streamStartsPerMinute = streamStartsPerMinute;
    }

    /** @return the failure policy of Redis limits */
    public RateLimitFailure getFailure() {
      return failure;
    }

    /** @param failure the failure policy of Redis limits */
    public void setFailure(RateLimitFailure failure) {
      this.failure = failure;
    }

    @Override
    public String toString() {
      return "{callsPerMinute=" + callsPerMinute + ", streamStartsPerMinute=" + streamStartsPerMinute + ", failure="
          + failure + "}";
    }
  }

  /**
   * {@code llm-gateway.credits.*}: the pricing and reservation of the auto-configured {@code
   * ChatGateway}; unset: the gateway's defaults (1 and 2 credits per 1000 prompt and completion
   * tokens, 10 credits reserved).
   */
  public static class Credits {
    /** Credits per 1000 prompt tokens; set together with completion-per-thousand. */
    private @Nullable Long promptPerThousand;
    /** Credits per 1000 completion tokens; set together with prompt-per-thousand. */
    private @Nullable Long completionPerThousand;
    /** Credits reserved before each call (the most a call may then be charged is what the ledger allows). */
    private @Nullable Long estimate;

    /** @return credits per 1000 prompt tokens, or null for the default */
    public @Nullable Long getPromptPerThousand() {
      return promptPerThousand;
    }

    /** @param promptPerThousand credits per 1000 prompt tokens */
    public void setPromptPerThousand(@Nullable Long promptPerThousand) {
      this.promptPerThousand = promptPerThousand;
    }

    /** @return credits per 1000 completion tokens, or null for the default */
    public @Nullable Long getCompletionPerThousand() {
      return completionPerThousand;
    }

    /** @param completionPerThousand credits per 1000 completion tokens */
    public void setCompletionPerThousand(@Nullable Long completionPerThousand) {
      this.completionPerThousand = completionPerThousand;
    }

    /** @return credits reserved per call, or null for the default */
    public @Nullable Long getEstimate() {
      return estimate;
    }

    /** @param estimate credits reserved per call */
    public void setEstimate(@Nullable Long estimate) {
      this.estimate = estimate;
    }

    @Override
    public String toString() {
      return "{promptPerThousand=" + promptPerThousand + ", completionPerThousand=" + completionPerThousand
          + ", estimate=" + estimate + "}";
    }
  }

  /**
   * {@code llm-gateway.relay.*}: the auto-configured {@code ChatGateway}'s relay of a stream to the
   * browser; unset: the gateway's defaults.
   */
  public static class Relay {
    /** Longest silence towards the browser before a ": ping" comment; default 15s. */
    private @Nullable Duration heartbeat;
    /** The reconnection delay announced to the browser ("retry:"); default 300ms. */
    private @Nullable Duration reconnectDelay;
    /** How long a relayed stream waits for its first event (and the browser for headers); default the client's timeout. */
    private @Nullable Duration firstEventTimeout;

    /** @return the heartbeat interval, or null for the default */
    public @Nullable Duration getHeartbeat() {
      return heartbeat;
    }

    /** @param heartbeat the heartbeat interval */
    public void setHeartbeat(@Nullable Duration heartbeat) {
      this.heartbeat = heartbeat;
    }

    /** @return the reconnection delay, or null for the default */
    public @Nullable Duration getReconnectDelay() {
      return reconnectDelay;
    }

    /** @param reconnectDelay the reconnection delay */
    public void setReconnectDelay(@Nullable Duration reconnectDelay) {
      this.reconnectDelay = reconnectDelay;
    }

    /** @return the first-event timeout, or null for the default */
    public @Nullable Duration getFirstEventTimeout() {
      return firstEventTimeout;
    }

    /** @param firstEventTimeout the first-event timeout */
    public void setFirstEventTimeout(@Nullable Duration firstEventTimeout) {
      this.firstEventTimeout = firstEventTimeout;
    }

    @Override
    public String toString() {
      return "{heartbeat=" + heartbeat + ", reconnectDelay=" + reconnectDelay + ", firstEventTimeout="
          + firstEventTimeout + "}";
    }
  }
}
