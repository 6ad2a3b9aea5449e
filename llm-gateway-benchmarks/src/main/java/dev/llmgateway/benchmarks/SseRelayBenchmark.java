package dev.llmgateway.benchmarks;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.RelayResult;
import dev.llmgateway.host.SseRelay;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseWriter;
import java.io.IOException;
import java.io.OutputStream;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The relay's per-token path: {@link SseWriter} writing and flushing one {@code chunk} event per
 * token (its lock and its framing), and a whole sandbox answer relayed by {@link SseRelay} (reading,
 * decoding, writing, the heartbeat's bookkeeping) to a response that discards the bytes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SseRelayBenchmark {
  private static final int EVENTS = 1_000;
  private static final ServerSentEvent CHUNK =
      new ServerSentEvent("chunk", "{\"type\":\"token\",\"content\":\" engineer\"}", null);

  private final OutputStream discard = new OutputStream() {
    @Override
    public void write(int b) {
    }

    @Override
    public void write(byte[] b, int off, int len) {
    }
  };
  private final UserContext user = UserContext.builder().userId("1").companyId("2").role("recruiter").build();
  private final ChatRequest request = ChatRequest.of("Find senior Rails engineers in Berlin");
  private SseWriter writer;
  private LlmGatewayClient client;

  /** A writer flushing each event, as the relay's; a sandbox client without logging. */
  @Setup
  public void setUp() {
    writer = SseWriter.builder().flushEachWrite(true).build(discard);
    client = LlmGatewayClient.builder().sandbox(true).environment(name -> null)
        .listener(dev.llmgateway.GatewayListener.none()).auditSink(dev.llmgateway.AuditSink.none()).build();
  }

  /** Closes the client. */
  @TearDown
  public void tearDown() {
    client.close();
  }

  /**
   * One thousand token events written and flushed.
   *
   * @return the events written
   * @throws IOException never: the response discards
   */
  @Benchmark
  public int writeThousandChunks() throws IOException {
    for (int i = 0; i < EVENTS; i++) {
      writer.write(CHUNK);
    }
    return EVENTS;
  }

  /**
   * One sandbox answer relayed whole.
   *
   * @return how the relay ended
   */
  @Benchmark
  public RelayResult relayedChat() {
    try (ChatStream stream = client.chatStream(request, user)) {
      return SseRelay.ofDefaults().relay(stream, discard);
    }
  }
}
