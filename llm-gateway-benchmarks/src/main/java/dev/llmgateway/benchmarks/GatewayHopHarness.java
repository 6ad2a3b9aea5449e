package dev.llmgateway.benchmarks;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import dev.llmgateway.examples.gateway.DemoGateway;
import dev.llmgateway.examples.gateway.GatewayExample;
import dev.llmgateway.examples.gateway.GatewayRoutes;
import dev.llmgateway.examples.gateway.GatewayServer;
import dev.llmgateway.examples.gateway.UserTokens;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;
import org.jspecify.annotations.Nullable;

/**
 * Whole-process latencies over loopback sockets that JMH cannot take: what the example gateway
 * adds in front of the service (a {@link LoopbackService}), measured against the same requests sent
 * to the service directly, alternately, in one run.
 *
 * <ul>
 *   <li><b>hop</b>: a sync chat from a "browser" ({@code OkHttpClient}) through the example host's
 *       {@code POST /api/v1/llm-chat/recruiter/chat} (user token check, rate limit, credit
 *       reservation and commit, the SDK's call to the service, the envelope) against the same POST
 *       straight to the service; median and p99 of each, and their differences;
 *   <li><b>relay</b>: per token, service → SDK → {@code SseWriter} → browser socket through the
 *       host's {@code POST …/chat/stream}, against service → browser directly. The service writes
 *       {@code t<System.nanoTime()>;} into each token as it sends it; the browser, in the same JVM,
 *       subtracts it from its clock when the line arrives.
 * </ul>
 *
 * <p>Hosts: the JDK {@code HttpServer} example ({@link GatewayExample}) in this JVM, and the Spring
 * example (module {@code examples-spring}) in a JVM of its own: see {@link #hosts}.
 */
public final class GatewayHopHarness {
  private static final MediaType JSON_TYPE = MediaType.get("application/json");
  private static final String TOKEN = "svc-token-for-benchmarks-only-0123456789";
  private static final String BODY = "{\"query\":\"Find senior Rails engineers in Berlin\"}";
  /** The system property that chooses the hosts measured ({@link #hosts}). */
  static final String HOSTS_PROPERTY = "gatewayhop.hosts";
  private static final int WARMUP_CALLS = 3_000;
  private static final int CALLS = 3_000;
  private static final int WARMUP_ROUND = 1_000;
  private static final int MAX_WARMUP_ROUNDS = 40;
  /** The share of a host's CPU below which its JIT counts as done ({@link #settle}). */
  private static final double JIT_DONE = 0.05;
  private static final int WARMUP_STREAMS = 5;
  private static final int MAX_WARMUP_STREAMS = 40;
  /** Compilation time per pair of warm-up streams (0.4 s) below which the JIT counts as done. */
  private static final long QUIET_COMPILE_MILLIS = 2;
  private static final java.lang.management.CompilationMXBean COMPILATION =
      java.lang.management.ManagementFactory.getCompilationMXBean();
  private static final List<java.lang.management.GarbageCollectorMXBean> COLLECTORS =
      java.lang.management.ManagementFactory.getGarbageCollectorMXBeans();
  // 2,400 tokens each way, so that one stall (a collection pause of this JVM, which stops the
  // service, the host and the browser alike, or a time slice lost on two cores) moves the p99 less
  // than it did with 1,200; the GC figures say how many collections fell on each side.
  private static final int STREAMS = 12;
  private static final java.util.regex.Pattern SENT = java.util.regex.Pattern.compile("t(\\d+);");

  /** One permit per nanosecond with a burst of about two seconds: the harness measures, never refused. */
  private static final RateLimits UNLIMITED = RateLimits.builder()
      .calls(new RateLimit(Integer.MAX_VALUE, Duration.ofNanos(Integer.MAX_VALUE), Integer.MAX_VALUE))
      .streamStarts(new RateLimit(Integer.MAX_VALUE, Duration.ofNanos(Integer.MAX_VALUE), Integer.MAX_VALUE)).build();

  private final OkHttpClient browser = new OkHttpClient.Builder().readTimeout(30, TimeUnit.SECONDS).build();

  private GatewayHopHarness() {}

  /**
   * Runs the harness.
   *
   * @param args the JSON file to write
   * @throws Exception if a run fails
   */
  public static void main(String[] args) throws Exception {
    HarnessResults results = new HarnessResults();
    GatewayHopHarness harness = new GatewayHopHarness();
    try (LoopbackService service = LoopbackService.start()) {
      harness.hosts(service, results);
    } finally {
      harness.browser.dispatcher().executorService().shutdown();
      harness.browser.connectionPool().evictAll();
    }
    results.write(Path.of(args[0]));
    System.exit(0);
  }

  /**
   * Each example host in turn, in front of the same service: the {@code HttpServer} example in this
   * JVM, then the Spring example in a JVM of its own ({@link SpringExampleProcess}) when the system
   * property {@value SpringExampleProcess#CLASSPATH_PROPERTY} gives its classpath ({@code
   * run-all.sh} does). The system property {@value #HOSTS_PROPERTY} ({@code httpserver}, {@code
   * spring}, or both, comma-separated; default both) chooses the hosts.
   */
  private void hosts(LoopbackService service, HarnessResults results) throws Exception {
    List<String> hosts = List.of(System.getProperty(HOSTS_PROPERTY, "httpserver,spring").split(","));
    UserContext user = UserContext.builder().userId("123").companyId("456").role("recruiter").build();
    if (hosts.contains("httpserver")) {
      // The host's client calls the service's /timed/ prefix: the same sync answer, timed streams.
      LlmGatewayClient client = LlmGatewayClient.builder().baseUrl(service.url() + "timed/").serviceToken(TOKEN)
          .environment(name -> null).build();
      InMemoryCreditLedger ledger = InMemoryCreditLedger.builder().build();
      ledger.deposit(user.userId(), 1L << 50);
      try (GatewayServer server = GatewayExample.builder().client(client).ledger(ledger).users(List.of(user))
          .rateLimits(UNLIMITED).port(0).start()) {
        String host = "http://127.0.0.1:" + server.port() + GatewayRoutes.API;
        String authorization = "Bearer " + server.users().issue(user.userId());
        measure("httpserver", service, host, authorization, results, null, null);
      } finally {
        client.close();
      }
    }
    if (!hosts.contains("spring")) {
      return;
    }
    String springClasspath = System.getProperty(SpringExampleProcess.CLASSPATH_PROPERTY, "");
    if (springClasspath.isBlank()) {
      System.out.println("# GatewayHopHarness: no " + SpringExampleProcess.CLASSPATH_PROPERTY
          + " system property: the Spring example's rows are not measured");
      return;
    }
    // Its demo user is the same user (123, company 456, recruiter), signed in with the secret given to it.
    String secret = HexFormat.of().formatHex(DemoGateway.secret(new SecureRandom()));
    UserTokens users = new UserTokens(secret.getBytes(StandardCharsets.UTF_8), Clock.systemUTC(),
        Map.of(DemoGateway.demoUser().userId(), DemoGateway.demoUser()));
    try (SpringExampleProcess spring = SpringExampleProcess.start(springClasspath, service.url() + "timed/", TOKEN,
        secret)) {
      measure("spring", service, "http://127.0.0.1:" + spring.port() + GatewayRoutes.API,
          "Bearer " + users.issue(DemoGateway.demoUser().userId()), results, spring::cpuNanos, spring::jitCpuNanos);
    }
  }

  /**
   * The hop's and the relay's figures of one host. {@code hostCpu}, for a host in a JVM of its own,
   * gives that JVM's CPU time: its CPU per hop ({@code <name>.hop.host_cpu_us}, every thread of it,
   * the JIT's and GC's too) is less at the mercy of a loaded machine than the latencies, though not
   * free of it. {@code hostJitCpu} gives the part of it its JIT compilers used ({@code
   * <name>.hop.host_jit_cpu_us} per hop; -1 when unknown), which the warm-up waits for.
   */
  private void measure(String name, LoopbackService service, String host, String authorization,
      HarnessResults results, @Nullable LongSupplier hostCpu, @Nullable LongSupplier hostJitCpu) throws IOException {
    String direct = service.url() + "timed/" + LoopbackChatBenchmark.CHAT_PATH;
    Request viaHost = post(host + "/chat", authorization).build();
    long[] hop = new long[CALLS];
    long[] straight = new long[CALLS];
    for (int i = 0; i < WARMUP_CALLS; i++) {
      call(viaHost);
      call(directRequest(direct));
    }
    if (hostCpu != null) {
      results.put(name + ".hop.warmup_calls", WARMUP_CALLS + settle(viaHost, direct, hostCpu, hostJitCpu));
    }
    long cpuBefore = hostCpu == null ? -1 : hostCpu.getAsLong();
    long jitBefore = hostJitCpu == null ? -1 : hostJitCpu.getAsLong();
    for (int i = 0; i < CALLS; i++) {
      hop[i] = call(viaHost);
      straight[i] = call(directRequest(direct));
    }
    if (hostCpu != null && cpuBefore >= 0) {
      results.put(name + ".hop.host_cpu_us", (hostCpu.getAsLong() - cpuBefore) / 1_000.0 / CALLS);
    }
    if (hostJitCpu != null && jitBefore >= 0) {
      results.put(name + ".hop.host_jit_cpu_us", (hostJitCpu.getAsLong() - jitBefore) / 1_000.0 / CALLS);
    }
    latencies(results, name + ".hop", straight, hop);

    Request relayed = post(host + "/chat/stream", authorization).header("Accept", "text/event-stream").build();
    Request directStream = directRequest(service.url() + "timed/" + LoopbackChatBenchmark.STREAM_PATH)
        .newBuilder().header("Accept", "text/event-stream").build();
    results.put(name + ".relay.warmup_streams", settleStreams(relayed, directStream, hostJitCpu));
    long[] relay = new long[0];
    long[] straightTokens = new long[0];
    // Each stream's last token is sent just before the service's done event and the end of its
    // answer, so the host's end-of-stream work (settlement, audit, the complete event) runs while it
    // is on its way to the browser: the same figures without it show what that costs per token.
    long[] relayButLast = new long[0];
    long[] straightButLast = new long[0];
    long[] relayGc = new long[2];
    long[] directGc = new long[2];
    for (int i = 0; i < STREAMS; i++) {
      long[] before = gc();
      long[] relayStream = tokenLatencies(relayed);
      long[] between = gc();
      long[] directStreamTokens = tokenLatencies(directStream);
      long[] after = gc();
      relay = concat(relay, relayStream);
      straightTokens = concat(straightTokens, directStreamTokens);
      relayButLast = concat(relayButLast, Arrays.copyOf(relayStream, relayStream.length - 1));
      straightButLast = concat(straightButLast, Arrays.copyOf(directStreamTokens, directStreamTokens.length - 1));
      for (int k = 0; k < 2; k++) {
        relayGc[k] += between[k] - before[k];
        directGc[k] += after[k] - between[k];
      }
    }
    results.put(name + ".relay.tokens", relay.length);
    latencies(results, name + ".relay_but_last", straightButLast, relayButLast);
    // Collections of this JVM (the service and the browser; for the HttpServer example the host too)
    // while each side's streams ran, and their total time.
    results.put(name + ".relay.host.gc_count", (double) relayGc[0]);
    results.put(name + ".relay.host.gc_ms", (double) relayGc[1]);
    results.put(name + ".relay.direct.gc_count", (double) directGc[0]);
    results.put(name + ".relay.direct.gc_ms", (double) directGc[1]);
    latencies(results, name + ".relay", straightTokens, relay);
  }

  /**
   * Warms the relay and the direct stream until the JIT is done with them: pairs of streams, at least
   * {@link #WARMUP_STREAMS}, until two pairs in a row cost this JVM's compilers (the service's, the
   * browser's and an in-process host's) less than {@link #QUIET_COMPILE_MILLIS} and a host in a JVM of
   * its own less than that of JIT CPU; at most {@link #MAX_WARMUP_STREAMS}. With a fixed warm-up, C2
   * was still compiling the relay's path (Okio's buffer reads, the response body's close) during the
   * measured streams, and the relayed tokens' stalls of 1-4 ms fell at the same moments as those
   * compilations.
   *
   * @return the pairs of streams made
   */
  private int settleStreams(Request relayed, Request directStream, @Nullable LongSupplier hostJitCpu)
      throws IOException {
    int quietPairs = 0;
    for (int pair = 1; pair <= MAX_WARMUP_STREAMS; pair++) {
      long compileBefore = COMPILATION.getTotalCompilationTime();
      long hostJitBefore = hostJitCpu == null ? -1 : hostJitCpu.getAsLong();
      tokenLatencies(relayed);
      tokenLatencies(directStream);
      boolean hostQuiet = hostJitCpu == null || hostJitBefore < 0
          || hostJitCpu.getAsLong() - hostJitBefore < QUIET_COMPILE_MILLIS * 1_000_000L;
      boolean quiet = COMPILATION.getTotalCompilationTime() - compileBefore < QUIET_COMPILE_MILLIS && hostQuiet;
      quietPairs = quiet ? quietPairs + 1 : 0;
      if (pair >= WARMUP_STREAMS && quietPairs >= 2) {
        return pair;
      }
    }
    return MAX_WARMUP_STREAMS;
  }

  /**
   * More warm-up for a host in a JVM of its own, until its JIT is done: rounds of {@link
   * #WARMUP_ROUND} calls until its JIT compilers use less than {@link #JIT_DONE} of its CPU in two
   * rounds in a row (a single quiet round happens while C2 is still far from done), or, where {@code
   * hostJitCpu} cannot tell, until its CPU per call stops falling by a tenth from one round to the
   * next; at most {@link #MAX_WARMUP_ROUNDS}. The Spring example has far
   * more code to compile than the {@code HttpServer} one, and much of it runs once per request:
   * C2 compiles such a method after about 15,000 calls (HotSpot's {@code Tier4CompileThreshold}),
   * so after the fixed warm-up its compilers were still using a third to a half of its CPU, and
   * Spring's request path still ran in C1's profiling code, measured with it.
   *
   * @return the calls made
   */
  private int settle(Request viaHost, String direct, LongSupplier hostCpu, @Nullable LongSupplier hostJitCpu)
      throws IOException {
    double previous = Double.MAX_VALUE;
    int quietRounds = 0;
    for (int round = 1; round <= MAX_WARMUP_ROUNDS; round++) {
      long before = hostCpu.getAsLong();
      long jitBefore = hostJitCpu == null ? -1 : hostJitCpu.getAsLong();
      for (int i = 0; i < WARMUP_ROUND; i++) {
        call(viaHost);
        call(directRequest(direct));
      }
      double perCall = (hostCpu.getAsLong() - before) / 1_000.0 / WARMUP_ROUND;
      long jitAfter = hostJitCpu == null ? -1 : hostJitCpu.getAsLong();
      double jitPerCall = jitBefore < 0 || jitAfter < 0 ? -1 : (jitAfter - jitBefore) / 1_000.0 / WARMUP_ROUND;
      System.out.printf(java.util.Locale.ROOT, "# warm-up round %d: the host's CPU %.0f µs per call, its JIT's %.0f µs%n",
          round, perCall, jitPerCall);
      quietRounds = jitPerCall >= 0 && jitPerCall < perCall * JIT_DONE ? quietRounds + 1 : 0;
      if (jitPerCall >= 0 ? quietRounds == 2 : perCall > previous * 0.9) {
        return round * WARMUP_ROUND;
      }
      previous = perCall;
    }
    return MAX_WARMUP_ROUNDS * WARMUP_ROUND;
  }

  /** Median and p99 of the direct and the hosted samples, and the differences ({@code added}). */
  private static void latencies(HarnessResults results, String prefix, long[] direct, long[] hosted) {
    for (int p : new int[] {50, 99}) {
      double d = HarnessResults.percentileMicros(direct, p);
      double h = HarnessResults.percentileMicros(hosted, p);
      results.put(prefix + ".direct.p" + p + "_us", d);
      results.put(prefix + ".host.p" + p + "_us", h);
      results.put(prefix + ".added.p" + p + "_us", h - d);
    }
  }

  private static Request.Builder post(String url, String authorization) {
    return new Request.Builder().url(url).header("Authorization", authorization)
        .post(RequestBody.create(BODY, JSON_TYPE));
  }

  private static Request directRequest(String url) {
    return new Request.Builder().url(url).header("X-Service-Token", TOKEN).header("X-User-Id", "123")
        .header("X-Company-Id", "456").header("X-User-Role", "recruiter")
        .header("X-Request-Id", UUID.randomUUID().toString())
        .post(RequestBody.create(BODY, JSON_TYPE)).build();
  }

  /** One call, its whole body read; returns its nanoseconds. */
  private long call(Request request) throws IOException {
    long start = System.nanoTime();
    try (Response response = browser.newCall(request).execute()) {
      response.body().bytes();
      if (response.code() != 200) {
        throw new IOException(request.url().encodedPath() + " answered " + response.code());
      }
    }
    return System.nanoTime() - start;
  }

  /** One stream read line by line; each token's delay from its sending to its arrival. */
  private long[] tokenLatencies(Request request) throws IOException {
    long[] delays = new long[LoopbackService.TIMED_TOKENS];
    int n = 0;
    try (Response response = browser.newCall(request).execute()) {
      if (response.code() != 200) {
        throw new IOException(request.url().encodedPath() + " answered " + response.code());
      }
      BufferedSource body = response.body().source();
      for (String line = body.readUtf8Line(); line != null; line = body.readUtf8Line()) {
        long now = System.nanoTime();
        java.util.regex.Matcher sent = SENT.matcher(line);
        while (sent.find() && n < delays.length) {
          delays[n++] = now - Long.parseLong(sent.group(1));
        }
      }
    }
    if (n != delays.length) {
      throw new IOException(request.url().encodedPath() + ": " + n + " of " + delays.length + " tokens arrived");
    }
    return delays;
  }

  /** This JVM's garbage collections so far: their number and their total time in milliseconds. */
  private static long[] gc() {
    long count = 0;
    long millis = 0;
    for (java.lang.management.GarbageCollectorMXBean bean : COLLECTORS) {
      count += Math.max(0, bean.getCollectionCount());
      millis += Math.max(0, bean.getCollectionTime());
    }
    return new long[] {count, millis};
  }

  private static long[] concat(long[] a, long[] b) {
    long[] all = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
