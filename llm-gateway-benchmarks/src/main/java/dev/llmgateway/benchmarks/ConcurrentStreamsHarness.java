package dev.llmgateway.benchmarks;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.StreamHandle;
import dev.llmgateway.StreamListener;
import dev.llmgateway.UserContext;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Memory and threads with {@value #STREAMS} streams open at once, each having delivered its first
 * token, against a {@link LoopbackService} run in a separate JVM (its threads and buffers are not
 * this JVM's): {@code iterator} opens {@code ChatStream}s on the calling thread; {@code callback}
 * opens callback streams on a client whose callback executor makes a virtual thread per task
 * (JDK 21+; on an older JVM the figures are "n/a"). Reports the heap used after full collections
 * with all streams open (and before any was opened), and for callback streams the platform threads
 * started while they were opened.
 */
public final class ConcurrentStreamsHarness {
  static final int STREAMS = 1_000;
  private static final String TOKEN = "svc-token-for-benchmarks-only-0123456789";

  private ConcurrentStreamsHarness() {}

  /**
   * Runs the harness.
   *
   * @param args {@code iterator} or {@code callback}, then the JSON file to write
   * @throws Exception if a run fails
   */
  public static void main(String[] args) throws Exception {
    String mode = args[0];
    HarnessResults results = new HarnessResults();
    if (mode.equals("callback") && Runtime.version().feature() < 21) {
      results.notApplicable("callback.heap_mib", "virtual threads need JDK 21+; this is JDK " + Runtime.version());
      results.notApplicable("callback.platform_threads_started", "virtual threads need JDK 21+");
      results.write(Path.of(args[1]));
      return;
    }
    Process service = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), LoopbackService.class.getName())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      int port = Integer.parseInt(new BufferedReader(new InputStreamReader(service.getInputStream(),
          StandardCharsets.US_ASCII)).readLine().trim());
      String url = "http://127.0.0.1:" + port + "/hold/";
      if (mode.equals("iterator")) {
        iterator(url, results);
      } else {
        callback(url, results);
      }
    } finally {
      service.getOutputStream().close();
      service.destroy();
      service.waitFor(10, TimeUnit.SECONDS);
    }
    results.write(Path.of(args[1]));
    System.exit(0);
  }

  private static LlmGatewayClient.Builder client(String url) {
    return LlmGatewayClient.builder().baseUrl(url).serviceToken(TOKEN).environment(name -> null)
        .maxConcurrentRequests(STREAMS * 2).streamTimeout(java.time.Duration.ofMinutes(5));
  }

  private static void iterator(String url, HarnessResults results) throws Exception {
    UserContext user = user();
    ChatRequest request = ChatRequest.of("Find senior Rails engineers in Berlin");
    try (LlmGatewayClient client = client(url).build()) {
      // one stream first, so the classes and the connection pool exist in "before"
      try (ChatStream warm = client.chatStream(request, user)) {
        warm.iterator().next();
      }
      double before = HarnessResults.heapAfterGcMiB();
      List<ChatStream> open = new ArrayList<>(STREAMS);
      try {
        for (int i = 0; i < STREAMS; i++) {
          ChatStream stream = client.chatStream(request, user);
          open.add(stream);
          Iterator<StreamEvent> events = stream.iterator();
          events.next(); // session
          events.next(); // the first token
        }
        double after = HarnessResults.heapAfterGcMiB();
        results.put("iterator.streams", open.size());
        results.put("iterator.heap_before_mib", before);
        results.put("iterator.heap_mib", after);
        results.put("iterator.heap_per_stream_kib", (after - before) * 1024 / STREAMS);
      } finally {
        for (ChatStream stream : open) {
          stream.close();
        }
      }
    }
  }

  private static void callback(String url, HarnessResults results) throws Exception {
    UserContext user = user();
    ChatRequest request = ChatRequest.of("Find senior Rails engineers in Berlin");
    ExecutorService virtual = (ExecutorService) java.util.concurrent.Executors.class
        .getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (LlmGatewayClient client = client(url).callbackExecutor(virtual).build()) {
      CountDownLatch warmed = new CountDownLatch(1);
      StreamHandle warm = client.chatStream(request, user, firstToken(warmed, new AtomicInteger()));
      if (!warmed.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the first callback stream delivered no token");
      }
      warm.cancel();
      double before = HarnessResults.heapAfterGcMiB();
      long startedBefore = threads.getTotalStartedThreadCount();
      int platformBefore = threads.getThreadCount();
      CountDownLatch first = new CountDownLatch(STREAMS);
      AtomicInteger failures = new AtomicInteger();
      List<StreamHandle> open = new ArrayList<>(STREAMS);
      try {
        for (int i = 0; i < STREAMS; i++) {
          open.add(client.chatStream(request, user, firstToken(first, failures)));
        }
        if (!first.await(120, TimeUnit.SECONDS) || failures.get() > 0) {
          throw new IllegalStateException((STREAMS - first.getCount()) + " of " + STREAMS
              + " callback streams delivered a token; " + failures.get() + " failed");
        }
        long started = threads.getTotalStartedThreadCount() - startedBefore;
        int platformLive = threads.getThreadCount();
        double after = HarnessResults.heapAfterGcMiB();
        results.put("callback.streams", STREAMS);
        results.put("callback.heap_before_mib", before);
        results.put("callback.heap_mib", after);
        results.put("callback.platform_threads_started", started);
        results.put("callback.platform_threads_live_before", platformBefore);
        results.put("callback.platform_threads_live", platformLive);
      } finally {
        for (StreamHandle handle : open) {
          handle.cancel();
        }
        virtual.shutdown();
      }
    }
  }

  private static StreamListener firstToken(CountDownLatch latch, AtomicInteger failures) {
    return new StreamListener() {
      private boolean counted;

      @Override
      public void onToken(String content) {
        if (!counted) {
          counted = true;
          latch.countDown();
        }
      }

      @Override
      public void onError(LlmGatewayException error) {
        if (!counted) {
          failures.incrementAndGet();
          counted = true;
          latch.countDown();
        }
      }
    };
  }

  private static UserContext user() {
    return UserContext.builder().userId("123").companyId("456").role("recruiter").build();
  }
}
