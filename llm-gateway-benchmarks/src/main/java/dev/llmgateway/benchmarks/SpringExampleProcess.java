package dev.llmgateway.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Spring example host (module {@code examples-spring}, Spring Boot 3.5 on Tomcat) running in a
 * JVM of its own, started as a deployment starts it: its own {@code main}, configured by the
 * environment variables its {@code application.properties} reads, in front of a real service (so
 * not the sandbox). A JVM of its own because Spring Boot's dependency management (its Jackson,
 * Micrometer, Logback...) is not the benchmarks' and must not change what the other benchmarks
 * measure.
 *
 * <p>The settings that differ from the example's defaults, so that the harness measures and is
 * never refused: no rate limit ({@code 0} calls and stream starts per minute), starting credits
 * that never run out, and the audit logger at WARN (one INFO line per call otherwise, which the
 * {@code HttpServer} host's row, without a logging binding, does not pay either). The demo user
 * (id 123) is the one signed in; the harness signs its token with the secret it gave the host.
 *
 * <p>Not thread-safe: one harness thread starts, uses and closes it.
 */
final class SpringExampleProcess implements AutoCloseable {
  /** The system property holding the Spring example's runtime classpath (its classes first). */
  static final String CLASSPATH_PROPERTY = "gatewayhop.spring.classpath";
  /**
   * The system property holding more options for the example's JVM, space-separated (a profiler:
   * {@code -XX:StartFlightRecording=filename=spring.jfr,settings=profile}; a Spring property:
   * {@code -Dserver.tomcat.threads.max=50}).
   */
  static final String JVM_OPTIONS_PROPERTY = "gatewayhop.spring.jvmOptions";
  private static final String MAIN = "dev.llmgateway.examples.spring.SpringGatewayApplication";
  /** What the example's {@code main} prints once it takes requests. */
  private static final Pattern STARTED = Pattern.compile("Spring gateway on http://localhost:(\\d+)/");
  private static final long START_TIMEOUT_SECONDS = 180;
  private static final long STOP_TIMEOUT_SECONDS = 30;

  private final Process process;
  private final int port;

  private SpringExampleProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /**
   * Starts the example on an ephemeral loopback port and waits until it takes requests.
   *
   * @param classpath the example's runtime classpath
   * @param serviceBaseUrl the service it calls
   * @param serviceToken its service token
   * @param userTokenSecret the secret of its users' tokens (at least 32 bytes)
   * @return the running example
   * @throws IOException if it cannot start, or exits or stays silent before it takes requests
   */
  static SpringExampleProcess start(String classpath, String serviceBaseUrl, String serviceToken,
      String userTokenSecret) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m"));
    for (String option : System.getProperty(JVM_OPTIONS_PROPERTY, "").split(" ")) {
      if (!option.isBlank()) {
        command.add(option);
      }
    }
    command.addAll(List.of("-cp", classpath, MAIN,
        "--server.port=0",
        "--example.starting-credits=" + (1L << 50),
        "--llm-gateway.rate-limits.calls-per-minute=0",
        "--llm-gateway.rate-limits.stream-starts-per-minute=0",
        "--logging.level.llm_gateway.audit=WARN"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> environment = builder.environment();
    // Only what this run decides: nothing of the caller's own deployment (Redis, a database...).
    environment.keySet().removeIf(name -> name.startsWith("LLM_") || name.equals("PORT"));
    environment.put("LLM_SERVICE_BASE_URL", serviceBaseUrl);
    environment.put("LLM_SERVICE_TOKEN", serviceToken);
    environment.put("LLM_USER_TOKEN_SECRET", userTokenSecret);
    Process process = builder.start();
    // Not left behind if this JVM ends first (a failed run, RunAll's time-out).
    Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "spring-example-stop"));
    CompletableFuture<Integer> started = new CompletableFuture<>();
    Thread output = new Thread(() -> forward(process, started), "spring-example-output");
    output.setDaemon(true);
    output.start();
    process.onExit().thenRun(() -> started.completeExceptionally(
        new IOException("the Spring example exited with " + process.exitValue() + " before it took requests")));
    try {
      return new SpringExampleProcess(process, started.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS));
    } catch (ExecutionException e) {
      process.destroyForcibly();
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IOException(cause.getMessage(), cause);
    } catch (TimeoutException e) {
      process.destroyForcibly();
      throw new IOException("the Spring example did not take requests within " + START_TIMEOUT_SECONDS + " s", e);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while the Spring example started", e);
    }
  }

  /** Copies the example's output to this one's, prefixed, and completes {@code started} with its port. */
  private static void forward(Process process, CompletableFuture<Integer> started) {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        System.out.println("[spring] " + line);
        Matcher port = STARTED.matcher(line);
        if (port.find()) {
          started.complete(Integer.parseInt(port.group(1)));
        }
      }
    } catch (IOException e) {
      started.completeExceptionally(e);
    }
  }

  /** @return the port it listens on (loopback) */
  int port() {
    return port;
  }

  /**
   * The CPU time its JVM has used so far (every thread: Tomcat's, the SDK's, the JIT's and GC's).
   *
   * @return nanoseconds, or -1 when the operating system does not tell
   */
  long cpuNanos() {
    return process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(-1L);
  }

  /**
   * The CPU time its JIT compiler threads ({@code C1 CompilerThread…}, {@code C2 CompilerThread…})
   * have used so far, from {@code /proc/<pid>/task/<tid>/stat} (Linux; clock ticks of 10 ms, the
   * {@code USER_HZ} of every common Linux build).
   *
   * @return nanoseconds, or -1 where there is no {@code /proc}
   */
  long jitCpuNanos() {
    Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
    if (!Files.isDirectory(tasks)) {
      return -1;
    }
    long ticks = 0;
    try (DirectoryStream<Path> threads = Files.newDirectoryStream(tasks)) {
      for (Path thread : threads) {
        String stat;
        try {
          stat = Files.readString(thread.resolve("stat"), StandardCharsets.US_ASCII);
        } catch (IOException e) {
          continue; // the thread ended meanwhile
        }
        // pid (comm) state ppid ...: comm may hold spaces; utime and stime are the 12th and 13th fields after it.
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open || !stat.substring(open + 1, close).contains("CompilerThre")) {
          continue;
        }
        String[] fields = stat.substring(close + 2).split(" ");
        ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return ticks * 10_000_000L;
  }

  /** Stops it as a deployment would (SIGTERM: Spring's shutdown), forcibly if it hangs. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
  }
}
