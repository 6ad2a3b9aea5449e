package dev.llmgateway.benchmarks;

import dev.llmgateway.CallInfo;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.Operation;
import dev.llmgateway.Usage;
import java.time.Duration;
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

/**
 * What the Spring Boot starter's meters and spans ({@link StarterListeners}) cost one sync call,
 * without the call: the events a successful sync chat delivers (the factory's create, callStart,
 * attemptStart, attemptHeaders, attemptEnd, usageReported, callEnd), sent to the shared listener
 * and the call's own as the client sends them. {@link #listeners} picks {@code metrics} (the
 * meters' factory alone), {@code tracing} (the spans' alone) or {@code starter} (both composed, as
 * the starter wires them). The whole call's cost is in {@link LoopbackChatBenchmark}, whose noise
 * hides a few hundred nanoseconds; {@code -prof gc} here gives the listeners' bytes per call exactly.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StarterListenerBenchmark {
  /** Which per-call factory: {@code metrics}, {@code tracing} or {@code starter}. */
  @Param({"metrics", "tracing", "starter"})
  public String listeners = "starter";

  private final CallInfo call = new CallInfo(
      "7d3c2a10-5b1e-4f7a-9c11-2b8e6f0d4a93", Operation.CHAT, "POST", "/api/v1/llm-chat/recruiter/chat",
      "123", "456", "Find senior Rails engineers in Berlin");
  private final Duration latency = Duration.ofNanos(61_234);
  private final Usage usage = new Usage(120, 48, 168);
  private final CountingSink sink = new CountingSink();
  private StarterListeners starter;
  private GatewayListener.Factory factory = c -> GatewayListener.none();

  /** Builds the listeners. */
  @Setup
  public void setUp() {
    starter = new StarterListeners();
    switch (listeners) {
      case "metrics":
        factory = starter.metricsFactory;
        break;
      case "tracing":
        factory = starter.tracingFactory;
        break;
      case "starter":
        factory = starter.factory;
        break;
      default:
        throw new IllegalArgumentException("listeners must be metrics, tracing or starter: " + listeners);
    }
  }

  /** Stops the span pipeline. */
  @TearDown
  public void tearDown() {
    starter.close();
  }

  /** The listener events of one successful sync chat. */
  @Benchmark
  public int syncCallEvents() {
    GatewayListener l = GatewayListener.composite(starter.shared, factory.create(call));
    l.callStart(call);
    l.attemptStart(call, 1);
    l.attemptHeaders(call, 1, sink);
    l.attemptEnd(call, 1, 200, latency, null);
    l.usageReported(call, usage);
    l.callEnd(call, latency, null);
    return sink.chars;
  }

  /** Keeps what the listeners set (so it is not optimised away); checks nothing. */
  private static final class CountingSink implements GatewayListener.HeaderSink {
    int chars;

    @Override
    public void set(String name, String value) {
      chars += name.length() + value.length();
    }
  }
}
