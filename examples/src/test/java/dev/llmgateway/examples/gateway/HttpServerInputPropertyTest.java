package dev.llmgateway.examples.gateway;

import java.io.IOException;

/** No client input gets a 5xx from the JDK {@code HttpServer} host. */
class HttpServerInputPropertyTest extends HostInputPropertyTest {
  @Override
  protected GatewayHost start(HostSettings settings) throws IOException {
    return GatewayHost.of(settings.example().start());
  }
}
