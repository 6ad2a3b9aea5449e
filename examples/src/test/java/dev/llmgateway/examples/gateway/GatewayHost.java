package dev.llmgateway.examples.gateway;

/** A started example gateway, whichever server hosts it (the tests of both hosts share their cases). */
public interface GatewayHost extends AutoCloseable {
  /** @return the port it listens on */
  int port();

  /** @return its user authentication, to sign the test's users in */
  UserTokens users();

  /** @return the users' subscriptions to background answers ({@code GET /events}) */
  ChatEventHub events();

  @Override
  void close();

  /**
   * The JDK {@code HttpServer} host.
   *
   * @param server the started server
   * @return it as a host
   */
  static GatewayHost of(GatewayServer server) {
    return new GatewayHost() {
      @Override
      public int port() {
        return server.port();
      }

      @Override
      public UserTokens users() {
        return server.users();
      }

      @Override
      public ChatEventHub events() {
        return java.util.Objects.requireNonNull(server.events(), "the example's routes have background answers");
      }

      @Override
      public void close() {
        server.close();
      }
    };
  }
}
