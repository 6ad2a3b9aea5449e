package dev.llmgateway.internal;

import dev.llmgateway.CallOptions;
import dev.llmgateway.Session;
import dev.llmgateway.SessionPage;
import dev.llmgateway.Sessions;
import dev.llmgateway.UserContext;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** The {@link Sessions} of one client: each call built by its {@link Requests}, run by its {@link CallEngine}. Thread-safe. */
public final class SessionsImpl implements Sessions {
  private final Requests requests;
  private final CallEngine engine;

  public SessionsImpl(Requests requests, CallEngine engine) {
    this.requests = requests;
    this.engine = engine;
  }

  @Override
  public SessionPage list(UserContext user, int limit, @Nullable String cursor, CallOptions options) {
    return Objects.requireNonNull(engine.execute(requests.listSessions(user, limit, cursor, options)));
  }

  @Override
  public Session get(String sessionId, UserContext user, CallOptions options) {
    return Objects.requireNonNull(engine.execute(requests.getSession(sessionId, user, options)));
  }

  @Override
  public void delete(String sessionId, UserContext user, CallOptions options) {
    engine.execute(requests.deleteSession(sessionId, user, options));
  }
}
