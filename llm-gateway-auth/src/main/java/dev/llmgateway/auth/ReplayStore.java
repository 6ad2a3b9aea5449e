package dev.llmgateway.auth;

import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.auth.internal.InMemoryReplayStore;
import java.time.Clock;
import java.time.Instant;

/**
 * Remembers single-use ids (a stream token's {@code jti}, a webhook's {@code webhook-id}) until
 * they no longer need remembering, so that a second use can be told apart from the first.
 *
 * <p>The in-memory stores from {@link #inMemory} and {@link #inMemoryEvicting} protect one JVM. A
 * host that runs several instances behind a load balancer needs a shared store (e.g. Redis {@code
 * SET id 1 NX PXAT expiresAt}) implementing this interface; otherwise each instance accepts the id
 * once.
 *
 * <p>Implementations must be thread-safe, and {@link #markUsed} must be atomic: of two concurrent
 * calls with the same id, exactly one returns {@code true}.
 */
public interface ReplayStore {
  /** Default capacity of the in-memory stores. */
  int DEFAULT_MAX_ENTRIES = 100_000;

  /**
   * Records the first use of an id.
   *
   * @param id the id; never logged by the SDK's stores
   * @param expiresAt until when the id must be remembered; after that it may be forgotten (a
   *     token using it has expired by then)
   * @return {@code true} if this is the first use of {@code id} (now recorded), {@code false} if it
   *     was already recorded and has not expired
   * @throws LlmGatewayException if the store cannot record the id (full, unreachable); callers
   *     refuse the token rather than risk accepting a replay
   */
  boolean markUsed(String id, Instant expiresAt);

  /**
   * Forgets an id, so that its next use counts as a first use again. Used when handling a webhook
   * failed and its redelivery must be processed.
   *
   * @param id the id; unknown ids are ignored
   * @throws LlmGatewayException if the store cannot be reached
   */
  void forget(String id);

  /**
   * Returns an in-memory store holding at most about {@code maxEntries} live ids that fails closed:
   * when it is full of ids that have not expired, {@link #markUsed} throws rather than forget an id
   * early (which would allow a replay). Expired ids are dropped whenever the store fills up.
   * Suited to stream tokens, whose ids live at most a few minutes.
   *
   * @param clock decides when an id has expired
   * @param maxEntries the capacity, at least 1
   * @return a new, thread-safe store
   * @throws IllegalArgumentException if {@code maxEntries < 1}
   */
  static ReplayStore inMemory(Clock clock, int maxEntries) {
    return new InMemoryReplayStore(clock, maxEntries, false);
  }

  /**
   * Returns an in-memory store holding at most about {@code maxEntries} ids that never refuses:
   * when it is full of ids that have not expired, it forgets the ids closest to expiry first.
   * Suited to webhook ids, where a forgotten id costs a repeated action, not a breach.
   *
   * @param clock decides when an id has expired
   * @param maxEntries the capacity, at least 1
   * @return a new, thread-safe store
   * @throws IllegalArgumentException if {@code maxEntries < 1}
   */
  static ReplayStore inMemoryEvicting(Clock clock, int maxEntries) {
    return new InMemoryReplayStore(clock, maxEntries, true);
  }
}
