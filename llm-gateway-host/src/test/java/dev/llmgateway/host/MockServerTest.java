package dev.llmgateway.host;

import dev.llmgateway.AuditEvent;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Operation;
import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A fresh MockWebServer per test and a client wired to it ({@link RelayFixtures#client}) that
 * records its audit events and the refusals its shared listener is told of. Tests change the
 * client with {@link #useClient}, or every client of the class by overriding {@link #clientBuilder}.
 */
abstract class MockServerTest {
  final MockWebServer server = new MockWebServer();
  final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
  /** What the client's shared listener heard of refused calls: "OPERATION ExceptionName". */
  final List<String> refusals = new CopyOnWriteArrayList<>();
  LlmGatewayClient client;

  /** A builder for this test's server, audit list and refusals. */
  LlmGatewayClient.Builder clientBuilder() {
    return RelayFixtures.client(server).auditSink(audit::add).listener(new GatewayListener() {
      @Override
      public void callRefused(Operation operation, LlmGatewayException refusal) {
        refusals.add(operation + " " + refusal.getClass().getSimpleName());
      }
    });
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
