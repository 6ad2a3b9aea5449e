package dev.llmgateway.testkit;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A throwaway {@code redis-server} on a free loopback port for one test class: register it as a
 * {@code static} field with {@code @RegisterExtension}. It starts before the class's tests ({@code
 * --save '' --appendonly no}: nothing touches the disk), is started again before a test if an
 * earlier test stopped it, and is stopped (its whole process tree) after the class.
 *
 * <p>Readiness is awaited without sleeping: the server's own "Ready to accept connections" line,
 * then a {@code PING} answered {@code PONG}, within {@link #STARTUP_TIMEOUT}. The executable is
 * {@code redis-server} on the {@code PATH} (or the {@code REDIS_SERVER} environment variable);
 * when there is none, the tests fail saying how to install it.
 *
 * <p>Faults: {@link #stop()} makes the port refuse connections (Redis unreachable), {@link
 * #start()} brings the server back on the same port with nothing in it (scripts included: a
 * restart), {@link #freeze()} and {@link #thaw()} stop and resume the process (Redis hangs: the
 * connection stays open and nothing answers).
 *
 * <p>Not thread-safe: drive it from the test thread.
 */
public final class RedisServerExtension implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
  /** Bound on waiting for the server to accept commands. */
  public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

  private static final int PORT_ATTEMPTS = 5;
  private static final String INSTALL = "the Redis tests start their own server; install Debian's redis-server"
      + " (apt-get install -y redis-server; .ci/setup does) or set REDIS_SERVER to its path";

  private final @Nullable String executable;
  private final boolean cluster;
  private @Nullable Path clusterDir;
  private int port;
  private @Nullable Process process;
  private final List<String> output = new ArrayList<>();

  /** Creates an extension; the server starts when the test class does. */
  public RedisServerExtension() {
    this(null, false);
  }

  /** Creates an extension running {@code executable}; null looks it up as documented. */
  RedisServerExtension(@Nullable String executable, boolean cluster) {
    this.executable = executable;
    this.cluster = cluster;
  }

  /**
   * Returns an extension whose server is a one-node Redis Cluster holding every slot (its node
   * file in a temporary directory, deleted after the class), for clients that speak the cluster
   * protocol.
   *
   * @return a new extension
   */
  public static RedisServerExtension cluster() {
    return new RedisServerExtension(null, true);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    start();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (!isRunning()) {
      start();
    }
    thaw();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    stop();
    Path dir = clusterDir;
    if (dir != null) {
      clusterDir = null;
      try (var files = Files.list(dir)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          Files.deleteIfExists(file);
        }
        Files.deleteIfExists(dir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * Returns the server's port (the same across {@link #stop()} and {@link #start()}).
   *
   * @return the port on 127.0.0.1
   */
  public int port() {
    if (port == 0) {
      throw new IllegalStateException("the server has not been started");
    }
    return port;
  }

  /**
   * Returns a Redis URI of the server, e.g. for Lettuce's {@code RedisClient.create}.
   *
   * @return {@code redis://127.0.0.1:<port>}
   */
  public String uri() {
    return "redis://127.0.0.1:" + port();
  }

  /**
   * Returns whether the server process is alive.
   *
   * @return true while it runs (frozen included)
   */
  public boolean isRunning() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /**
   * Starts the server (on its earlier port if it ran before, else on a free one) and waits until
   * it answers {@code PING}. Does nothing when it runs.
   *
   * @throws IllegalStateException if {@code redis-server} is missing or did not become ready
   */
  public void start() {
    if (isRunning()) {
      return;
    }
    String executable = this.executable != null ? this.executable : executable();
    IllegalStateException last = null;
    for (int attempt = 0; attempt < (port == 0 ? PORT_ATTEMPTS : 1); attempt++) {
      int candidate = port == 0 ? freePort() : port;
      try {
        launch(executable, candidate);
        port = candidate;
        return;
      } catch (IllegalStateException e) {
        last = e; // another process took the port meanwhile: try another one
      }
    }
    throw Objects.requireNonNull(last);
  }

  /**
   * Stops the server and its process tree and waits until it has exited; its port then refuses
   * connections. Does nothing when it is not running.
   */
  public void stop() {
    Process p = process;
    if (p == null) {
      return;
    }
    process = null;
    resume(p);
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      if (!p.waitFor(STARTUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("redis-server did not exit");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping redis-server", e);
    }
  }

  /** Suspends the server process (SIGSTOP): connections stay open and nothing answers. */
  public void freeze() {
    signal("-STOP");
  }

  /** Resumes a {@linkplain #freeze() frozen} server (SIGCONT). Does nothing when it is not. */
  public void thaw() {
    Process p = process;
    if (p != null) {
      resume(p);
    }
  }

  /**
   * Sends one command (inline, e.g. {@code "FLUSHALL"} or {@code "CLIENT LIST"}) on a fresh
   * connection and returns the raw reply.
   *
   * @param command the inline command
   * @return the reply's text (a bulk string's contents, else the reply line)
   */
  public String command(String command) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port()), 5_000);
      socket.setSoTimeout((int) STARTUP_TIMEOUT.toMillis());
      OutputStream out = socket.getOutputStream();
      out.write((command + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      String line = readLine(in);
      if (line.startsWith("$")) {
        int length = Integer.parseInt(line.substring(1));
        if (length < 0) {
          return "";
        }
        byte[] body = in.readNBytes(length + 2);
        return new String(body, 0, length, StandardCharsets.UTF_8);
      }
      return line;
    } catch (IOException e) {
      throw new UncheckedIOException("Redis command failed: " + command, e);
    }
  }

  /**
   * Returns how many client connections the server has, the one asking excluded.
   *
   * @return the number of other clients
   */
  public int clientCount() {
    String list = command("CLIENT LIST");
    int lines = 0;
    for (String line : list.split("\n", -1)) {
      if (!line.isBlank()) {
        lines++;
      }
    }
    return lines - 1;
  }

  private void launch(String executable, int candidate) {
    ProcessBuilder builder = new ProcessBuilder(executable,
        "--port", Integer.toString(candidate),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--protected-mode", "yes",
        "--loglevel", "notice")
        .redirectErrorStream(true);
    if (cluster) {
      builder.command().addAll(List.of(
          "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--dir", clusterDir().toString()));
    }
    Process p;
    try {
      p = builder.start();
    } catch (IOException e) {
      // Not an IllegalStateException: trying another port would not help.
      throw new UncheckedIOException("could not run " + executable + ": " + INSTALL, e);
    }
    CompletableFuture<Boolean> ready = new CompletableFuture<>();
    Thread reader = new Thread(() -> drain(p, ready), "redis-server-" + candidate + "-output");
    reader.setDaemon(true);
    reader.start();
    boolean ok;
    try {
      ok = ready.get(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      ok = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ok = false;
    }
    if (!ok) {
      p.destroyForcibly();
      throw new IllegalStateException("redis-server on port " + candidate + " did not become ready within "
          + STARTUP_TIMEOUT + "; its output: " + String.join(" | ", snapshot()));
    }
    process = p;
    port = candidate;
    String pong = command("PING");
    if (!pong.equals("+PONG")) {
      stop();
      throw new IllegalStateException("redis-server answered PING with " + pong);
    }
    if (cluster) {
      command("CLUSTER ADDSLOTSRANGE 0 16383"); // after a restart the node file has them already
      long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
      while (!command("CLUSTER INFO").contains("cluster_state:ok")) {
        if (System.nanoTime() > deadline) {
          stop();
          throw new IllegalStateException("the one-node cluster did not become ready within " + STARTUP_TIMEOUT);
        }
      }
    }
  }

  private Path clusterDir() {
    Path dir = clusterDir;
    if (dir == null) {
      try {
        dir = Files.createTempDirectory("redis-cluster-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      clusterDir = dir;
    }
    return dir;
  }

  private void drain(Process p, CompletableFuture<Boolean> ready) {
    try (BufferedReader reader = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        synchronized (output) {
          if (output.size() < 200) {
            output.add(line);
          }
        }
        if (line.contains("Ready to accept connections")) {
          ready.complete(true);
        }
      }
    } catch (IOException e) {
      // the process went away; the waiter decides
    } finally {
      ready.complete(false);
    }
  }

  private List<String> snapshot() {
    synchronized (output) {
      return new ArrayList<>(output);
    }
  }

  private void signal(String signal) {
    Process p = process;
    if (p == null) {
      throw new IllegalStateException("the server is not running");
    }
    try {
      Process kill = new ProcessBuilder("kill", signal, Long.toString(p.pid())).inheritIO().start();
      if (!kill.waitFor(STARTUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill " + signal + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void resume(Process p) {
    if (!p.isAlive()) {
      return;
    }
    try {
      Process kill = new ProcessBuilder("kill", "-CONT", Long.toString(p.pid())).inheritIO().start();
      kill.waitFor(STARTUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) != -1 && c != '\n') {
      if (c != '\r') {
        line.append((char) c);
      }
    }
    return line.toString();
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String executable() {
    String configured = System.getenv("REDIS_SERVER");
    if (configured != null && !configured.isBlank()) {
      return configured;
    }
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "" : path).split(File.pathSeparator, -1)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, "redis-server");
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new IllegalStateException("redis-server is not on the PATH: " + INSTALL);
  }
}
