package dev.llmgateway.interop;

import dev.llmgateway.LlmGatewayClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A fresh client of the reference service per test, closed afterwards. */
abstract class ClientInteropTest {
  final ReferenceService service;
  LlmGatewayClient client;

  ClientInteropTest(ReferenceService service) {
    this.service = service;
  }

  @BeforeEach
  void openClient() {
    client = service.client();
  }

  @AfterEach
  void closeClient() {
    client.close();
  }
}
