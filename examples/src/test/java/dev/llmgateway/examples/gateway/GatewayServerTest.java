package dev.llmgateway.examples.gateway;

import java.io.IOException;

/** The host API on the JDK's {@code HttpServer} ({@link GatewayExample}). */
class GatewayServerTest extends GatewayApiTest {
  @Override
  protected GatewayHost start(HostSettings settings) throws IOException {
    return GatewayHost.of(settings.example().start());
  }
}
