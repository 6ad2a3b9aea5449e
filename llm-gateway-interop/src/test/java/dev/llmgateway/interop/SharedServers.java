package dev.llmgateway.interop;

import dev.llmgateway.testkit.PostgresServer;
import dev.llmgateway.testkit.RedisServerExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One throwaway PostgreSQL and one Redis for every system test class of the run: started before
 * the first such class, stopped (and PostgreSQL's directory deleted) when the whole run ends, so
 * that the classes do not each pay for an {@code initdb}. Each test gets a fresh database and a
 * flushed Redis from {@link SharedStores}.
 */
final class SharedServers implements BeforeAllCallback {
  private @Nullable Servers servers;

  @Override
  public void beforeAll(ExtensionContext context) {
    servers = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(Servers.class, key -> new Servers(), Servers.class);
  }

  PostgresServer postgres() {
    return Objects.requireNonNull(servers, "not started").postgres;
  }

  RedisServerExtension redis() {
    return Objects.requireNonNull(servers, "not started").redis;
  }

  /** The servers; JUnit closes them at the end of the run. */
  private static final class Servers implements AutoCloseable {
    final PostgresServer postgres = new PostgresServer();
    final RedisServerExtension redis = new RedisServerExtension();

    Servers() {
      try {
        postgres.boot();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      redis.start();
    }

    @Override
    public void close() throws IOException {
      try {
        redis.stop();
      } finally {
        postgres.close();
      }
    }
  }
}
