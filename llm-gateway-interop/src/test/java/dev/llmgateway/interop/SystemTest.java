package dev.llmgateway.interop;

import dev.llmgateway.testkit.PostgresServer;
import dev.llmgateway.testkit.RedisServerExtension;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The system tests' frame: the {@linkplain SharedServers shared servers}, a fresh upstream
 * (MockWebServer) and fresh {@link SharedStores} per test, and after each test every instance
 * closed and checked for leaked threads and connections.
 */
abstract class SystemTest {
  @RegisterExtension static final SharedServers SERVERS = new SharedServers();

  final MockWebServer upstream = new MockWebServer();
  SharedStores stores;

  /** The upstream's answers; default: every chat answered at once. */
  Dispatcher upstreamDispatcher() {
    return Upstream.answeringEveryChat();
  }

  /** Runs before the instances are closed and checked (e.g. to release what a test held). */
  void beforeClosing() throws Exception {}

  static PostgresServer postgres() {
    return SERVERS.postgres();
  }

  static RedisServerExtension redis() {
    return SERVERS.redis();
  }

  @BeforeEach
  final void startUpstreamAndStores() throws Exception {
    upstream.setDispatcher(upstreamDispatcher());
    upstream.start();
    stores = new SharedStores(postgres(), redis());
  }

  @AfterEach
  final void closeAndCheckForLeaks() throws Exception {
    try {
      beforeClosing();
      stores.closeAndAssertNothingLeaked();
    } finally {
      upstream.close();
    }
  }

  /** The upstream's base URL. */
  String url() {
    return upstream.url("/").toString();
  }
}
