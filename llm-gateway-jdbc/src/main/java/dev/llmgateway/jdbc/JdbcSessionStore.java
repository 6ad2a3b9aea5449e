package dev.llmgateway.jdbc;

import dev.llmgateway.UserContext;
import dev.llmgateway.host.SessionRecord;
import dev.llmgateway.host.SessionStore;
import dev.llmgateway.host.StateStoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * A {@link SessionStore} in PostgreSQL, beside {@link JdbcCreditLedger}: one row per session in
 * {@value #TABLE}, shared by every host instance on the database. Thread-safe (each call borrows
 * a connection from the {@link DataSource}); each update is one statement, so concurrent
 * exchanges of one session add up.
 */
public final class JdbcSessionStore implements SessionStore {
  /** The table of the records. */
  public static final String TABLE = "llm_gateway_sessions";
  /** The versioned SQL creating {@value #TABLE}, in the ledger's migration location. */
  public static final String MIGRATION_RESOURCE = "db/migration/llm_gateway/V2__llm_gateway_sessions.sql";

  private static final String COLUMNS = "session_id, user_id, company_id, owner_role, title, created_at, "
      + "last_activity_at, message_count, tokens, credits";
  private static final String RECORD = "INSERT INTO " + TABLE + " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
      + " ON CONFLICT (session_id) DO UPDATE SET"
      + " last_activity_at = GREATEST(" + TABLE + ".last_activity_at, EXCLUDED.last_activity_at),"
      + " message_count = " + TABLE + ".message_count + EXCLUDED.message_count,"
      + " tokens = " + TABLE + ".tokens + EXCLUDED.tokens"
      + " WHERE " + TABLE + ".user_id = EXCLUDED.user_id AND " + TABLE + ".company_id = EXCLUDED.company_id";
  /** Inserts the record unless the session has one; the no-op update returns the row the table holds. */
  private static final String ADOPT = "INSERT INTO " + TABLE + " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      + " ON CONFLICT (session_id) DO UPDATE SET session_id = " + TABLE + ".session_id RETURNING " + COLUMNS;
  private static final String ADD_CREDITS = "UPDATE " + TABLE + " SET credits = credits + ? WHERE session_id = ?";
  private static final String FIND = "SELECT " + COLUMNS + " FROM " + TABLE + " WHERE session_id = ?";
  private static final String RECENT = "SELECT " + COLUMNS + " FROM " + TABLE
      + " WHERE user_id = ? AND company_id = ? ORDER BY last_activity_at DESC, session_id LIMIT ?";
  private static final String DELETE = "DELETE FROM " + TABLE + " WHERE session_id = ?";
  private static final String IDLE = "SELECT " + COLUMNS + " FROM " + TABLE
      + " WHERE last_activity_at < ? ORDER BY last_activity_at, session_id LIMIT ?";
  /** The ledger's schema lock: the two files' statements never run at once. */
  private static final String SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(7342015214)";

  private final DataSource dataSource;

  private JdbcSessionStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Creates a store on {@code dataSource}; its table must exist ({@link #createSchema}).
   *
   * @param dataSource the database's pool
   * @return the store
   */
  public static JdbcSessionStore create(DataSource dataSource) {
    return new JdbcSessionStore(Objects.requireNonNull(dataSource, "dataSource"));
  }

  /**
   * Creates the table and indexes where missing, by running {@value #MIGRATION_RESOURCE} in one
   * transaction. Idempotent, and safe when several instances call it at once.
   *
   * @param dataSource where to create them; needs the right to create tables
   * @throws StateStoreException if the database refused or failed
   */
  public static void createSchema(DataSource dataSource) {
    Objects.requireNonNull(dataSource, "dataSource");
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute(SCHEMA_LOCK);
        for (String sql : statements()) {
          s.execute(sql);
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw failed("createSchema", e);
    }
  }

  /** The migration's statements: comment lines dropped, split at each {@code ;}. */
  private static List<String> statements() {
    String sql;
    try (InputStream in = JdbcSessionStore.class.getClassLoader().getResourceAsStream(MIGRATION_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(MIGRATION_RESOURCE + " is missing from the classpath");
      }
      sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("Could not read " + MIGRATION_RESOURCE, e);
    }
    List<String> out = new ArrayList<>();
    StringBuilder statement = new StringBuilder();
    sql.lines().filter(line -> !line.strip().startsWith("--")).forEach(line -> {
      statement.append(line).append('\n');
      if (line.strip().endsWith(";")) {
        out.add(statement.toString().strip().replaceFirst(";$", ""));
        statement.setLength(0);
      }
    });
    if (!statement.toString().isBlank()) {
      out.add(statement.toString().strip());
    }
    return out;
  }

  @Override
  public boolean recordExchange(String sessionId, UserContext owner, String title, Instant at, int messages,
      long tokens) {
    SessionStore.checkExchange(sessionId, owner, title, at, messages, tokens);
    return update("recordExchange", RECORD, ps -> {
      Timestamp time = Timestamp.from(at);
      ps.setString(1, sessionId);
      ps.setString(2, owner.userId());
      ps.setString(3, owner.companyId());
      ps.setString(4, owner.role());
      ps.setString(5, title);
      ps.setTimestamp(6, time);
      ps.setTimestamp(7, time);
      ps.setInt(8, messages);
      ps.setLong(9, tokens);
    }) > 0;
  }

  @Override
  public SessionRecord adopt(SessionRecord record) {
    Objects.requireNonNull(record, "record");
    List<SessionRecord> held = query("adopt", ADOPT, ps -> {
      ps.setString(1, record.sessionId());
      ps.setString(2, record.userId());
      ps.setString(3, record.companyId());
      ps.setString(4, record.ownerRole());
      ps.setString(5, record.title());
      ps.setTimestamp(6, Timestamp.from(record.createdAt()));
      ps.setTimestamp(7, Timestamp.from(record.lastActivityAt()));
      ps.setInt(8, record.messageCount());
      ps.setLong(9, record.tokens());
      ps.setLong(10, record.credits());
    });
    return held.get(0);
  }

  @Override
  public void addCredits(String sessionId, long credits) {
    SessionStore.checkCredits(sessionId, credits);
    update("addCredits", ADD_CREDITS, ps -> {
      ps.setLong(1, credits);
      ps.setString(2, sessionId);
    });
  }

  @Override
  public Optional<SessionRecord> find(String sessionId) {
    Objects.requireNonNull(sessionId, "sessionId");
    return query("find", FIND, ps -> ps.setString(1, sessionId)).stream().findFirst();
  }

  @Override
  public List<SessionRecord> recent(String userId, String companyId, int limit) {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(companyId, "companyId");
    SessionStore.checkLimit(limit);
    return query("recent", RECENT, ps -> {
      ps.setString(1, userId);
      ps.setString(2, companyId);
      ps.setInt(3, limit);
    });
  }

  @Override
  public boolean delete(String sessionId) {
    Objects.requireNonNull(sessionId, "sessionId");
    return update("delete", DELETE, ps -> ps.setString(1, sessionId)) > 0;
  }

  @Override
  public List<SessionRecord> idleSince(Instant before, int limit) {
    Objects.requireNonNull(before, "before");
    SessionStore.checkLimit(limit);
    return query("idleSince", IDLE, ps -> {
      ps.setTimestamp(1, Timestamp.from(before));
      ps.setInt(2, limit);
    });
  }

  @Override
  public String toString() {
    return "JdbcSessionStore[" + TABLE + "]";
  }

  private int update(String operation, String sql, Binder binder) {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      binder.bind(ps);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw failed(operation, e);
    }
  }

  private List<SessionRecord> query(String operation, String sql, Binder binder) {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      binder.bind(ps);
      List<SessionRecord> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new SessionRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
              rs.getString(5), rs.getTimestamp(6).toInstant(), rs.getTimestamp(7).toInstant(), rs.getInt(8),
              rs.getLong(9), rs.getLong(10)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw failed(operation, e);
    }
  }

  /** A failure naming the operation and SQLState, never the statement's values. */
  private static StateStoreException failed(String operation, SQLException e) {
    return new StateStoreException("Session store: " + operation + " failed (SQLState " + e.getSQLState() + ")",
        null, e);
  }

  @FunctionalInterface
  private interface Binder {
    void bind(PreparedStatement ps) throws SQLException;
  }
}
