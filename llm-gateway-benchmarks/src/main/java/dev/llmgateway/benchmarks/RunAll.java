package dev.llmgateway.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs issue 16's whole suite and prints its table ({@link Report}): the JMH benchmarks, each with
 * its baseline in the same run and JMH's GC profiler, then the harnesses, each in a JVM of its own.
 * Run by {@code llm-gateway-benchmarks/run-all.sh}; about 9-10 minutes on 2 cores, the build included.
 */
public final class RunAll {
  private RunAll() {}

  /**
   * Runs everything.
   *
   * @param args the directory for the results (created; earlier {@code *.json} in it are deleted)
   * @throws Exception if a benchmark or a harness fails
   */
  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    Files.createDirectories(out);
    try (var old = Files.newDirectoryStream(out, "*.json")) {
      for (Path file : old) {
        Files.delete(file);
      }
    }
    HarnessResults run = new HarnessResults();
    run.put("run.load_start", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    run.putText("run.jvm", System.getProperty("java.vm.name") + " " + Runtime.version());
    run.put("run.jdk", Runtime.version().feature());
    run.putText("run.date", LocalDate.now(ZoneOffset.UTC).toString());
    run.put("run.cores", Runtime.getRuntime().availableProcessors());
    run.write(out.resolve("run.json"));
    List<String> failed = new ArrayList<>();
    // One invocation, so the starter's column is measured in the same run as its baseline.
    jmh(out, "loopback", failed, LoopbackChatBenchmark.class.getSimpleName() + "\\.",
        o -> o.param("listeners", StarterListeners.DEFAULT, StarterListeners.STARTER));
    jmh(out, "sse-reader", failed, SseReaderBenchmark.class.getSimpleName() + "\\.");
    jmh(out, "policies-1", failed, HostPoliciesBenchmark.class.getSimpleName() + "\\.(sdk|lock)Commit$");
    jmh(out, "policies-2", failed, HostPoliciesBenchmark.class.getSimpleName() + "\\.(sdk|lock)Commit(SameUser|OwnUser)$",
        o -> o.threads(2));
    jmh(out, "auth", failed, AuthBenchmark.class.getSimpleName() + "\\.");
    harness(out, failed, ClientCpuHarness.class, out.resolve("harness-cpu.json").toString());
    harness(out, failed, GatewayHopHarness.class, out.resolve("harness-hop.json").toString());
    harness(out, failed, ConcurrentStreamsHarness.class, "iterator", out.resolve("harness-iterator.json").toString());
    harness(out, failed, ConcurrentStreamsHarness.class, "callback", out.resolve("harness-callback.json").toString());
    HarnessResults end = new HarnessResults();
    end.put("run.load_end", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    end.write(out.resolve("run-end.json"));
    Report.print(List.of(out), System.out);
    if (!failed.isEmpty()) {
      System.out.println();
      System.out.println("Failed (their rows say \"not run\"): " + String.join(", ", failed));
      System.exit(1);
    }
  }

  private interface Customizer {
    ChainedOptionsBuilder apply(ChainedOptionsBuilder options);
  }

  private static void jmh(Path out, String name, List<String> failed, String include) {
    jmh(out, name, failed, include, o -> o);
  }

  private static void jmh(Path out, String name, List<String> failed, String include, Customizer customizer) {
    ChainedOptionsBuilder options = new OptionsBuilder().include(include).forks(1)
        .addProfiler(GCProfiler.class).resultFormat(ResultFormatType.JSON)
        .result(out.resolve(name + ".json").toString()).shouldFailOnError(true);
    try {
      if (new Runner(customizer.apply(options).build()).run().isEmpty()) {
        failed.add(name + " (no benchmark matched " + include + ")");
      }
    } catch (RunnerException e) {
      e.printStackTrace();
      failed.add(name);
    }
  }

  private static void harness(Path out, List<String> failed, Class<?> main, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m"));
    // The Spring example's classpath (run-all.sh), for GatewayHopHarness's JVM of the Spring host.
    String spring = System.getProperty(SpringExampleProcess.CLASSPATH_PROPERTY);
    if (spring != null) {
      command.add("-D" + SpringExampleProcess.CLASSPATH_PROPERTY + "=" + spring);
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    System.out.println("# Harness: " + main.getName() + " " + String.join(" ", args));
    Process p = new ProcessBuilder(command).inheritIO().start();
    // 10 minutes: GatewayHopHarness warms the Spring host until its JIT is done (up to 40,000 calls).
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly); // a host the harness started
      p.destroyForcibly();
      failed.add(main.getSimpleName() + " (timed out)");
    } else if (p.exitValue() != 0) {
      failed.add(main.getSimpleName() + " " + String.join(" ", args).replace(out.toString(), "…"));
    }
  }
}
