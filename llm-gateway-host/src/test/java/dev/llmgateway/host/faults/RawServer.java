package dev.llmgateway.host.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server that speaks raw bytes, for the faults MockWebServer cannot produce: a reset at a chosen
 * point, a chunked body cut inside a chunk, a body that drips. One thread accepts connections and
 * runs the handler for each in turn; {@link #close()} closes every socket and joins the thread.
 */
final class RawServer implements AutoCloseable {
  /** Answers one connection whose request has been read. */
  @FunctionalInterface
  interface Handler {
    void handle(Socket socket) throws Exception;
  }

  private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final Thread acceptor;

  RawServer(Handler handler) throws IOException {
    acceptor = new Thread(() -> serve(handler), "raw-server-" + server.getLocalPort());
    acceptor.start();
  }

  private void serve(Handler handler) {
    while (!server.isClosed()) {
      try (Socket socket = server.accept()) {
        sockets.add(socket);
        connections.incrementAndGet();
        socket.setTcpNoDelay(true);
        readRequest(socket.getInputStream());
        handler.handle(socket);
      } catch (Exception closedOrCut) {
        // The server was closed, or the client went away: both are the point of these tests.
      }
    }
  }

  /** Reads the request line, the headers and a Content-Length body, so closing never resets for unread input. */
  private static void readRequest(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
      int b = in.read();
      if (b == -1) {
        throw new IOException("request cut off");
      }
      head.append((char) b);
    }
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        in.readNBytes(Integer.parseInt(line.substring("content-length:".length()).trim()));
      }
    }
  }

  /** Writes {@code text} as UTF-8 and flushes. */
  static void write(Socket socket, String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    socket.getOutputStream().flush();
  }

  /** Ends the connection with a TCP reset instead of an orderly close. */
  static void reset(Socket socket) throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  String url() {
    return "http://127.0.0.1:" + server.getLocalPort() + "/";
  }

  int connections() {
    return connections.get();
  }

  @Override
  public void close() throws Exception {
    server.close();
    for (Socket socket : sockets) {
      socket.close();
    }
    acceptor.join(5_000);
    assertThat(acceptor.isAlive()).as("raw server thread ended").isFalse();
  }
}
