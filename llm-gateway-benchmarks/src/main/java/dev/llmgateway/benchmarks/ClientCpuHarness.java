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
 * stream; by hand, SDK with the default listeners, SDK with the starter's meters and spans) run
 * in alternating blocks; each figure is the median block's CPU per operation.
 */
public final class ClientCpuHarness {
  private static final int BLOCKS = 7;
  private static final int SYNC_PER_BLOCK = 300;
  private static final int STREAMS_PER_BLOCK = 30;

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
      String[] names = {"sync.raw", "sync.sdk", "sync.starter", "stream.raw", "stream.sdk", "stream.starter"};
      Op[] ops = {byDefault::rawSync, byDefault::sdkSync, starter::sdkSync,
          () -> byDefault.rawStream(hole), () -> byDefault.sdkStream(hole), () -> starter.sdkStream(hole)};
      int[] perBlock = {SYNC_PER_BLOCK, SYNC_PER_BLOCK, SYNC_PER_BLOCK,
          STREAMS_PER_BLOCK, STREAMS_PER_BLOCK, STREAMS_PER_BLOCK};
      long[][] nanos = new long[ops.length][BLOCKS];
      for (int i = 0; i < ops.length; i++) {
        for (int n = 0; n < perBlock[i] * 5; n++) {
          ops[i].run();
        }
      }
      for (int b = 0; b < BLOCKS; b++) {
        for (int i = 0; i < ops.length; i++) {
          long start = threads.getCurrentThreadCpuTime();
          for (int n = 0; n < perBlock[i]; n++) {
            ops[i].run();
          }
          nanos[i][b] = (threads.getCurrentThreadCpuTime() - start) / perBlock[i];
        }
      }
      for (int i = 0; i < ops.length; i++) {
        results.put("cpu." + names[i] + "_us", HarnessResults.percentileMicros(nanos[i], 50));
      }
    } finally {
      byDefault.tearDown();
      starter.tearDown();
    }
    results.write(Path.of(args[0]));
    System.exit(0);
  }
}
