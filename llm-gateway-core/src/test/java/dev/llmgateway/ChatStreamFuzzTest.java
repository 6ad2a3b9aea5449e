package dev.llmgateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.StreamDecoder;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseLimitExceededException;
import dev.llmgateway.sse.SseReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes a whole stream through the public API: arbitrary bytes as the body of a {@code
 * text/event-stream} answer, read with {@link LlmGatewayClient#chatStream}. The answer comes from an
 * OkHttp interceptor, so no socket is opened and one input takes microseconds.
 *
 * <p>A fuzz input is {@code [flags][body...]}; bit 0 of the flags selects {@link
 * StreamOptions.Builder#strict(boolean) strict} mode. The events and the ending must be what a model
 * built from {@link SseReader} and {@link StreamDecoder} predicts: the decoded events in order, then
 * a completion, or exactly the documented exception ({@link StreamErrorException}, {@link
 * StreamInterruptedException}, {@link InvalidResponseException} for an oversized event or, in strict
 * mode, an undecodable one, {@link TransportException} for a stream that ends before its
 * first event). Anything else, such as a {@code NullPointerException}, fails.
 */
class ChatStreamFuzzTest {
  private static final int MAX_EVENT_BYTES = 1024;
  private static final MediaType EVENT_STREAM = MediaType.get("text/event-stream");
  private static final UserContext USER =
      UserContext.builder().userId("123").companyId("456").role("recruiter").build();

  private static volatile byte[] body = new byte[0];
  private static @Nullable LlmGatewayClient client;

  @BeforeAll
  static void startClient() {
    OkHttpClient http =
        new OkHttpClient.Builder()
            .addInterceptor(
                chain ->
                    new Response.Builder()
                        .request(chain.request())
                        .protocol(Protocol.HTTP_1_1)
                        .code(200)
                        .message("OK")
                        .header("Content-Type", "text/event-stream")
                        .body(ResponseBody.create(body, EVENT_STREAM))
                        .build())
            .build();
    client =
        LlmGatewayClient.builder()
            .baseUrl("http://llm.test/")
            .serviceToken("svc-token-fuzz")
            .environment(name -> null)
            .okHttpClient(http)
            .retryPolicy(RetryPolicy.none())
            .circuitBreaker(CircuitBreaker.disabled())
            .build();
  }

  @AfterAll
  static void closeClient() {
    if (client != null) {
      client.close();
    }
  }

  /** How a stream ends. */
  enum Ending {
    COMPLETED,
    STREAM_ERROR,
    INTERRUPTED,
    INVALID_RESPONSE,
    UNAVAILABLE
  }

  /** What the model predicts for a body. */
  record Prediction(
      List<StreamEvent> events,
      Ending ending,
      String text,
      int skipped,
      StreamDecoder.@Nullable ServiceError error) {}

  @FuzzTest(maxDuration = "30s")
  void readsArbitraryStreams(byte[] raw) {
    boolean strict = raw.length > 0 && (raw[0] & 1) != 0;
    byte[] bytes = raw.length > 0 ? Arrays.copyOfRange(raw, 1, raw.length) : new byte[0];
    Prediction expected = predict(bytes, strict);

    body = bytes;
    StreamOptions options = StreamOptions.builder().strict(strict).maxEventBytes(MAX_EVENT_BYTES).build();
    List<StreamEvent> events = new ArrayList<>();
    LlmGatewayException failure = null;
    StreamCompletion completion = null;
    try (ChatStream stream = client.chatStream(ChatRequest.of("fuzz"), USER, options)) {
      try {
        for (StreamEvent event : stream) {
          events.add(event);
        }
        completion = stream.completion();
      } catch (LlmGatewayException e) {
        failure = e;
      }
    } catch (LlmGatewayException e) {
      fail("opening a 200 text/event-stream answer failed", e);
    }

    assertThat(events).as("events").isEqualTo(expected.events());
    switch (expected.ending()) {
      case COMPLETED -> {
        assertThat(failure).as("failure").isNull();
        assertThat(completion.text()).isEqualTo(expected.text());
        assertThat(completion.skippedEvents()).isEqualTo(expected.skipped());
      }
      case STREAM_ERROR -> {
        assertThat(failure).isInstanceOf(StreamErrorException.class);
        StreamErrorException e = (StreamErrorException) failure;
        assertThat(e.code()).isEqualTo(expected.error().code());
        assertThat(e.serviceMessage()).isEqualTo(expected.error().message());
        assertThat(e.retryable()).isEqualTo(expected.error().retryable());
        assertThat(e.partialText()).isEqualTo(expected.text());
      }
      case INTERRUPTED -> {
        assertThat(failure).isInstanceOf(StreamInterruptedException.class);
        assertThat(((StreamInterruptedException) failure).partialText()).isEqualTo(expected.text());
      }
      case INVALID_RESPONSE -> assertThat(failure).isInstanceOf(InvalidResponseException.class);
      case UNAVAILABLE -> assertThat(failure).isInstanceOf(TransportException.class);
    }
  }

  /** What the client must do with {@code bytes}, from the reader, the decoder and the contract. */
  static Prediction predict(byte[] bytes, boolean strict) {
    List<StreamEvent> events = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    int skipped = 0;
    boolean delivered = false;
    boolean done = false;
    try (SseReader reader =
        SseReader.builder().maxEventSize(MAX_EVENT_BYTES).build(new Buffer().write(bytes))) {
      while (true) {
        ServerSentEvent sse;
        try {
          sse = reader.next();
        } catch (SseLimitExceededException e) {
          return new Prediction(events, Ending.INVALID_RESPONSE, text.toString(), skipped, null);
        }
        if (sse == null) {
          Ending ending = done ? Ending.COMPLETED : delivered ? Ending.INTERRUPTED : Ending.UNAVAILABLE;
          return new Prediction(events, ending, text.toString(), skipped, null);
        }
        if (sse.data().equals("[DONE]")) {
          return new Prediction(events, Ending.COMPLETED, text.toString(), skipped, null);
        }
        JsonNode node = StreamDecoder.parseObject(sse.data());
        Object decoded;
        try {
          decoded = node == null ? null : StreamDecoder.decode(node, sse.data());
        } catch (Json.MalformedJsonException e) {
          decoded = null;
        }
        if (decoded == null) {
          if (strict) {
            return new Prediction(events, Ending.INVALID_RESPONSE, text.toString(), skipped, null);
          }
          skipped++;
        } else if (decoded instanceof StreamDecoder.ServiceError error) {
          return new Prediction(events, Ending.STREAM_ERROR, text.toString(), skipped, error);
        } else {
          StreamEvent event = (StreamEvent) decoded;
          events.add(event);
          delivered = true;
          done |= event instanceof StreamEvent.Done;
          if (event instanceof StreamEvent.Token token) {
            text.append(token.content());
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
