package dev.llmgateway.benchmarks;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.UserContext;
import dev.llmgateway.micrometer.GatewayMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The whole per-call path against the in-process sandbox (no network): validation, JSON, headers,
 * retries bookkeeping, listener, audit, and for streams the SSE reading and event decoding.
 * Compares a sync chat with a streamed one of the same answer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ChatStreamBenchmark {
  private LlmGatewayClient client;

  /**
   * The per-call listeners: {@code none}, {@code micrometer} (llm-gateway-micrometer's factory
   * and shared listener on a {@code SimpleMeterRegistry}), to show what metrics add per call, or
   * {@code starter} (the Spring Boot starter's meters and spans, {@link StarterListeners}).
   */
  @Param({"none", "micrometer", StarterListeners.STARTER})
  public String listeners = "none";
  private AutoCloseable listenerResources = () -> { };
  private final UserContext user = UserContext.builder().userId("1").companyId("2").role("recruiter").build();
  private final ChatRequest request = ChatRequest.of("Find senior Rails engineers in Berlin");

  /** Builds a sandbox client without logging. */
  @Setup
  public void setUp() {
    LlmGatewayClient.Builder builder = LlmGatewayClient.builder().sandbox(true).environment(name -> null)
        .listener(dev.llmgateway.GatewayListener.none()).auditSink(dev.llmgateway.AuditSink.none());
    if (listeners.equals("micrometer")) {
      GatewayMetrics metrics = GatewayMetrics.builder(new SimpleMeterRegistry()).build();
      builder.listenerFactory(metrics.listenerFactory()).listener(metrics.listener());
    } else if (listeners.equals(StarterListeners.STARTER)) {
      listenerResources = StarterListeners.apply(builder, listeners);
    }
    client = builder.build();
  }

  /** Closes the client and the listeners' span pipeline. */
  @TearDown
  public void tearDown() throws Exception {
    client.close();
    listenerResources.close();
  }

  /** One sync chat. */
  @Benchmark
  public Object syncChat() {
    return client.chat(request, user);
  }

  /** One streamed chat, every event read. */
  @Benchmark
  public int streamedChat(Blackhole hole) {
    return drain(client.chatStream(request, user), hole);
  }

  /** Reads every event of a stream into the blackhole, then closes it; returns how many. */
  static int drain(ChatStream stream, Blackhole hole) {
    int events = 0;
    try (stream) {
      for (StreamEvent event : stream) {
        hole.consume(event);
        events++;
      }
    }
    return events;
  }
}
