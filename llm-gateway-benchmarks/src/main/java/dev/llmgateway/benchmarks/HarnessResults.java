package dev.llmgateway.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What a harness (a whole-process measurement that JMH cannot make) reports: a flat JSON object
 * of named figures, written to a file {@link Report} reads beside JMH's results. A figure may be
 * {@code null}: not measured on this JVM ("n/a").
 */
final class HarnessResults {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ObjectNode figures = JSON.createObjectNode();

  void put(String name, double value) {
    figures.put(name, value);
  }

  void putText(String name, String text) {
    figures.put(name, text);
  }

  void notApplicable(String name, String why) {
    figures.putNull(name);
    figures.put(name + ".why", why);
  }

  void write(Path file) throws IOException {
    JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), figures);
    System.out.println(file.getFileName() + ": " + figures);
  }

  /**
   * The {@code p}-th percentile of sorted-in-place nanosecond samples, in microseconds.
   *
   * @param nanos the samples (sorted by this call)
   * @param p 0 to 100
   * @return the percentile, nearest-rank
   */
  static double percentileMicros(long[] nanos, double p) {
    Arrays.sort(nanos);
    int rank = (int) Math.ceil(p / 100.0 * nanos.length);
    return nanos[Math.max(0, Math.min(nanos.length - 1, rank - 1))] / 1_000.0;
  }

  /** Used heap after full collections, in MiB. */
  static double heapAfterGcMiB() throws InterruptedException {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100); // let reference processing and concurrent phases finish
    }
    return memory.getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
  }
}
