package dev.llmgateway.auth;

import dev.llmgateway.AuthStrategy;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
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
  private final ConcurrentHashMap<CacheKey, ServiceJwt> cache = new ConcurrentHashMap<>();
  private final ReentrantLock evictionLock = new ReentrantLock();

  private ServiceJwtAuth(Builder builder, ServiceJwtMinter minter) {
    this.minter = minter;
    this.maxCachedTokens = builder.maxCachedTokens;
    this.refreshBefore = builder.refreshBefore;
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
    request.header("Authorization", "Bearer " + token(user, operation.scope()).token());
  }

  ServiceJwt token(UserContext user, String scope) {
    CacheKey key = new CacheKey(user, scope);
    Instant now = minter.clock().instant();
    ServiceJwt cached = cache.get(key);
    if (cached != null && isFresh(cached, now)) {
      return cached;
    }
    ServiceJwt minted = minter.mint(user, List.of(scope));
    cache.put(key, minted);
    if (cache.size() > maxCachedTokens) {
      evict(now);
    }
    return minted;
  }

  private boolean isFresh(ServiceJwt jwt, Instant now) {
    return now.isBefore(jwt.expiresAt().minus(refreshBefore));
  }

  private void evict(Instant now) {
    // Whoever holds the lock makes room; the others go on. The holder checks again after
    // unlocking, so an insert that raced with its pass is not left over the bound.
    while (cache.size() > maxCachedTokens && evictionLock.tryLock()) {
      try {
        cache.values().removeIf(jwt -> !isFresh(jwt, now));
        int target = maxCachedTokens - maxCachedTokens / 10;
        Iterator<Map.Entry<CacheKey, ServiceJwt>> it = cache.entrySet().iterator();
        while (cache.size() > target && it.hasNext()) {
          it.next();
          it.remove();
        }
      } finally {
        evictionLock.unlock();
      }
    }
  }


  int cachedTokenCount() {
    return cache.size();
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

  private static final class CacheKey {
    private final UserContext user;
    private final String scope;
    private final int hash;

    CacheKey(UserContext user, String scope) {
      this.user = user;
      this.scope = scope;
      this.hash = 31 * user.hashCode() + scope.hashCode();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof CacheKey && ((CacheKey) o).user.equals(user) && ((CacheKey) o).scope.equals(scope);
    }

    @Override
    public int hashCode() {
      return hash;
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
