package dev.llmgateway.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSourceListener;
import okhttp3.sse.EventSources;
import org.jspecify.annotations.Nullable;
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
 * Whole calls over loopback to {@link LoopbackService}, the SDK against what a host would write by
 * hand with the same libraries, in the same run:
 *
 * <ul>
 *   <li>sync chat ({@code SampleTime}: median and p99 per call): {@link #sdkSync} against {@link
 *       #rawSync}, an OkHttp POST with the contract's headers and a Jackson-written body, the 1 KiB
 *       answer read with {@code ObjectMapper.readTree};
 *   <li>a streamed answer of {@value LoopbackService#STREAM_TOKENS} tokens (time per stream, so
 *       events per second): {@link #sdkStream}, every event of a {@code ChatStream} read, against
 *       {@link #rawStream}, okhttp-sse's {@code EventSources.processResponse} with a {@code
 *       readTree} per event.
 * </ul>
 *
 * <p>{@link #listeners} picks the SDK client's listeners ({@link StarterListeners}): {@code
 * default} (the builder's defaults), {@code starter} (plus the Spring Boot starter's meters and
 * spans) or {@code none}; the raw baselines ignore it.
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LoopbackChatBenchmark {
  static final String CHAT_PATH = "api/v1/llm-chat/recruiter/chat";
  static final String STREAM_PATH = "api/v1/llm-chat/recruiter/chat/stream";
  private static final MediaType JSON_TYPE = MediaType.get("application/json");
  private static final String QUERY = "Find senior Rails engineers in Berlin";
  private static final String TOKEN = "svc-token-for-benchmarks-only-0123456789";

  /** The SDK client's listeners: {@code default}, {@code starter} or {@code none}. */
  @Param({StarterListeners.DEFAULT})
  public String listeners = StarterListeners.DEFAULT;

  private final ObjectMapper mapper = new ObjectMapper();
  private final UserContext user = UserContext.builder().userId("123").companyId("456").role("recruiter").build();
  private final ChatRequest request = ChatRequest.of(QUERY);
  LoopbackService service;
  private LlmGatewayClient client;
  private AutoCloseable listenerResources;
  private OkHttpClient raw;
  private String chatUrl;
  private String streamUrl;

  /** Starts the service and both clients. */
  @Setup
  public void setUp() throws IOException {
    service = LoopbackService.start();
    LlmGatewayClient.Builder builder = LlmGatewayClient.builder().baseUrl(service.url()).serviceToken(TOKEN)
        .environment(name -> null);
    listenerResources = StarterListeners.apply(builder, listeners);
    client = builder.build();
    raw = new OkHttpClient();
    chatUrl = service.url() + CHAT_PATH;
    streamUrl = service.url() + STREAM_PATH;
  }

  /** Closes everything. */
  @TearDown
  public void tearDown() throws Exception {
    client.close();
    listenerResources.close();
    raw.dispatcher().executorService().shutdown();
    raw.connectionPool().evictAll();
    service.close();
  }

  /** The SDK: one sync chat. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  public Object sdkSync() {
    return client.chat(request, user);
  }

  /** Baseline: the same call by hand with OkHttp and Jackson. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  public JsonNode rawSync() throws IOException {
    try (Response response = raw.newCall(rawRequest(chatUrl, "application/json")).execute()) {
      if (response.code() != 200) {
        throw new IOException("HTTP " + response.code());
      }
      return mapper.readTree(response.body().byteStream());
    }
  }

  /** The SDK: one streamed answer, every event read. */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  public int sdkStream(Blackhole hole) {
    return ChatStreamBenchmark.drain(client.chatStream(request, user), hole);
  }

  /** Baseline: the same stream by hand with okhttp-sse and a Jackson tree per event. */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  public int rawStream(Blackhole hole) throws IOException {
    int[] events = {0};
    Response response = raw.newCall(rawRequest(streamUrl, "text/event-stream")).execute();
    EventSources.processResponse(response, new EventSourceListener() {
      @Override
      public void onEvent(EventSource source, @Nullable String id, @Nullable String type, String data) {
        if (data.equals("[DONE]")) {
          return;
        }
        try {
          hole.consume(mapper.readTree(data));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        events[0]++;
      }
    });
    return events[0];
  }

  private Request rawRequest(String url, String accept) throws IOException {
    ObjectNode body = mapper.createObjectNode().put("query", QUERY);
    return new Request.Builder().url(url)
        .header("X-Service-Token", TOKEN)
        .header("X-User-Id", user.userId())
        .header("X-Company-Id", user.companyId())
        .header("X-User-Role", "recruiter")
        .header("X-Request-Id", UUID.randomUUID().toString())
        .header("Accept", accept)
        .post(RequestBody.create(mapper.writeValueAsBytes(body), JSON_TYPE))
        .build();
  }
}
