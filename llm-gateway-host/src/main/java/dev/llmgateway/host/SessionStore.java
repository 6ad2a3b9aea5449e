package dev.llmgateway.host;

import dev.llmgateway.UserContext;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The host's records of its users' conversations ({@link SessionRecord}), kept beside the
 * service's sessions for ownership, listing and billing. {@link ChatGateway} updates the store as
 * conversations happen ({@link ChatGateway.Builder#sessionStore}); {@link InMemorySessionStore}
 * keeps them in memory, {@code JdbcSessionStore} (llm-gateway-jdbc) in PostgreSQL.
 *
 * <p>Implementations must be thread-safe: the gateway calls them from request threads and from
 * its settlement retries. A store failure is a {@link StateStoreException}.
 */
public interface SessionStore {
  /**
   * Checks the arguments of {@link #recordExchange}, as every store does before touching its state:
   * implementations call it first.
   *
   * @param sessionId the session
   * @param owner who chatted
   * @param title the title
   * @param at when the exchange ended
   * @param messages messages the exchange added
   * @param tokens tokens reported
   * @throws NullPointerException naming the parameter that is null
   * @throws IllegalArgumentException naming the parameter when {@code messages} or {@code tokens}
   *     is negative or {@code title} is longer than {@link SessionRecord#MAX_TITLE_CHARS}
   */
  static void checkExchange(String sessionId, UserContext owner, String title, Instant at, int messages,
      long tokens) {
    Objects.requireNonNull(sessionId, "sessionId");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(title, "title");
    Objects.requireNonNull(at, "at");
    if (messages < 0 || tokens < 0) {
      throw new IllegalArgumentException("messages and tokens must be >= 0, were " + messages + ", " + tokens);
    }
    if (title.length() > SessionRecord.MAX_TITLE_CHARS) {
      throw new IllegalArgumentException("title must be at most " + SessionRecord.MAX_TITLE_CHARS + " chars, was "
          + title.length());
    }
  }

  /**
   * Checks the arguments of {@link #addCredits}: implementations call it first.
   *
   * @param sessionId the session
   * @param credits the credits
   * @throws NullPointerException if {@code sessionId} is null
   * @throws IllegalArgumentException if {@code credits} is negative
   */
  static void checkCredits(String sessionId, long credits) {
    Objects.requireNonNull(sessionId, "sessionId");
    if (credits < 0) {
      throw new IllegalArgumentException("credits must be >= 0, was " + credits);
    }
  }

  /**
   * Checks the {@code limit} of {@link #recent} and {@link #idleSince}: implementations call it
   * first.
   *
   * @param limit the limit
   * @throws IllegalArgumentException if {@code limit} is below 1
   */
  static void checkLimit(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, was " + limit);
    }
  }

  /**
   * Records one exchange (a query and its answer, or what a stream delivered) in a session:
   * creates the record on the session's first exchange, with {@code title} and {@code owner};
   * otherwise adds to its counts and moves its last activity to {@code at}. An exchange for a
   * session another user owns is ignored (the first owner keeps it).
   *
   * @param sessionId the service's session id
   * @param owner who chatted: user, company and role
   * @param title the title to give a new record (at most {@link SessionRecord#MAX_TITLE_CHARS})
   * @param at when the exchange ended
   * @param messages messages the exchange added
   * @param tokens tokens the service reported for it
   * @return whether the exchange was recorded: false when the session is another user's (the
   *     gateway then adds the exchange's credits to no record)
   * @throws IllegalArgumentException if an argument is out of range ({@link #checkExchange})
   * @throws StateStoreException if the store fails
   */
  boolean recordExchange(
      String sessionId, UserContext owner, String title, Instant at, int messages, long tokens);

  /**
   * Keeps {@code record} when the session has no record yet, as it is (its owner, title, times and
   * counts): the gateway adopts a session that began before the host kept records (or elsewhere)
   * when its owner first reads it through the gateway and the service confirms it is theirs. When
   * the session has a record already, that record is kept unchanged. Atomic: of concurrent calls
   * for one session, one record wins and every call returns it.
   *
   * @param record the record to keep
   * @return the record the store now holds for the session: {@code record}, or the one it had
   * @throws StateStoreException if the store fails
   */
  SessionRecord adopt(SessionRecord record);

  /**
   * Adds committed credits to a session's record; nothing when there is no record.
   *
   * @param sessionId the session
   * @param credits credits committed for one of its exchanges, at least 0
   * @throws IllegalArgumentException if {@code credits} is negative ({@link #checkCredits})
   * @throws StateStoreException if the store fails
   */
  void addCredits(String sessionId, long credits);

  /**
   * Finds a session's record.
   *
   * @param sessionId the session
   * @return the record, or empty when there is none
   * @throws StateStoreException if the store fails
   */
  Optional<SessionRecord> find(String sessionId);

  /**
   * The user's sessions, most recent activity first (ties by session id).
   *
   * @param userId the user
   * @param companyId the user's company
   * @param limit at most this many, at least 1
   * @return the records
   * @throws IllegalArgumentException if {@code limit} is below 1 ({@link #checkLimit})
   * @throws StateStoreException if the store fails
   */
  List<SessionRecord> recent(String userId, String companyId, int limit);

  /**
   * Deletes a session's record.
   *
   * @param sessionId the session
   * @return whether there was one
   * @throws StateStoreException if the store fails
   */
  boolean delete(String sessionId);

  /**
   * Records whose last activity is before {@code before}, oldest first: the candidates of a
   * cleanup ({@link ChatGateway#removeSessionsGoneFromService}).
   *
   * @param before the bound (exclusive)
   * @param limit at most this many, at least 1
   * @return the records
   * @throws IllegalArgumentException if {@code limit} is below 1 ({@link #checkLimit})
   * @throws StateStoreException if the store fails
   */
  List<SessionRecord> idleSince(Instant before, int limit);
}
