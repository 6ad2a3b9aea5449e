package dev.llmgateway.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A throwaway PostgreSQL server for one test class: {@code initdb} in a temporary directory, then
 * {@code postgres} on a free loopback port, stopped and deleted after the class. Register it as a
 * static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final PostgresServer POSTGRES = new PostgresServer();
 * ... POSTGRES.createDatabase() gives each test a fresh database; POSTGRES.jdbcUrl(name) its URL
 * }</pre>
 *
 * <p>Outside JUnit, {@link #boot()} and {@link #close()} do the same. The server trusts every loopback connection of the user {@value #USER} (no password). PostgreSQL
 * refuses to run as root, so when the JVM runs as root (as in CI containers) the server's
 * programs run as the unprivileged {@code postgres} user through {@code runuser}, in a directory
 * that user owns. Readiness is the server's own log line "ready to accept connections", awaited
 * with a generous bound; nothing sleeps. {@link #stop()} and {@link #start()} let a test make the
 * server unreachable and bring it back on the same port with the same data.
 *
 * <p>The programs are looked up in the directory named by the system property {@value
 * #BINDIR_PROPERTY} or the environment variable {@value #BINDIR_ENV}, else in Debian's layout
 * (the newest {@code /usr/lib/postgresql/<version>/bin}), else on the {@code PATH}. Thread-safe:
 * its methods are synchronized.
 */
public final class PostgresServer implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
  /** The superuser every connection uses. */
  public static final String USER = "postgres";
  /** The system property naming the directory of {@code initdb}, {@code postgres}, {@code pg_ctl}. */
  public static final String BINDIR_PROPERTY = "llmgateway.postgres.bindir";
  /** The environment variable naming the directory of the server programs. */
  public static final String BINDIR_ENV = "LLMGATEWAY_POSTGRES_BINDIR";
  /** How long starting or stopping the server may take before the fixture gives up. */
  public static final Duration DEFAULT_STARTUP_BOUND = Duration.ofSeconds(60);

  private static final String RUN_AS = "postgres";
  private static final String READY = "database system is ready to accept connections";
  private static final Path DEBIAN_ROOT = Paths.get("/usr/lib/postgresql");

  private final AtomicInteger databases = new AtomicInteger();
  private final List<String> log = new ArrayList<>();
  private @Nullable Path dir;
  private @Nullable Process server;
  private int port;
  private @Nullable Thread shutdownHook;

  /** Creates the fixture; the server starts before the test class's first test. */
  public PostgresServer() {}

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    boot();
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    close();
  }

  /**
   * Creates the cluster in a new temporary directory and starts the server, as {@link #beforeAll}
   * does: for use outside JUnit (a benchmark). Pair it with {@link #close()}.
   *
   * @throws IOException if the directory could not be made
   * @throws IllegalStateException if a program failed or the server did not become ready
   */
  public synchronized void boot() throws IOException {
    if (dir != null) {
      throw new IllegalStateException("already booted");
    }
    Path tmp = Files.createTempDirectory("llm-gateway-pg");
    dir = tmp;
    if (isRoot()) {
      UserPrincipal owner;
      try {
        owner = tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(RUN_AS);
      } catch (UserPrincipalNotFoundException e) {
        throw new IllegalStateException("PostgreSQL refuses to run as root, and there is no user '" + RUN_AS
            + "' to run it as: install Debian's postgresql package (.ci/setup) or run the tests as another user", e);
      }
      Files.setOwner(tmp, owner);
    }
    run(List.of(program("initdb"), "-D", data().toString(), "-U", USER, "--auth=trust",
        "--encoding=UTF8", "--locale=C", "--no-sync"));
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    Thread hook = new Thread(this::stopQuietly, "postgres-server-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    shutdownHook = hook;
    start();
  }

  /**
   * Stops the server and deletes its directory, as {@link #afterAll} does.
   *
   * @throws IOException if the directory could not be deleted
   */
  @Override
  public synchronized void close() throws IOException {
    try {
      stop();
    } finally {
      Thread hook = shutdownHook;
      if (hook != null) {
        Runtime.getRuntime().removeShutdownHook(hook);
        shutdownHook = null;
      }
      Path tmp = dir;
      if (tmp != null) {
        try (Stream<Path> paths = Files.walk(tmp)) {
          for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
            Files.deleteIfExists(p);
          }
        }
        dir = null;
      }
    }
  }

  /**
   * Starts the server on its port, with the data it had; a no-op while it runs.
   *
   * @throws IllegalStateException if it does not become ready within {@link #DEFAULT_STARTUP_BOUND}
   */
  public synchronized void start() {
    if (server != null) {
      return;
    }
    List<String> command = List.of(program("postgres"), "-D", data().toString(), "-p", String.valueOf(port),
        "-k", dir().toString(), "-c", "listen_addresses=127.0.0.1", "-c", "lc_messages=C",
        "-c", "fsync=off", "-c", "max_connections=300");
    CountDownLatch ready = new CountDownLatch(1);
    try {
      Process process = new ProcessBuilder(asServerUser(command)).redirectErrorStream(true).start();
      server = process;
      Thread reader = new Thread(() -> drain(process, ready), "postgres-server-log");
      reader.setDaemon(true);
      reader.start();
      if (!ready.await(DEFAULT_STARTUP_BOUND.toMillis(), TimeUnit.MILLISECONDS) || !process.isAlive()) {
        throw new IllegalStateException("PostgreSQL did not start: " + logText());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting PostgreSQL", e);
    }
  }

  /**
   * Stops the server ({@code pg_ctl stop -m fast}: open connections are closed, data is kept) and
   * waits until its process has ended; a no-op while it is stopped. Its port then refuses
   * connections until {@link #start()}.
   */
  public synchronized void stop() {
    Process process = server;
    if (process == null) {
      return;
    }
    try {
      run(List.of(program("pg_ctl"), "stop", "-D", data().toString(), "-m", "fast", "-w",
          "-t", String.valueOf(DEFAULT_STARTUP_BOUND.toSeconds())));
      if (!process.waitFor(DEFAULT_STARTUP_BOUND.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("PostgreSQL did not stop: " + logText());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping PostgreSQL", e);
    } finally {
      server = null;
    }
  }

  /**
   * Creates a fresh, empty database, so that each test starts from nothing.
   *
   * @return its name
   */
  public synchronized String createDatabase() {
    String name = "test_" + databases.incrementAndGet();
    run(List.of(program("createdb"), "-h", "127.0.0.1", "-p", String.valueOf(port), "-U", USER, name));
    return name;
  }

  /**
   * Returns the JDBC URL of a database on this server.
   *
   * @param database a database name, e.g. from {@link #createDatabase()}
   * @return {@code jdbc:postgresql://127.0.0.1:<port>/<database>}
   */
  public synchronized String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + Objects.requireNonNull(database, "database");
  }

  /**
   * Returns the loopback port the server listens on (also while it is stopped).
   *
   * @return the port
   */
  public synchronized int port() {
    return port;
  }

  /**
   * Tells whether the server is running.
   *
   * @return true between {@link #start()} and {@link #stop()}
   */
  public synchronized boolean isRunning() {
    return server != null;
  }

  @Override
  public synchronized String toString() {
    return "PostgresServer{port=" + port + ", running=" + (server != null) + "}";
  }

  private void drain(Process process, CountDownLatch ready) {
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        synchronized (log) {
          if (log.size() < 1_000) {
            log.add(line);
          }
        }
        if (line.contains(READY)) {
          ready.countDown();
        }
      }
    } catch (IOException e) {
      // The process ended; start() reports it through the latch's bound.
    }
    ready.countDown(); // ended: start() then sees a dead process and reports the log
  }

  private String logText() {
    synchronized (log) {
      return String.join("\n", log);
    }
  }

  private void stopQuietly() {
    try {
      stop();
    } catch (RuntimeException e) {
      Process process = server;
      if (process != null) {
        process.destroyForcibly();
      }
    }
  }

  private Path dir() {
    return Objects.requireNonNull(dir, "not started: register the extension with @RegisterExtension");
  }

  private Path data() {
    return dir().resolve("data");
  }

  private void run(List<String> command) {
    try {
      Process process = new ProcessBuilder(asServerUser(command)).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(DEFAULT_STARTUP_BOUND.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(command.get(0) + " did not end: " + output);
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(command + " failed (" + process.exitValue() + "): " + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command.get(0), e);
    }
  }

  private static List<String> asServerUser(List<String> command) {
    if (!isRoot()) {
      return command;
    }
    List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", RUN_AS, "--"));
    wrapped.addAll(command);
    return wrapped;
  }

  private static boolean isRoot() {
    return ProcessHandle.current().info().user().map("root"::equals).orElse(false);
  }

  private static String program(String name) {
    String configured = System.getProperty(BINDIR_PROPERTY, System.getenv(BINDIR_ENV));
    if (configured != null && !configured.isBlank()) {
      return Paths.get(configured, name).toString();
    }
    if (Files.isDirectory(DEBIAN_ROOT)) {
      try (Stream<Path> versions = Files.list(DEBIAN_ROOT)) {
        Path newest = versions.filter(v -> Files.isExecutable(v.resolve("bin").resolve(name)))
            .max(Comparator.comparingInt(PostgresServer::majorVersion))
            .orElse(null);
        if (newest != null) {
          return newest.resolve("bin").resolve(name).toString();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return name;
  }

  private static int majorVersion(Path versionDir) {
    try {
      return Integer.parseInt(String.valueOf(versionDir.getFileName()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
