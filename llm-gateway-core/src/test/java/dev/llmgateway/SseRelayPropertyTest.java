package dev.llmgateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * Relaying a stream to a browser keeps every event: for generated streams served by a
 * MockWebServer (multi-line JSON, CR/LF/CRLF line ends, heartbeats, arbitrary chunking, any
 * Unicode in the tokens), what {@link SseRelay} writes reads back as one {@code chunk} event per
 * stream event whose data is the service's JSON unchanged, then the {@code complete} event.
 */
class SseRelayPropertyTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private MockWebServer server;
  private LlmGatewayClient client;

  @BeforeProperty
  void startServer() throws IOException {
    server = new MockWebServer();
    server.setServerSocketFactory(new NoDelayServerSocketFactory());
    server.start();
    client = TestSupport.client(server, new FakeTime()).build();
  }

  @AfterProperty
  void stopServer() {
    client.close();
    server.close();
  }

  /**
   * One upstream event as the service would send it: its JSON (on several lines when its fields are
   * joined with LF, as a pretty-printing server might) and how it is framed.
   */
  record WireEvent(String json, String lineEnd, boolean pingBefore) {
    String frame() {
      StringBuilder sb = new StringBuilder();
      if (pingBefore) {
        sb.append(": ping").append(lineEnd);
      }
      for (String line : json.split("\n", -1)) {
        sb.append("data: ").append(line).append(lineEnd);
      }
      return sb.append(lineEnd).toString();
    }
  }

  /** A whole answer: session, intent, tokens and other events, done. */
  record Answer(String sessionId, String messageId, List<WireEvent> events, String text, long promptTokens, long completionTokens) {}

  @Property(tries = 200)
  void relayedChunksReadBackAsTheOriginalEventsThenComplete(
      @ForAll("answers") Answer answer, @ForAll @IntRange(min = 1, max = 64) int chunkSize)
      throws IOException {
    StringBuilder body = new StringBuilder();
    for (WireEvent event : answer.events()) {
      body.append(event.frame());
    }
    body.append("data: [DONE]\n\n");
    server.enqueue(
        new MockResponse.Builder()
            .code(200)
            .setHeader("Content-Type", "text/event-stream")
            .chunkedBody(body.toString(), chunkSize)
            .build());

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RelayResult result;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), TestSupport.USER)) {
      result = SseRelay.ofDefaults().relay(stream, out);
    }

    assertThat(result.outcome()).isEqualTo(RelayResult.Outcome.COMPLETED);
    assertThat(result.text()).isEqualTo(answer.text());
    List<ServerSentEvent> relayed = new ArrayList<>();
    Duration retry;
    try (SseReader reader = SseReader.create(new ByteArrayInputStream(out.toByteArray()))) {
      for (ServerSentEvent e = reader.next(); e != null; e = reader.next()) {
        relayed.add(e);
      }
      retry = reader.retry();
    }
    assertThat(retry).isEqualTo(SseRelay.DEFAULT_RECONNECT_DELAY);

    List<String> original = answer.events().stream().map(WireEvent::json).toList();
    assertThat(relayed).hasSize(original.size() + 1);
    List<ServerSentEvent> chunks = relayed.subList(0, original.size());
    assertThat(chunks).extracting(ServerSentEvent::type).containsOnly("chunk");
    assertThat(chunks).extracting(ServerSentEvent::data).containsExactlyElementsOf(original);

    ServerSentEvent complete = relayed.get(relayed.size() - 1);
    assertThat(complete.type()).isEqualTo("complete");
    JsonNode json = MAPPER.readTree(complete.data());
    assertThat(json.get("done").booleanValue()).isTrue();
    assertThat(json.get("session_id").textValue()).isEqualTo(answer.sessionId());
    assertThat(json.get("message_id").textValue()).isEqualTo(answer.messageId());
    assertThat(json.get("finish_reason").textValue()).isEqualTo("stop");
    assertThat(json.get("usage").get("prompt_tokens").longValue()).isEqualTo(answer.promptTokens());
    assertThat(json.get("usage").get("total_tokens").longValue())
        .isEqualTo(answer.promptTokens() + answer.completionTokens());
    assertThat(json.get("request_id").textValue()).isEqualTo(result.completion().requestId());
  }

  // ---------------------------------------------------------------- generators

  /** Valid Unicode (no unpaired surrogates), weighted toward what JSON and SSE must escape. */
  @Provide
  Arbitrary<String> texts() {
    Arbitrary<String> special =
        Arbitraries.of(
            "\r", "\n", "\r\n", "\"", "\\", "\u0000", "\u001f", "\u2028", "\u2029", "\uFEFF", ":",
            " ", "data: ", "[DONE]", "\"}", ",\"", "{\"type\":\"error\"}");
    Arbitrary<String> ascii = Arbitraries.strings().ascii().ofMaxLength(8);
    Arbitrary<String> bmp =
        Arbitraries.strings()
            .withCharRange('\u0000', '\uD7FF')
            .withCharRange('\uE000', '\uFFFF')
            .ofMaxLength(4);
    Arbitrary<String> supplementary =
        Arbitraries.integers().between(0x10000, Character.MAX_CODE_POINT).map(Character::toString);
    return Arbitraries.frequencyOf(
            Tuple.of(3, special), Tuple.of(3, ascii), Tuple.of(2, bmp), Tuple.of(1, supplementary))
        .list()
        .ofMaxSize(8)
        .map(pieces -> String.join("", pieces));
  }

  @Provide
  Arbitrary<Answer> answers() {
    Arbitrary<String> ids = Arbitraries.oneOf(Arbitraries.of("sess_1", "msg_2"), texts());
    Arbitrary<List<String>> tokens = texts().list().ofMaxSize(12);
    Arbitrary<List<Boolean>> extras = Arbitraries.of(true, false).list().ofMaxSize(3);
    Arbitrary<List<Framing>> framings = framings().list().ofMinSize(20).ofMaxSize(20);
    Arbitrary<Long> counts = Arbitraries.longs().between(0, 1L << 40);
    return Combinators.combine(ids, ids, tokens, extras, framings, counts, counts)
        .as(SseRelayPropertyTest::answer);
  }

  /** How one event is framed on the wire. */
  record Framing(boolean multiLine, String lineEnd, boolean pingBefore) {}

  @Provide
  Arbitrary<Framing> framings() {
    return Combinators.combine(
            Arbitraries.of(true, false),
            Arbitraries.of("\n", "\r\n", "\r"),
            Arbitraries.of(true, false))
        .as(Framing::new);
  }

  private static Answer answer(
      String sessionId,
      String messageId,
      List<String> tokens,
      List<Boolean> extras,
      List<Framing> framings,
      long prompt,
      long completion) {
    List<ObjectNode> json = new ArrayList<>();
    json.add(MAPPER.createObjectNode().put("type", "session").put("session_id", sessionId).put("message_id", messageId));
    json.add(MAPPER.createObjectNode().put("type", "intent").put("intent", "search"));
    for (String token : tokens) {
      json.add(MAPPER.createObjectNode().put("type", "token").put("content", token));
    }
    for (boolean candidates : extras) {
      if (candidates) {
        ObjectNode event = MAPPER.createObjectNode().put("type", "candidates");
        event.putArray("candidates").addObject().put("profile_id", "id_1a2b3c4d").put("name", tokens.isEmpty() ? "" : tokens.get(0));
        json.add(event);
      } else {
        // A type this SDK does not know: passed through, and relayed like any other.
        json.add(MAPPER.createObjectNode().put("type", "thinking").put("note", String.join("", tokens)));
      }
    }
    ObjectNode done = MAPPER.createObjectNode().put("type", "done").put("finish_reason", "stop");
    done.putObject("usage").put("prompt_tokens", prompt).put("completion_tokens", completion);
    json.add(done);

    List<WireEvent> events = new ArrayList<>();
    for (int i = 0; i < json.size(); i++) {
      Framing f = framings.get(i % framings.size());
      events.add(new WireEvent(text(json.get(i), f.multiLine() ? ",\n" : ","), f.lineEnd(), f.pingBefore()));
    }
    return new Answer(sessionId, messageId, events, String.join("", tokens), prompt, completion);
  }

  /** The object's JSON with its top-level fields joined by {@code separator}. */
  private static String text(ObjectNode node, String separator) {
    List<String> fields = new ArrayList<>();
    node.properties().forEach(field -> fields.add(quote(field.getKey()) + ":" + field.getValue()));
    return "{" + String.join(separator, fields) + "}";
  }

  private static String quote(String key) {
    return MAPPER.getNodeFactory().textNode(key).toString();
  }
}
