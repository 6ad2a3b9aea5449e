package dev.llmgateway.examples.gateway;

import java.io.IOException;

/** The host API on the JDK's {@code HttpServer} ({@link GatewayExample}). */
class GatewayServerTest extends GatewayApiTest {
  @Override
  protected Host start(GatewayExample.Builder settings) throws IOException {
    GatewayServer server = settings.start();
    return new Host() {
      @Override
      public int port() {
        return server.port();
      }

      @Override
      public UserTokens users() {
        return server.users();
      }

      @Override
      public void close() {
        server.close();
      }
    };
  }
}
