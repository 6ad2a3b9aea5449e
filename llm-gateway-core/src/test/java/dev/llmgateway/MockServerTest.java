package dev.llmgateway;

import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import java.io.IOException;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A fresh MockWebServer per test and a client wired to it with fake time, no jitter and a
 * recording audit sink. Subclasses change the client with {@link #configure} or {@link #useClient}.
 */
abstract class MockServerTest {
  final MockWebServer server = new MockWebServer();
  final FakeTime time = new FakeTime();
  final TestSupport.RecordingAudit audit = new TestSupport.RecordingAudit();
  LlmGatewayClient client;

  /** Adjusts the builder of the client each test starts with. */
  LlmGatewayClient.Builder configure(LlmGatewayClient.Builder builder) {
    return builder;
  }

  /** A builder for this test's server, fake time and audit sink. */
  LlmGatewayClient.Builder clientBuilder() {
    return TestSupport.client(server, time).auditSink(audit);
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
    client = configure(clientBuilder()).build();
  }

  @AfterEach
  void stopServer() {
    client.close();
    server.close();
  }
}
