package dev.llmgateway.benchmarks;

import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import okhttp3.sse.internal.ServerSentEventReader;
import okio.Buffer;
import org.jetbrains.annotations.Nullable;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Reads a typical answer stream (a session event, 1,000 token events, done, {@code [DONE]}) with
 * the SDK's {@link SseReader} and, as the baseline in the same run, with okhttp-sse's reader.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SseReaderBenchmark {
  private byte[] stream;

  /** Builds the stream once. */
  @Setup
  public void setUp() {
    StringBuilder s = new StringBuilder();
    s.append("data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_1\"}\n\n");
    for (int i = 0; i < 1000; i++) {
      s.append("data: {\"type\":\"token\",\"content\":\" word").append(i).append("\"}\n\n");
      if (i % 100 == 0) {
        s.append(": ping\n\n");
      }
    }
    s.append("data: {\"type\":\"done\",\"finish_reason\":\"stop\"}\n\ndata: [DONE]\n\n");
    stream = s.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The SDK's reader. */
  @Benchmark
  public int sdkReader(Blackhole hole) throws IOException {
    int events = 0;
    SseReader reader = SseReader.create(new Buffer().write(stream));
    for (ServerSentEvent e = reader.next(); e != null; e = reader.next()) {
      hole.consume(e);
      events++;
    }
    return events;
  }

  /** Baseline: okhttp-sse's internal reader over the same bytes. */
  @Benchmark
  public int okhttpSseReader(Blackhole hole) throws IOException {
    int[] events = {0};
    ServerSentEventReader reader = new ServerSentEventReader(new Buffer().write(stream),
        new ServerSentEventReader.Callback() {
          @Override
          public void onEvent(@Nullable String id, @Nullable String type, String data) {
            hole.consume(data);
            events[0]++;
          }

          @Override
          public void onRetryChange(long timeMs) {}
        });
    while (reader.processNextEvent()) {
      // each call reads one event
    }
    return events[0];
  }
}
