package dev.llmgateway.benchmarks;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * A stand-in for the chat service on loopback, as small and fast as a server can be so that the
 * benchmarks measure the client: raw HTTP/1.1 on blocking sockets with {@code TCP_NODELAY}, one
 * daemon thread per connection, keep-alive, every answer precomputed. It serves the contract's
 * two chat endpoints, the answer chosen by the request's path:
 *
 * <ul>
 *   <li>{@code POST …/chat}: a 1 KiB contract response ({@link #CHAT_BODY});
 *   <li>{@code POST …/chat/stream}: a session event, {@link #STREAM_TOKENS} token events, done and
 *       {@code [DONE]}, with a {@code Content-Length} (the connection is reused);
 *   <li>{@code POST …/chat/stream} with {@code /timed} before {@code /api}: {@link #TIMED_TOKENS}
 *       token events {@link #TIMED_GAP_NANOS} apart, each carrying {@code t<System.nanoTime()>;}
 *       of its sending in its content (the receiver in the same JVM subtracts), then done; the
 *       connection closes after it;
 *   <li>{@code POST …/chat/stream} with {@code /hold} before {@code /api}: a session and a token
 *       event, then nothing until the client closes the connection (concurrent-stream memory).
 * </ul>
 *
 * <p>Run as a program ({@link #main}), it serves on an ephemeral port, prints the port on its
 * standard output and stops when its standard input closes: the concurrent-streams harnesses run
 * it in a separate JVM so its threads and buffers are not counted as the client's.
 */
public final class LoopbackService implements Closeable {
  /** Tokens in a {@code …/chat/stream} answer. */
  public static final int STREAM_TOKENS = 200;
  /** Tokens in a {@code /timed} stream. */
  public static final int TIMED_TOKENS = 200;
  /** Time between two tokens of a {@code /timed} stream: 1 ms. */
  public static final long TIMED_GAP_NANOS = 1_000_000;
  /** The sync answer: a contract response of 1 KiB (1,024 bytes exactly). */
  public static final byte[] CHAT_BODY = chatBody(1024);

  private static final byte[] CHAT_RESPONSE = response("application/json", CHAT_BODY);
  private static final byte[] STREAM_RESPONSE = response("text/event-stream", streamBody(STREAM_TOKENS));
  private static final byte[] OPEN_STREAM_HEAD = ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
      + "Cache-Control: no-cache\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NOT_FOUND = response("application/json",
      "{\"detail\":\"not found\"}".getBytes(StandardCharsets.UTF_8));
  private static final int MAX_HEAD = 16 * 1024;
  /** {@code \r\n\r\n} as the last four bytes read. */
  private static final int END_OF_HEAD = 0x0d0a0d0a;

  private final ServerSocket server;
  private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
  private volatile boolean closed;

  private LoopbackService(ServerSocket server) {
    this.server = server;
  }

  /**
   * Starts serving on an ephemeral loopback port.
   *
   * @return the running service
   * @throws IOException if it cannot listen
   */
  public static LoopbackService start() throws IOException {
    ServerSocket socket = new ServerSocket(0, 2048, InetAddress.getLoopbackAddress());
    LoopbackService service = new LoopbackService(socket);
    Thread acceptor = new Thread(service::accept, "loopback-service-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    return service;
  }

  /**
   * Returns the port.
   *
   * @return the port it listens on
   */
  public int port() {
    return server.getLocalPort();
  }

  /**
   * Returns the base URL clients use.
   *
   * @return {@code http://127.0.0.1:<port>/}
   */
  public String url() {
    return "http://" + server.getInetAddress().getHostAddress() + ":" + port() + "/";
  }

  /**
   * Returns how many connections were accepted: a client that reuses its connections opens few.
   *
   * @return connections accepted so far
   */
  public int connectionsAccepted() {
    return accepted.get();
  }

  /** Stops listening and closes every connection. */
  @Override
  public void close() {
    closed = true;
    closeQuietly(server);
    for (Socket s : connections) {
      closeQuietly(s);
    }
  }

  private void accept() {
    while (!closed) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        return;
      }
      connections.add(socket);
      accepted.incrementAndGet();
      Thread t = new Thread(() -> serve(socket), "loopback-service-conn");
      t.setDaemon(true);
      t.start();
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      socket.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(socket.getInputStream(), 4096);
      OutputStream out = socket.getOutputStream();
      byte[] buffer = new byte[256];
      while (!closed) {
        String head = readHead(in);
        if (head == null) {
          return;
        }
        long length = contentLength(head);
        skip(in, length);
        String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
        if (path.endsWith("/chat/stream") && path.startsWith("/timed/")) {
          timedStream(out);
          return;
        } else if (path.endsWith("/chat/stream") && path.startsWith("/hold/")) {
          out.write(OPEN_STREAM_HEAD);
          out.write(("data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_1\"}\n\n"
              + "data: {\"type\":\"token\",\"content\":\"Hello\"}\n\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
          while (in.read(buffer) >= 0) {
            // hold the stream open until the client closes it
          }
          return;
        } else if (path.endsWith("/chat/stream")) {
          out.write(STREAM_RESPONSE);
        } else if (path.endsWith("/chat")) {
          out.write(CHAT_RESPONSE);
        } else {
          out.write(NOT_FOUND);
        }
        out.flush();
      }
    } catch (IOException e) {
      // the client went away
    } finally {
      connections.remove(socket);
    }
  }

  private static void timedStream(OutputStream out) throws IOException {
    out.write(OPEN_STREAM_HEAD);
    out.write("data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_1\"}\n\n"
        .getBytes(StandardCharsets.UTF_8));
    out.flush();
    long next = System.nanoTime();
    for (int i = 0; i < TIMED_TOKENS; i++) {
      next += TIMED_GAP_NANOS;
      long wait;
      while ((wait = next - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      out.write(("data: {\"type\":\"token\",\"content\":\"t" + System.nanoTime() + ";\"}\n\n")
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
    }
    out.write(("data: {\"type\":\"done\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":12,"
        + "\"completion_tokens\":" + TIMED_TOKENS + ",\"total_tokens\":" + (12 + TIMED_TOKENS) + "}}\n\n"
        + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private static @Nullable String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream(512);
    int last4 = 0;
    while (last4 != END_OF_HEAD) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      head.write(b);
      last4 = (last4 << 8) | b;
      if (head.size() > MAX_HEAD) {
        throw new IOException("request head too large");
      }
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  private static long contentLength(String head) {
    for (String line : head.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
        return Long.parseLong(line.substring(colon + 1).trim());
      }
    }
    return 0;
  }

  private static void skip(InputStream in, long length) throws IOException {
    long left = length;
    while (left > 0) {
      if (in.read() < 0) {
        throw new IOException("body cut short");
      }
      left--;
    }
  }

  private static byte[] response(String type, byte[] body) {
    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nContent-Length: " + body.length
        + "\r\nX-Request-Id: 00000000-0000-4000-8000-000000000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  /** A contract chat response padded (in the answer text) to exactly {@code size} bytes. */
  static byte[] chatBody(int size) {
    String before = "{\"session_id\":\"sess_8f14e45f\",\"message_id\":\"msg_01\",\"intent\":\"search\",\"answer\":\"";
    String after = "\",\"candidates\":[{\"profile_id\":\"id_1a2b3c4d\",\"name\":\"Ada L.\","
        + "\"headline\":\"Senior Rails Engineer\",\"score\":0.92},{\"profile_id\":\"id_5e6f7a8b\",\"name\":\"Grace H.\","
        + "\"headline\":\"Staff Engineer, Ruby\",\"score\":0.87}],\"actions\":[],"
        + "\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":48,\"total_tokens\":168},\"model\":\"recruiter-v3\"}";
    StringBuilder answer = new StringBuilder("I found 2 candidates in Berlin with senior Rails experience.");
    String words = " Both have led teams and shipped large Rails applications";
    int i = 0;
    while (before.length() + answer.length() + after.length() < size) {
      answer.append(words.charAt(i++ % words.length()));
    }
    return (before + answer + after).getBytes(StandardCharsets.UTF_8);
  }

  /** A whole answer stream: session, intent, {@code tokens} tokens, done, {@code [DONE]}. */
  static byte[] streamBody(int tokens) {
    StringBuilder s = new StringBuilder();
    s.append("data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_1\"}\n\n");
    s.append("data: {\"type\":\"intent\",\"intent\":\"search\"}\n\n");
    for (int i = 0; i < tokens; i++) {
      s.append("data: {\"type\":\"token\",\"content\":\" word").append(i).append("\"}\n\n");
    }
    s.append("data: {\"type\":\"done\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":12,"
        + "\"completion_tokens\":").append(tokens).append(",\"total_tokens\":").append(12 + tokens)
        .append("}}\n\ndata: [DONE]\n\n");
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /**
   * Serves until standard input closes; prints the port first.
   *
   * @param args none
   * @throws IOException if it cannot listen
   */
  public static void main(String[] args) throws IOException {
    try (LoopbackService service = start()) {
      System.out.println(service.port());
      System.out.flush();
      while (System.in.read() >= 0) {
        // wait for the parent to go
      }
    } catch (SocketException e) {
      // closing
    }
  }
}
