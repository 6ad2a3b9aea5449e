package dev.llmgateway.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import javax.net.ServerSocketFactory;
import org.jspecify.annotations.Nullable;

/**
 * Server sockets whose accepted connections set TCP_NODELAY. MockWebServer writes a response's
 * headers and body separately; with Nagle's algorithm the body then waits for the client's delayed
 * ACK (about 40 ms), which turns thousand-stream tests into minutes. Use it with
 * {@code server.setServerSocketFactory(new NoDelayServerSocketFactory())} before the server starts.
 */
public final class NoDelayServerSocketFactory extends ServerSocketFactory {
  /** A factory; it holds no state, so one may serve any number of servers. */
  public NoDelayServerSocketFactory() {}

  private static ServerSocket socket() throws IOException {
    return new ServerSocket() {
      @Override
      public Socket accept() throws IOException {
        Socket accepted = super.accept();
        accepted.setTcpNoDelay(true);
        return accepted;
      }
    };
  }

  @Override
  public ServerSocket createServerSocket() throws IOException {
    return socket();
  }

  @Override
  public ServerSocket createServerSocket(int port) throws IOException {
    return createServerSocket(port, 50, null);
  }

  @Override
  public ServerSocket createServerSocket(int port, int backlog) throws IOException {
    return createServerSocket(port, backlog, null);
  }

  @Override
  public ServerSocket createServerSocket(int port, int backlog, @Nullable InetAddress address) throws IOException {
    ServerSocket socket = socket();
    socket.bind(new InetSocketAddress(address, port), backlog);
    return socket;
  }
}
