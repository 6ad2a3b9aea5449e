package dev.llmgateway.auth;

import dev.llmgateway.AuthStrategy;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;

/**
 * CONTRACT scheme 2 as an {@link AuthStrategy}: sets {@code Authorization: Bearer <jwt>} with a
 * service JWT granting only the scope the operation needs ({@link Operation#scope()}), least
 * privilege.
 *
 * <pre>{@code
 * AuthStrategy auth = ServiceJwtAuth.of(ServiceJwtMinter.builder()
 *     .keys(JwtKeySet.of("2026-11", System.getenv("LLM_JWT_SECRET")))
 *     .build());
 * }</pre>
 *
 * <p>Tokens are cached per (user, scope) and reused until {@link #refreshBefore()} (default 30 s)
 * before they expire, so a cache hit costs one map lookup. The cache holds at most about {@link
 * #maxCachedTokens()} tokens (default {@value #DEFAULT_MAX_CACHED_TOKENS}); when it overflows,
 * tokens due for refresh go first, then arbitrary ones. Minting happens outside any lock, so a
 * slow mint for one user never blocks another; two threads missing the same entry at once may both
 * mint, and either token is valid.
 *
 * <p>Immutable configuration, thread-safe: create one and share it. {@link #toString()} never
 * shows a token or secret.
 */
public final class ServiceJwtAuth implements AuthStrategy {
  /** Default cache capacity. */
  public static final int DEFAULT_MAX_CACHED_TOKENS = 10_000;
  /** Default margin before expiry at which a cached token is replaced. */
  public static final Duration DEFAULT_REFRESH_BEFORE = Duration.ofSeconds(30);

  private final ServiceJwtMinter minter;
  private final int maxCachedTokens;
  private final Duration refreshBefore;
  /** Per operation, the map of its scope; operations needing one scope share one map. */
  private final EnumMap<Operation, ConcurrentHashMap<UserContext, Entry>> cacheByOperation =
      new EnumMap<>(Operation.class);
  /** Each distinct scope's map once. */
  private final List<ConcurrentHashMap<UserContext, Entry>> scopeMaps;
  private final ReentrantLock evictionLock = new ReentrantLock();

  private ServiceJwtAuth(Builder builder, ServiceJwtMinter minter) {
    this.minter = minter;
    this.maxCachedTokens = builder.maxCachedTokens;
    this.refreshBefore = builder.refreshBefore;
    Map<String, ConcurrentHashMap<UserContext, Entry>> byScope = new LinkedHashMap<>();
    for (Operation operation : Operation.values()) {
      cacheByOperation.put(operation, byScope.computeIfAbsent(operation.scope(), scope -> new ConcurrentHashMap<>()));
    }
    this.scopeMaps = List.copyOf(byScope.values());
  }

  /**
   * Returns a strategy with the default cache settings.
   *
   * @param minter mints the tokens
   * @return the strategy
   * @throws IllegalStateException if the minter's ttl is not longer than {@link
   *     #DEFAULT_REFRESH_BEFORE}
   */
  public static ServiceJwtAuth of(ServiceJwtMinter minter) {
    return builder().minter(minter).build();
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
   * Sets {@code Authorization: Bearer} with a token for {@code user} granting {@code
   * operation.scope()} only, from the cache when one is fresh.
   *
   * @param request the request being built
   * @param user the end user
   * @param operation the operation, whose scope is granted
   * @throws dev.llmgateway.ValidationException if the user's values are blank or unsafe
   * @throws LlmGatewayException if signing fails
   */
  @Override
  public void authenticate(Request.Builder request, UserContext user, Operation operation) {
    request.header("Authorization", entry(user, operation).headerValue);
  }

  ServiceJwt token(UserContext user, Operation operation) {
    return entry(user, operation).jwt;
  }

  /**
   * The hot path: one map lookup keyed by the user (whose hash {@link UserContext} caches) in the
   * operation's scope's map, one clock read in milliseconds; nothing allocated on a hit.
   */
  private Entry entry(UserContext user, Operation operation) {
    ConcurrentHashMap<UserContext, Entry> byUser =
        Objects.requireNonNull(cacheByOperation.get(operation), "operation");
    long nowMillis = minter.clock().millis();
    Entry cached = byUser.get(user);
    if (cached != null && nowMillis < cached.refreshAtMillis) {
      return cached;
    }
    Entry minted = new Entry(minter.mint(user, List.of(operation.scope())), refreshBefore);
    byUser.put(user, minted);
    if (cachedTokenCount() > maxCachedTokens) {
      evict(nowMillis);
    }
    return minted;
  }

  private void evict(long nowMillis) {
    // Whoever holds the lock makes room; the others go on. The holder checks again after
    // unlocking, so an insert that raced with its pass is not left over the bound.
    while (cachedTokenCount() > maxCachedTokens && evictionLock.tryLock()) {
      try {
        for (ConcurrentHashMap<UserContext, Entry> byUser : scopeMaps) {
          byUser.values().removeIf(entry -> nowMillis >= entry.refreshAtMillis);
        }
        int target = maxCachedTokens - maxCachedTokens / 10;
        for (ConcurrentHashMap<UserContext, Entry> byUser : scopeMaps) {
          Iterator<Entry> it = byUser.values().iterator();
          while (cachedTokenCount() > target && it.hasNext()) {
            it.next();
            it.remove();
          }
        }
      } finally {
        evictionLock.unlock();
      }
    }
  }

  int cachedTokenCount() {
    int count = 0;
    for (ConcurrentHashMap<UserContext, Entry> byUser : scopeMaps) {
      count += byUser.size();
    }
    return count;
  }

  /**
   * Returns the cache capacity.
   *
   * @return the most tokens kept
   */
  public int maxCachedTokens() {
    return maxCachedTokens;
  }

  /**
   * Returns how long before expiry a cached token is replaced.
   *
   * @return the refresh margin
   */
  public Duration refreshBefore() {
    return refreshBefore;
  }

  /** Shows the settings, never a token or secret. */
  @Override
  public String toString() {
    return "ServiceJwtAuth{minter=" + minter + ", maxCachedTokens=" + maxCachedTokens + ", refreshBefore="
        + refreshBefore.toSeconds() + "s}";
  }

  /**
   * A cached token with what a hit needs ready: the header value, and the instant (epoch
   * milliseconds, rounded down so a token is never kept past its refresh point) from which it is
   * replaced.
   */
  private static final class Entry {
    final ServiceJwt jwt;
    final String headerValue;
    final long refreshAtMillis;

    Entry(ServiceJwt jwt, Duration refreshBefore) {
      this.jwt = jwt;
      this.headerValue = "Bearer " + jwt.token();
      this.refreshAtMillis = jwt.expiresAt().minus(refreshBefore).toEpochMilli();
    }

    @Override
    public String toString() {
      return "Entry{<redacted>}";
    }
  }

  /** Builds a {@link ServiceJwtAuth}. Not thread-safe. */
  public static final class Builder {
    private @Nullable ServiceJwtMinter minter;
    private int maxCachedTokens = DEFAULT_MAX_CACHED_TOKENS;
    private Duration refreshBefore = DEFAULT_REFRESH_BEFORE;

    private Builder() {}

    /**
     * Sets the minter. Required.
     *
     * @param minter mints the tokens
     * @return this builder
     */
    public Builder minter(ServiceJwtMinter minter) {
      this.minter = Objects.requireNonNull(minter, "minter");
      return this;
    }

    /**
     * Sets the cache capacity. Default {@value #DEFAULT_MAX_CACHED_TOKENS}.
     *
     * @param maxCachedTokens at least 1
     * @return this builder
     * @throws IllegalArgumentException if less than 1
     */
    public Builder maxCachedTokens(int maxCachedTokens) {
      if (maxCachedTokens < 1) {
        throw new IllegalArgumentException("maxCachedTokens < 1: " + maxCachedTokens);
      }
      this.maxCachedTokens = maxCachedTokens;
      return this;
    }

    /**
     * Sets how long before expiry a cached token is replaced. Default 30 s; must be shorter than
     * the minter's ttl.
     *
     * @param refreshBefore zero or more
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder refreshBefore(Duration refreshBefore) {
      Objects.requireNonNull(refreshBefore, "refreshBefore");
      if (refreshBefore.isNegative()) {
        throw new IllegalArgumentException("refreshBefore < 0: " + refreshBefore);
      }
      this.refreshBefore = refreshBefore;
      return this;
    }

    /**
     * Builds the strategy.
     *
     * @return the strategy
     * @throws IllegalStateException if no minter was set, or its ttl is not longer than {@code
     *     refreshBefore} (every token would be stale at once)
     */
    public ServiceJwtAuth build() {
      if (minter == null) {
        throw new IllegalStateException("ServiceJwtAuth needs a minter: call minter(ServiceJwtMinter)");
      }
      if (minter.ttl().compareTo(refreshBefore) <= 0) {
        throw new IllegalStateException("refreshBefore (" + refreshBefore.toSeconds()
            + " s) must be shorter than the minter's ttl (" + minter.ttl().toSeconds()
            + " s): raise ServiceJwtMinter.Builder.ttl or lower refreshBefore");
      }
      return new ServiceJwtAuth(this, minter);
    }
  }
}
