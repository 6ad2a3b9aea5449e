package dev.llmgateway.benchmarks;

import dev.llmgateway.CallInfo;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.Operation;
import dev.llmgateway.Usage;
import dev.llmgateway.micrometer.GatewayMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What llm-gateway-micrometer's per-call listener costs a call, alone (the whole call's cost is
 * in {@link ChatStreamBenchmark}, whose noise hides it): the events of one successful stream
 * (create, callStart, attemptStart/End, firstEvent, usage, callEnd) on a {@code SimpleMeterRegistry}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MetricsListenerBenchmark {
  private final CallInfo call = new CallInfo("r", Operation.CHAT_STREAM, "POST", "/p", "u", "c", "q");
  private final Duration latency = Duration.ofMillis(12);
  private final Usage usage = new Usage(120, 48, 168);
  private GatewayListener.Factory factory = c -> GatewayListener.none();

  /** Builds the metrics on a fresh registry. */
  @Setup
  public void setUp() {
    factory = GatewayMetrics.builder(new SimpleMeterRegistry()).build().listenerFactory();
  }

  /** The events of one successful stream. */
  @Benchmark
  public GatewayListener streamEvents() {
    GatewayListener l = factory.create(call);
    l.callStart(call);
    l.attemptStart(call, 1);
    l.attemptEnd(call, 1, 200, latency, null);
    l.firstEvent(call, latency);
    l.usageReported(call, usage);
    l.callEnd(call, latency, null);
    return l;
  }
}
