package dev.llmgateway.auth.internal;

import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.auth.ReplayStore;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link ReplayStore} in a {@link ConcurrentHashMap}. Lookups take no lock; only making room when
 * the map is full does. The bound is approximate: concurrent first uses may overshoot it by the
 * number of threads.
 */
public final class InMemoryReplayStore implements ReplayStore {
  private final ConcurrentHashMap<String, Instant> entries = new ConcurrentHashMap<>();
  private final Clock clock;
  private final int maxEntries;
  private final boolean evictLive;
  private final Object sweepLock = new Object();

  /**
   * Creates a store.
   *
   * @param clock decides when an entry has expired
   * @param maxEntries the capacity, at least 1
   * @param evictLive when full of live entries: true drops those closest to expiry, false throws
   */
  public InMemoryReplayStore(Clock clock, int maxEntries, boolean evictLive) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries < 1: " + maxEntries);
    }
    this.clock = Objects.requireNonNull(clock, "clock");
    this.maxEntries = maxEntries;
    this.evictLive = evictLive;
  }

  @Override
  public boolean markUsed(String id, Instant expiresAt) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(expiresAt, "expiresAt");
    while (true) {
      Instant now = clock.instant();
      Instant existing = entries.get(id);
      if (existing != null) {
        if (existing.isAfter(now)) {
          return false;
        }
        if (entries.replace(id, existing, expiresAt)) {
          return true;
        }
        continue; // raced with another writer of the same id: look again
      }
      if (entries.size() >= maxEntries) {
        makeRoom(now);
      }
      if (entries.putIfAbsent(id, expiresAt) == null) {
        return true;
      }
    }
  }

  @Override
  public void forget(String id) {
    entries.remove(Objects.requireNonNull(id, "id"));
  }

  /**
   * Returns the number of ids held, expired ones not yet dropped included.
   *
   * @return the size
   */
  public int size() {
    return entries.size();
  }

  private void makeRoom(Instant now) {
    synchronized (sweepLock) {
      if (entries.size() < maxEntries) {
        return;
      }
      entries.values().removeIf(expiry -> !expiry.isAfter(now));
      if (entries.size() < maxEntries) {
        return;
      }
      if (!evictLive) {
        throw new LlmGatewayException(
            "In-memory replay store is full: " + entries.size() + " unexpired ids (maxEntries="
                + maxEntries + "); raise maxEntries or use a shared ReplayStore",
            null, 0, null);
      }
      List<Map.Entry<String, Instant>> live = new ArrayList<>(entries.entrySet());
      live.sort(Map.Entry.comparingByValue(Comparator.naturalOrder()));
      // Drop a tenth at once so that a full store does not sort on every insert.
      int drop = Math.max(1, entries.size() - maxEntries + 1 + maxEntries / 10);
      for (int i = 0; i < drop && i < live.size(); i++) {
        entries.remove(live.get(i).getKey(), live.get(i).getValue());
      }
    }
  }

  @Override
  public String toString() {
    return "InMemoryReplayStore{size=" + entries.size() + ", maxEntries=" + maxEntries
        + (evictLive ? ", evicting" : ", failing closed") + "}";
  }
}
