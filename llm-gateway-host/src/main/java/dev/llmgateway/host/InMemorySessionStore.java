package dev.llmgateway.host;

import dev.llmgateway.UserContext;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link SessionStore} in memory, for one host process (records are lost when it stops).
 * Thread-safe: each record is updated atomically; listing scans every record (fine for a test or
 * a small host; use {@code JdbcSessionStore} for many users).
 */
public final class InMemorySessionStore implements SessionStore {
  private static final Comparator<SessionRecord> RECENT_FIRST =
      Comparator.comparing(SessionRecord::lastActivityAt).reversed().thenComparing(SessionRecord::sessionId);

  private final ConcurrentHashMap<String, SessionRecord> records = new ConcurrentHashMap<>();

  private InMemorySessionStore() {}

  /**
   * Creates an empty store.
   *
   * @return the store
   */
  public static InMemorySessionStore create() {
    return new InMemorySessionStore();
  }

  @Override
  public boolean recordExchange(String sessionId, UserContext owner, String title, Instant at, int messages,
      long tokens) {
    SessionStore.checkExchange(sessionId, owner, title, at, messages, tokens);
    SessionRecord held = records.compute(sessionId, (id, old) -> {
      if (old == null) {
        return new SessionRecord(id, owner.userId(), owner.companyId(), owner.role(), title, at, at, messages,
            tokens, 0);
      }
      if (!old.isOwnedBy(owner.userId(), owner.companyId())) {
        return old;
      }
      Instant last = at.isAfter(old.lastActivityAt()) ? at : old.lastActivityAt();
      return new SessionRecord(id, old.userId(), old.companyId(), old.ownerRole(), old.title(), old.createdAt(),
          last, old.messageCount() + messages, old.tokens() + tokens, old.credits());
    });
    return held.isOwnedBy(owner.userId(), owner.companyId());
  }

  @Override
  public SessionRecord adopt(SessionRecord record) {
    Objects.requireNonNull(record, "record");
    SessionRecord held = records.putIfAbsent(record.sessionId(), record);
    return held == null ? record : held;
  }

  @Override
  public void addCredits(String sessionId, long credits) {
    SessionStore.checkCredits(sessionId, credits);
    records.computeIfPresent(sessionId, (id, old) -> new SessionRecord(id, old.userId(), old.companyId(),
        old.ownerRole(), old.title(), old.createdAt(), old.lastActivityAt(), old.messageCount(), old.tokens(),
        old.credits() + credits));
  }

  @Override
  public Optional<SessionRecord> find(String sessionId) {
    return Optional.ofNullable(records.get(Objects.requireNonNull(sessionId, "sessionId")));
  }

  @Override
  public List<SessionRecord> recent(String userId, String companyId, int limit) {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(companyId, "companyId");
    SessionStore.checkLimit(limit);
    return records.values().stream().filter(r -> r.isOwnedBy(userId, companyId)).sorted(RECENT_FIRST)
        .limit(limit).toList();
  }

  @Override
  public boolean delete(String sessionId) {
    return records.remove(Objects.requireNonNull(sessionId, "sessionId")) != null;
  }

  @Override
  public List<SessionRecord> idleSince(Instant before, int limit) {
    Objects.requireNonNull(before, "before");
    SessionStore.checkLimit(limit);
    return records.values().stream().filter(r -> r.lastActivityAt().isBefore(before))
        .sorted(Comparator.comparing(SessionRecord::lastActivityAt).thenComparing(SessionRecord::sessionId))
        .limit(limit).toList();
  }

  @Override
  public String toString() {
    return "InMemorySessionStore[" + records.size() + " sessions]";
  }
}
