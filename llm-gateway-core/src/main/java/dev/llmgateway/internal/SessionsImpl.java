package dev.llmgateway.internal;

import dev.llmgateway.AuditSink;
import dev.llmgateway.CallOptions;
import dev.llmgateway.Session;
import dev.llmgateway.SessionPage;
import dev.llmgateway.Sessions;
import dev.llmgateway.UserContext;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The {@link Sessions} of one client: each call built by its {@link Requests}, run by its {@link
 * CallEngine}, audited to {@code auditSink} (the client's, or a host gateway's). Thread-safe.
 */
public final class SessionsImpl implements Sessions {
  private final Requests requests;
  private final CallEngine engine;
  private final AuditSink auditSink;

  public SessionsImpl(Requests requests, CallEngine engine, AuditSink auditSink) {
    this.requests = requests;
    this.engine = engine;
    this.auditSink = auditSink;
  }

  @Override
  public SessionPage list(UserContext user, int limit, @Nullable String cursor, CallOptions options) {
    return Objects.requireNonNull(engine.execute(requests.listSessions(user, limit, cursor, options, auditSink)));
  }

  @Override
  public Session get(String sessionId, UserContext user, CallOptions options) {
    return Objects.requireNonNull(engine.execute(requests.getSession(sessionId, user, options, auditSink)));
  }

  @Override
  public void delete(String sessionId, UserContext user, CallOptions options) {
    engine.execute(requests.deleteSession(sessionId, user, options, auditSink));
  }
}
