package dev.llmgateway.sandbox.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Everything the sandbox remembers: sessions, idempotent replies, fault attempt counts and the id
 * counters. Nothing expires; it lives as long as its {@link SandboxService}.
 *
 * <p>Thread-safe: concurrent maps and atomic counters; no lock is held across calls.
 */
final class SandboxStore {
  /** Marks an idempotency key whose first request is still being answered. */
  static final Object IN_FLIGHT = new Object();

  private final AtomicLong sessionCounter = new AtomicLong();
  private final AtomicLong messageCounter = new AtomicLong();
  private final AtomicLong activityCounter = new AtomicLong();
  private final ConcurrentMap<String, SandboxSession> sessions = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Object> idempotent = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, AtomicInteger> faultAttempts = new ConcurrentHashMap<>();

  String nextMessageId() {
    return SandboxModel.messageId(messageCounter.incrementAndGet());
  }

  /** Creates a session holding {@code first} and makes it visible to readers. */
  SandboxSession create(String ownerId, String title, Instant now, List<SandboxSession.Message> first) {
    SandboxSession session =
        new SandboxSession(SandboxModel.sessionId(sessionCounter.incrementAndGet()), ownerId, title, now);
    session.append(activityCounter.incrementAndGet(), first);
    sessions.put(session.id(), session);
    return session;
  }

  void append(SandboxSession session, List<SandboxSession.Message> messages) {
    session.append(activityCounter.incrementAndGet(), messages);
  }

  @Nullable SandboxSession get(String sessionId) {
    return sessions.get(sessionId);
  }

  /** Removes {@code session}; false when it was already gone. */
  boolean remove(SandboxSession session) {
    return sessions.remove(session.id(), session);
  }

  /**
   * Returns up to {@code max} of the owner's sessions whose last activity precedes {@code
   * beforeActivitySeq}, most recent activity first.
   */
  List<SandboxSession.Snapshot> page(String ownerId, long beforeActivitySeq, int max) {
    List<SandboxSession.Snapshot> found = new ArrayList<>();
    for (SandboxSession session : sessions.values()) {
      if (session.ownerId().equals(ownerId)) {
        SandboxSession.Snapshot snapshot = session.snapshot(false);
        if (snapshot.activitySeq() < beforeActivitySeq) {
          found.add(snapshot);
        }
      }
    }
    found.sort(Comparator.comparingLong(SandboxSession.Snapshot::activitySeq).reversed());
    return found.size() <= max ? found : List.copyOf(found.subList(0, max));
  }

  /**
   * Claims an idempotency key.
   *
   * @return null when the caller now owns the key and must {@link #finishIdempotent finish} it; the
   *     stored {@link Reply} when the key was answered before; {@link #IN_FLIGHT} when another
   *     request with the key is being answered
   */
  @Nullable Object beginIdempotent(String key) {
    return idempotent.putIfAbsent(key, IN_FLIGHT);
  }

  /** Stores {@code reply} under a claimed key, or releases the key when reply is null. */
  void finishIdempotent(String key, @Nullable Reply reply) {
    if (reply == null) {
      idempotent.remove(key, IN_FLIGHT);
    } else {
      idempotent.replace(key, IN_FLIGHT, reply);
    }
  }

  /** Counts one more attempt of a fault directive and returns its 1-based number. */
  int nextFaultAttempt(String key) {
    return faultAttempts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
  }
}
