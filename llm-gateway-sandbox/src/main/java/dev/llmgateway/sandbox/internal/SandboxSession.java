package dev.llmgateway.sandbox.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One simulated conversation: fixed identity plus a growing list of messages.
 *
 * <p>Thread-safe: the message list and activity fields are guarded by {@code this}, held only
 * while copying in memory; {@link #tryBeginTurn()} lets one chat at a time add to it, as the
 * service answers {@code 409} to a second message while the first is being generated.
 */
final class SandboxSession {
  /** One stored message. */
  record Message(String messageId, String role, String content, Instant createdAt) {}

  /**
   * A consistent copy of a session's state.
   *
   * @param messages the messages oldest first, or empty when taken without them
   * @param activitySeq the sandbox-wide sequence number of the last activity; orders listings
   */
  record Snapshot(
      String sessionId,
      String title,
      Instant createdAt,
      Instant lastActivityAt,
      long activitySeq,
      int messageCount,
      List<Message> messages) {}

  private final String id;
  private final String ownerId;
  private final String title;
  private final Instant createdAt;
  private final AtomicBoolean busy = new AtomicBoolean();

  // Guarded by this.
  private final List<Message> messages = new ArrayList<>();
  private Instant lastActivityAt;
  private long activitySeq;

  SandboxSession(String id, String ownerId, String title, Instant createdAt) {
    this.id = id;
    this.ownerId = ownerId;
    this.title = title;
    this.createdAt = createdAt;
    this.lastActivityAt = createdAt;
  }

  String id() {
    return id;
  }

  String ownerId() {
    return ownerId;
  }

  /** Claims the session for one chat turn; false when another turn holds it. */
  boolean tryBeginTurn() {
    return busy.compareAndSet(false, true);
  }

  /** Releases the claim taken by {@link #tryBeginTurn()}. */
  void endTurn() {
    busy.set(false);
  }

  synchronized void append(long seq, List<Message> added) {
    messages.addAll(added);
    if (!added.isEmpty()) {
      lastActivityAt = added.get(added.size() - 1).createdAt();
    }
    activitySeq = Math.max(activitySeq, seq);
  }

  synchronized Snapshot snapshot(boolean withMessages) {
    return new Snapshot(
        id,
        title,
        createdAt,
        lastActivityAt,
        activitySeq,
        messages.size(),
        withMessages ? List.copyOf(messages) : List.of());
  }
}
