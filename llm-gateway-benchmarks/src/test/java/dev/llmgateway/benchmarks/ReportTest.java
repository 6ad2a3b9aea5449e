package dev.llmgateway.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
  @TempDir Path dir;

  @Test
  void oneRunPrintsItsOwnRowsWithItsRecordedJvm() throws IOException {
    Path jdk17 = run("17", 11.5);

    String table = print(List.of(jdk17));

    assertThat(table).contains("JDK 17: issue 16 benchmarks, 2026-12-07, 2 cores, Test VM 17.0.1")
        .contains("| 1,000 concurrent iterator streams, heap after GC, all open | — | 11.5 MiB | 11.5 MiB | ≤ 64.0 MiB | met |")
        .contains("| service-JWT mint, uncached | not run | not run | not run | ≤ 1.20× | not run |");
  }

  @Test
  void twoRunsPrintTheSecondRunsFigureAndVerdictBesideTheFirst() throws IOException {
    Path jdk17 = run("17", 11.5);
    Path jdk25 = run("25", 70.0);

    String table = print(List.of(jdk17, jdk25));

    assertThat(table).contains("JDK 25: issue 16 benchmarks")
        .contains("| row | target | JDK 17: baseline (same run) | SDK | ratio or figure | met? | JDK 25: ratio or figure | met? |")
        .contains("| 1,000 concurrent iterator streams, heap after GC, all open | ≤ 64.0 MiB | — | 11.5 MiB | 11.5 MiB | met"
            + " | 70.0 MiB | **missed** | 11.5 KiB per stream |");
  }

  private Path run(String jdk, double heapMib) throws IOException {
    Path run = Files.createDirectories(dir.resolve(jdk));
    Files.writeString(run.resolve("run.json"), "{\"run.jdk\": " + jdk + ", \"run.jvm\": \"Test VM " + jdk
        + ".0.1\", \"run.date\": \"2026-12-07\", \"run.cores\": 2, \"run.load_start\": 0.5, \"run.load_end\": 0.7}");
    Files.writeString(run.resolve("harness-iterator.json"),
        "{\"iterator.heap_mib\": " + heapMib + ", \"iterator.heap_per_stream_kib\": 11.5}");
    return run;
  }

  private static String print(List<Path> runs) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      Report.print(runs, out);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
