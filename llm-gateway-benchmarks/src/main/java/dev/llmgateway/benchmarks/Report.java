package dev.llmgateway.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Map.Entry;
import org.jspecify.annotations.Nullable;

/**
 * Prints issue 16's table from a directory of results: JMH's JSON files ({@code -rf json}) and the
 * harnesses' JSON figures ({@link HarnessResults}). One markdown table: what, the baseline of the
 * same run, the SDK, their ratio (or the absolute figure), the target, met or missed, and the
 * allocation per operation where JMH's GC profiler measured it. Rows whose results are missing say
 * "not run".
 */
public final class Report {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NOT_RUN = "not run";
  /** JSON events per {@code LoopbackChatBenchmark} stream: session, intent, the tokens, done. */
  private static final int STREAM_EVENTS = LoopbackService.STREAM_TOKENS + 3;

  private final Map<String, JsonNode> jmh = new HashMap<>();
  private final Map<String, JsonNode> figures = new HashMap<>();
  private final List<String[]> table = new ArrayList<>();

  private Report() {}

  /**
   * Prints the table of the results in one directory, or of two or more runs side by side (for
   * example the same suite on JDK 17 and on JDK 25): the first run's full row, then each further
   * run's ratio or figure and whether it meets the target.
   *
   * @param args the directories, the first run first
   * @throws IOException if a file cannot be read
   */
  public static void main(String[] args) throws IOException {
    List<Path> dirs = new ArrayList<>();
    for (String arg : args) {
      dirs.add(Path.of(arg));
    }
    print(dirs, System.out);
  }

  /**
   * Reads every {@code *.json} under each directory and prints the table with each run's machine and JVM.
   *
   * @param dirs the results, one directory per run, the first run first
   * @param out where to print
   * @throws IOException if a file cannot be read
   */
  static void print(List<Path> dirs, PrintStream out) throws IOException {
    List<Report> reports = new ArrayList<>();
    for (Path dir : dirs) {
      Report report = new Report();
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
        for (Path file : files) {
          report.read(file);
        }
      }
      report.rows();
      reports.add(report);
    }
    out.println();
    for (Report report : reports) {
      out.println(report.describeRun());
    }
    out.println();
    Report first = reports.get(0);
    if (reports.size() == 1) {
      out.println("| row | baseline (same run) | SDK | ratio or figure | target | met? | alloc/op baseline → SDK |");
      out.println("|---|---|---|---|---|---|---|");
      for (String[] cells : first.table) {
        out.println("| " + String.join(" | ", cells) + " |");
      }
      return;
    }
    StringBuilder header = new StringBuilder("| row | target | ").append(first.label())
        .append(": baseline (same run) | SDK | ratio or figure | met?");
    StringBuilder rule = new StringBuilder("|---|---|---|---|---|---");
    for (Report other : reports.subList(1, reports.size())) {
      header.append(" | ").append(other.label()).append(": ratio or figure | met?");
      rule.append("|---|---");
    }
    out.println(header.append(" | alloc/op baseline → SDK (").append(first.label()).append(") |"));
    out.println(rule.append("|---|"));
    for (String[] cells : first.table) {
      StringBuilder line = new StringBuilder("| ").append(cells[0]).append(" | ").append(cells[4]).append(" | ")
          .append(cells[1]).append(" | ").append(cells[2]).append(" | ").append(cells[3]).append(" | ")
          .append(cells[5]);
      for (Report other : reports.subList(1, reports.size())) {
        String @Nullable [] same = other.row(cells[0]);
        line.append(" | ").append(same == null ? NOT_RUN : same[3]).append(" | ")
            .append(same == null ? NOT_RUN : same[5]);
      }
      out.println(line.append(" | ").append(cells[6]).append(" |"));
    }
  }

  /** One line naming the run: date, cores, JVM and load, from what {@link RunAll} recorded. */
  private String describeRun() {
    @Nullable Double cores = figure("run.cores");
    @Nullable Double loadStart = figure("run.load_start");
    @Nullable Double loadEnd = figure("run.load_end");
    return label() + ": issue 16 benchmarks, " + text("run.date", LocalDate.now(ZoneOffset.UTC).toString()) + ", "
        + (cores == null ? Runtime.getRuntime().availableProcessors() : fmt0(cores)) + " cores, "
        + text("run.jvm", System.getProperty("java.vm.name") + " " + Runtime.version()) + ", load average "
        + (loadStart == null ? "" : String.format(Locale.ROOT, "%.1f at the start, ", loadStart))
        + String.format(Locale.ROOT, "%.1f",
            loadEnd == null ? ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage() : loadEnd)
        + " at the end; JMH 1.37, 1 fork each; ratio = SDK / baseline (for rates: SDK rate / baseline rate).";
  }

  /** "JDK 17": the run's recorded JVM, else the JVM printing the report. */
  private String label() {
    @Nullable Double jdk = figure("run.jdk");
    return "JDK " + (jdk == null ? Runtime.version().feature() : fmt0(jdk));
  }

  private String text(String name, String otherwise) {
    JsonNode v = figures.get(name);
    return v == null || v.isNull() ? otherwise : v.asText();
  }

  private String @Nullable [] row(String what) {
    for (String[] cells : table) {
      if (cells[0].equals(what)) {
        return cells;
      }
    }
    return null;
  }

  private void read(Path file) throws IOException {
    JsonNode root = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
    if (root.isArray()) {
      for (JsonNode result : root) {
        jmh.put(key(result), result);
      }
    } else {
      for (Iterator<Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
        Entry<String, JsonNode> e = it.next();
        figures.put(e.getKey(), e.getValue());
      }
    }
  }

  /** {@code Class.method}, then {@code [param=value,…]} if any, then {@code @t<threads>} if more than one. */
  private static String key(JsonNode result) {
    String benchmark = result.get("benchmark").asText();
    String[] parts = benchmark.split("\\.");
    StringBuilder key = new StringBuilder(parts[parts.length - 2]).append('.').append(parts[parts.length - 1]);
    JsonNode params = result.get("params");
    if (params != null && params.size() > 0) {
      key.append('[');
      for (Iterator<Entry<String, JsonNode>> it = params.fields(); it.hasNext(); ) {
        Entry<String, JsonNode> p = it.next();
        key.append(p.getKey()).append('=').append(p.getValue().asText()).append(it.hasNext() ? "," : "");
      }
      key.append(']');
    }
    int threads = result.get("threads").asInt();
    if (threads > 1) {
      key.append("@t").append(threads);
    }
    return key.toString();
  }

  private void rows() {
    for (String listeners : new String[] {"default", "starter"}) {
      String sdk = "LoopbackChatBenchmark.sdkSync[listeners=" + listeners + "]";
      String base = baseline("LoopbackChatBenchmark.rawSync", listeners);
      String suffix = listeners.equals("starter") ? ", with the starter's meters and spans" : "";
      @Nullable Double rawP50 = percentile(base, "50.0");
      @Nullable Double sdkP50 = percentile(sdk, "50.0");
      ratioRow("sync `chat` 1 KiB, median latency" + suffix, rawP50, sdkP50, "µs", 1.10, alloc(base), alloc(sdk));
      absoluteRow("sync `chat`: SDK time per call above the baseline (median difference)" + suffix,
          rawP50 != null && sdkP50 != null ? sdkP50 - rawP50 : null, "µs", 20, "");
      String cpuName = listeners.equals("starter") ? "cpu.sync.starter_us" : "cpu.sync.sdk_us";
      @Nullable Double rawCpu = figure("cpu.sync.raw_us");
      @Nullable Double sdkCpu = figure(cpuName);
      @Nullable Double ownCpu = rawCpu == null || sdkCpu == null ? null : sdkCpu - rawCpu;
      row("sync `chat`: the SDK's own CPU per call (caller thread's CPU time, SDK − by hand)" + suffix,
          us(rawCpu), us(sdkCpu), ownCpu == null ? NOT_RUN : fmt(ownCpu) + " µs", "≤ 20 µs", met(ownCpu, 20), "");
      ratioRow("sync `chat` 1 KiB, p99 latency" + suffix, percentile(base, "99.0"), percentile(sdk, "99.0"), "µs", 1.25,
          "", "");
    }
    for (String listeners : new String[] {"default", "starter"}) {
      String sdk = "LoopbackChatBenchmark.sdkStream[listeners=" + listeners + "]";
      String base = baseline("LoopbackChatBenchmark.rawStream", listeners);
      @Nullable Double rawRate = eventsPerSecond(score(base));
      @Nullable Double sdkRate = eventsPerSecond(score(sdk));
      String suffix = listeners.equals("starter") ? ", with the starter's meters and spans" : "";
      row("`ChatStream` over loopback, events/s (" + STREAM_EVENTS + " events per stream)" + suffix,
          rawRate == null ? NOT_RUN : String.format(Locale.ROOT, "%,.0f /s (%.2f µs/event)", rawRate, 1e6 / rawRate),
          sdkRate == null ? NOT_RUN : String.format(Locale.ROOT, "%,.0f /s (%.2f µs/event)", sdkRate, 1e6 / sdkRate),
          rawRate == null || sdkRate == null ? NOT_RUN : fmt(sdkRate / rawRate) + "×", "≥ 0.90×",
          rawRate == null || sdkRate == null ? NOT_RUN : met(sdkRate / rawRate >= 0.90),
          perEvent(alloc(base)) + " → " + perEvent(alloc(sdk)));
      @Nullable Double rawCpu = figure("cpu.stream.raw_us");
      @Nullable Double sdkCpu = figure(listeners.equals("starter") ? "cpu.stream.starter_us" : "cpu.stream.sdk_us");
      row("`ChatStream`: caller CPU per event" + suffix,
          rawCpu == null ? NOT_RUN : fmt(rawCpu / STREAM_EVENTS) + " µs", sdkCpu == null ? NOT_RUN : fmt(sdkCpu / STREAM_EVENTS) + " µs",
          rawCpu == null || sdkCpu == null ? NOT_RUN : fmt(rawCpu / sdkCpu) + "× the rate", "≥ 0.90×",
          rawCpu == null || sdkCpu == null ? NOT_RUN : met(rawCpu / sdkCpu >= 0.90), "");
    }
    @Nullable Double okReader = score("SseReaderBenchmark.okhttpSseReader");
    @Nullable Double sdkReader = score("SseReaderBenchmark.sdkReader");
    row("`SseReader` on 45 KiB in memory (1,000 tokens), speed", micros(okReader), micros(sdkReader),
        okReader == null || sdkReader == null ? NOT_RUN : fmt(okReader / sdkReader) + "× the speed",
        "≥ 1.0×", okReader == null || sdkReader == null ? NOT_RUN : met(okReader / sdkReader >= 1.0),
        alloc("SseReaderBenchmark.okhttpSseReader") + " → " + alloc("SseReaderBenchmark.sdkReader"));
    hopRows("httpserver", "`HttpServer` example");
    if (figures.containsKey("spring.hop.added.p50_us")) {
      hopRows("spring", "Spring example");
    } else {
      row("gateway hop and relay, Spring example", "—", "—", "not measured yet (harness hook: GatewayHopHarness#hosts)",
          "as above", NOT_RUN, "");
    }
    ratioRow("host policies (permit + reserve + commit), 1 thread", score("HostPoliciesBenchmark.lockCommit"),
        score("HostPoliciesBenchmark.sdkCommit"), "ns", 1.2, alloc("HostPoliciesBenchmark.lockCommit"),
        alloc("HostPoliciesBenchmark.sdkCommit"));
    ratioRow("host policies, 2 threads, a user each", score("HostPoliciesBenchmark.lockCommitOwnUser@t2"),
        score("HostPoliciesBenchmark.sdkCommitOwnUser@t2"), "ns", 1.0, "", "");
    ratioRow("host policies, 2 threads, one user", score("HostPoliciesBenchmark.lockCommitSameUser@t2"),
        score("HostPoliciesBenchmark.sdkCommitSameUser@t2"), "ns", 1.0, "", "");
    absoluteRow("1,000 concurrent iterator streams, heap after GC, all open", figure("iterator.heap_mib"), "MiB", 64,
        figure("iterator.heap_per_stream_kib") == null ? ""
            : String.format(Locale.ROOT, "%.1f KiB per stream", figure("iterator.heap_per_stream_kib")));
    @Nullable Double started = figure("callback.platform_threads_started");
    row("1,000 concurrent callback streams on virtual threads: platform threads started", "—",
        started == null ? na("callback.platform_threads_started") : fmt0(started), started == null ? "n/a" : fmt0(started),
        "no platform thread per stream (< 100)", started == null ? "n/a" : met(started < 100), "");
    @Nullable Double callbackHeap = figure("callback.heap_mib");
    row("1,000 concurrent callback streams on virtual threads: heap after GC", "—",
        callbackHeap == null ? na("callback.heap_mib") : fmt(callbackHeap) + " MiB",
        callbackHeap == null ? "n/a" : fmt(callbackHeap) + " MiB", "≤ 64 MiB",
        callbackHeap == null ? "n/a" : met(callbackHeap <= 64), "");
    ratioRow("service-JWT mint, uncached", score("AuthBenchmark.rawMint"), score("AuthBenchmark.sdkMint"), "ns", 1.2,
        alloc("AuthBenchmark.rawMint"), alloc("AuthBenchmark.sdkMint"));
    @Nullable Double cached = score("AuthBenchmark.sdkCachedAuth");
    absoluteRow("service-JWT, cached (`ServiceJwtAuth.authenticate`)", cached == null ? null : cached / 1000, "µs", 0.3,
        alloc("AuthBenchmark.sdkCachedAuth"));
    @Nullable Double header = score("AuthBenchmark.rawHeader");
    row("service-JWT, cached: beside OkHttp's `Request.Builder.header` with the same value (by hand)",
        header == null ? NOT_RUN : fmt(header / 1000) + " µs", cached == null ? NOT_RUN : fmt(cached / 1000) + " µs",
        header == null || cached == null ? NOT_RUN : "SDK's own " + signed((cached - header) / 1000) + " µs", "—", "—",
        alloc("AuthBenchmark.rawHeader") + " → " + alloc("AuthBenchmark.sdkCachedAuth"));
    ratioRow("service-JWT verify with scope check", score("AuthBenchmark.rawVerify"), score("AuthBenchmark.sdkVerify"),
        "ns", 1.2, alloc("AuthBenchmark.rawVerify"), alloc("AuthBenchmark.sdkVerify"));
    @Nullable Double webhook = score("AuthBenchmark.webhookVerify");
    absoluteRow("webhook verify, 1 KiB body", webhook == null ? null : webhook / 1000, "µs", 10,
        alloc("AuthBenchmark.webhookVerify"));
  }

  /** The baseline measured with the same parameter (so in the same part of the run), else the default one. */
  private String baseline(String benchmark, String listeners) {
    String same = benchmark + "[listeners=" + listeners + "]";
    return jmh.containsKey(same) ? same : benchmark + "[listeners=default]";
  }

  private void hopRows(String host, String name) {
    latencyRow("gateway hop, sync chat through the " + name + ", median", host + ".hop", 50, 500);
    latencyRow("gateway hop, sync chat through the " + name + ", p99", host + ".hop", 99, 2000);
    latencyRow("relayed token service → SDK → `SseWriter` → browser (" + name + "), median", host + ".relay", 50, 200);
    latencyRow("relayed token (" + name + "), p99", host + ".relay", 99, 1000);
    String p99 = ".p99_us";
    String but = host + ".relay_but_last";
    if (figures.containsKey(but + ".added" + p99)) {
      row("relayed token (" + name + "), p99 without each stream's last token (sent as the host ends the stream)",
          us(figure(but + ".direct" + p99)), us(figure(but + ".host" + p99)), signedUs(figure(but + ".added" + p99)),
          "(for comparison)", "—", "");
    }
  }

  /** A harness's direct and hosted percentile, and what the host added against its limit in µs. */
  private void latencyRow(String what, String prefix, int percentile, double limitMicros) {
    String p = ".p" + percentile + "_us";
    row(what, us(figure(prefix + ".direct" + p)), us(figure(prefix + ".host" + p)),
        signedUs(figure(prefix + ".added" + p)), "≤ +" + fmt(limitMicros) + " µs",
        met(figure(prefix + ".added" + p), limitMicros), "");
  }

  private void ratioRow(String what, @Nullable Double baseline, @Nullable Double sdk, String unit, double target,
      String baselineAlloc, String sdkAlloc) {
    String allocs = baselineAlloc.isEmpty() && sdkAlloc.isEmpty() ? "" : baselineAlloc + " → " + sdkAlloc;
    if (baseline == null || sdk == null) {
      row(what, baseline == null ? NOT_RUN : fmt(baseline) + " " + unit, sdk == null ? NOT_RUN : fmt(sdk) + " " + unit,
          NOT_RUN, "≤ " + fmt(target) + "×", NOT_RUN, allocs);
      return;
    }
    double ratio = sdk / baseline;
    row(what, fmt(baseline) + " " + unit, fmt(sdk) + " " + unit, fmt(ratio) + "×", "≤ " + fmt(target) + "×",
        met(ratio <= target), allocs);
  }

  private void absoluteRow(String what, @Nullable Double value, String unit, double target, String alloc) {
    row(what, "—", value == null ? NOT_RUN : fmt(value) + " " + unit, value == null ? NOT_RUN : fmt(value) + " " + unit,
        "≤ " + fmt(target) + " " + unit, value == null ? NOT_RUN : met(value <= target), alloc);
  }

  private void row(String... cells) {
    table.add(cells);
  }

  private @Nullable Double score(String key) {
    JsonNode r = jmh.get(key);
    if (r == null) {
      r = jmh.get(key + "[listeners=default]");
    }
    return r == null ? null : r.get("primaryMetric").get("score").asDouble();
  }

  private @Nullable Double percentile(String key, String p) {
    JsonNode r = jmh.get(key);
    return r == null ? null : r.get("primaryMetric").get("scorePercentiles").get(p).asDouble();
  }

  /** Bytes allocated per operation ({@code -prof gc}), or "" when not profiled. */
  private String alloc(String key) {
    JsonNode r = jmh.get(key);
    if (r == null) {
      r = jmh.get(key + "[listeners=default]");
    }
    JsonNode norm = r == null ? null : r.path("secondaryMetrics").get("gc.alloc.rate.norm");
    return norm == null ? "" : String.format(Locale.ROOT, "%,.0f B", norm.get("score").asDouble());
  }

  private static String perEvent(String alloc) {
    if (alloc.isEmpty()) {
      return "";
    }
    double bytes = Double.parseDouble(alloc.replace(",", "").replace(" B", ""));
    return String.format(Locale.ROOT, "%,.0f B/event", bytes / STREAM_EVENTS);
  }

  private @Nullable Double figure(String name) {
    JsonNode v = figures.get(name);
    return v == null || v.isNull() ? null : v.asDouble();
  }

  private String na(String name) {
    JsonNode why = figures.get(name + ".why");
    return why == null ? NOT_RUN : "n/a (" + why.asText() + ")";
  }

  private static @Nullable Double eventsPerSecond(@Nullable Double microsPerStream) {
    return microsPerStream == null ? null : STREAM_EVENTS / microsPerStream * 1e6;
  }

  private static String micros(@Nullable Double value) {
    return value == null ? NOT_RUN : fmt(value) + " µs";
  }

  /** A difference with its sign: "+12.0" or "−3.40". */
  private static String signed(double value) {
    return (value < 0 ? "−" : "+") + fmt(Math.abs(value));
  }

  private static String signedUs(@Nullable Double value) {
    return value == null ? NOT_RUN : signed(value) + " µs";
  }

  private static String us(@Nullable Double value) {
    return value == null ? NOT_RUN : fmt(value) + " µs";
  }

  private static String met(@Nullable Double value, double limit) {
    return value == null ? NOT_RUN : met(value <= limit);
  }

  private static String met(boolean met) {
    return met ? "met" : "**missed**";
  }

  private static String fmt0(double value) {
    return String.format(Locale.ROOT, "%,.0f", value);
  }

  /** Three significant digits, thousands separated. */
  private static String fmt(double value) {
    double abs = Math.abs(value);
    String pattern = abs >= 100 ? "%,.0f" : abs >= 10 ? "%.1f" : "%.2f";
    return String.format(Locale.ROOT, pattern, value);
  }
}
