package dev.llmgateway.host;

import dev.llmgateway.AuditEvent;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A fresh MockWebServer per test and a client wired to it ({@link RelayFixtures#client}) that
 * records its audit events. Tests change the client with {@link #useClient}.
 */
abstract class MockServerTest {
  final MockWebServer server = new MockWebServer();
  final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
  LlmGatewayClient client;

  /** A builder for this test's server and audit list. */
  LlmGatewayClient.Builder clientBuilder() {
    return RelayFixtures.client(server).auditSink(audit::add);
  }

  /** Replaces the test's client. */
  void useClient(LlmGatewayClient.Builder builder) {
    client.close();
    client = builder.build();
  }

  @BeforeEach
  void startServer() throws IOException {
    server.setServerSocketFactory(new NoDelayServerSocketFactory());
    server.start();
    client = clientBuilder().build();
  }

  @AfterEach
  void stopServer() {
    client.close();
    server.close();
  }
}
