package dev.llmgateway.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The calling thread's CPU time per operation of {@link LoopbackChatBenchmark}'s calls, a figure
 * the machine's load disturbs far less than latency: a sync call and an iterator stream run on
 * the caller's thread (OkHttp's {@code execute}, the SSE reading and decoding), so the
 * difference between the SDK's client and the same call by hand is the SDK's own CPU per call.
 * The service's threads, and the span exporter's, are not counted. The six operations (sync and
 * stream; by hand, SDK with the default listeners, SDK with the starter's meters and spans) take
 * turns one operation at a time, so a change in the machine's load touches all alike; each figure
 * is the median of an operation's samples.
 */
public final class ClientCpuHarness {
  private static final int SYNC_ROUNDS = 3_000;
  private static final int STREAM_ROUNDS = 300;
  private static final int WARMUP_PASSES = 4;

  private ClientCpuHarness() {}

  private interface Op {
    void run() throws Exception;
  }

  /**
   * Runs the harness.
   *
   * @param args the JSON file to write
   * @throws Exception if a call fails
   */
  public static void main(String[] args) throws Exception {
    HarnessResults results = new HarnessResults();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    if (!threads.isCurrentThreadCpuTimeSupported()) {
      results.notApplicable("cpu.sync.sdk_us", "thread CPU time is not supported on this JVM");
      results.write(Path.of(args[0]));
      return;
    }
    Blackhole hole = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
    LoopbackChatBenchmark byDefault = new LoopbackChatBenchmark();
    LoopbackChatBenchmark starter = new LoopbackChatBenchmark();
    starter.listeners = StarterListeners.STARTER;
    byDefault.setUp();
    starter.setUp();
    try {
      measure(threads, results, new String[] {"sync.raw", "sync.sdk", "sync.starter"},
          new Op[] {byDefault::rawSync, byDefault::sdkSync, starter::sdkSync}, SYNC_ROUNDS);
      measure(threads, results, new String[] {"stream.raw", "stream.sdk", "stream.starter"},
          new Op[] {() -> byDefault.rawStream(hole), () -> byDefault.sdkStream(hole), () -> starter.sdkStream(hole)},
          STREAM_ROUNDS);
    } finally {
      byDefault.tearDown();
      starter.tearDown();
    }
    results.write(Path.of(args[0]));
    System.exit(0);
  }

  /** Warms each op up, then runs them in turn {@code rounds} times, one CPU sample per run. */
  private static void measure(ThreadMXBean threads, HarnessResults results, String[] names, Op[] ops, int rounds)
      throws Exception {
    // Generous: on a loaded machine the JIT's compiler threads get little CPU.
    for (int r = 0; r < WARMUP_PASSES * rounds; r++) {
      for (Op op : ops) {
        op.run();
      }
    }
    long[][] nanos = new long[ops.length][rounds];
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < ops.length; i++) {
        long start = threads.getCurrentThreadCpuTime();
        ops[i].run();
        nanos[i][r] = threads.getCurrentThreadCpuTime() - start;
      }
    }
    for (int i = 0; i < ops.length; i++) {
      results.put("cpu." + names[i] + "_us", HarnessResults.percentileMicros(nanos[i], 50));
    }
  }
}
