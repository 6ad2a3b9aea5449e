package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import dev.llmgateway.testkit.Generators;
import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import dev.llmgateway.testkit.PropertyChecks;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.Test;

/**
 * Relaying a stream to a browser keeps every event: for generated streams served by a
 * MockWebServer (multi-line JSON, CR/LF/CRLF line ends, heartbeats, arbitrary chunking, any
 * Unicode in the tokens, now and then a token longer than an I/O buffer), what {@link SseRelay}
 * writes reads back as one {@code chunk} event per stream event whose data is the service's JSON
 * unchanged, then the {@code complete} event.
 *
 * <p>Checked on seeded, repeatable generated streams ({@link PropertyChecks}: a failure names the
 * seed and the case, and shows its stream), each served by a fresh MockWebServer.
 */
class SseRelayPropertyTest {
  static final int RUNS = 200;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** Pieces of text that JSON or the event stream must escape or could mistake for framing. */
  static final List<String> SPECIAL =
      List.of(
          "\r", "\n", "\r\n", "\"", "\\", "\u0000", "\u001f", "\u2028", "\u2029", "\uFEFF", ":",
          " ", "data: ", "[DONE]", "\"}", ",\"", "{\"type\":\"error\"}");

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

  /** An answer, and the size of the chunks the server sends it in. */
  record Relayed(Answer answer, int chunkSize) {}

  /** How one event is framed on the wire. */
  record Framing(boolean multiLine, String lineEnd, boolean pingBefore) {}

  @Test
  void relayedChunksReadBackAsTheOriginalEventsThenComplete() {
    PropertyChecks.forAll(
        RUNS,
        r -> new Relayed(answer(r), r.nextInt(1, 65)),
        SseRelayPropertyTest::relaysEveryEventThenComplete);
  }

  private static void relaysEveryEventThenComplete(Relayed input) throws IOException {
    Answer answer = input.answer();
    StringBuilder body = new StringBuilder();
    for (WireEvent event : answer.events()) {
      body.append(event.frame());
    }
    body.append("data: [DONE]\n\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RelayResult result;
    try (MockWebServer server = new MockWebServer()) {
      server.setServerSocketFactory(new NoDelayServerSocketFactory());
      server.start();
      server.enqueue(
          new MockResponse.Builder()
              .code(200)
              .setHeader("Content-Type", "text/event-stream")
              .chunkedBody(body.toString(), input.chunkSize())
              .build());
      try (LlmGatewayClient client = RelayFixtures.client(server).build();
          ChatStream stream = client.chatStream(ChatRequest.of("hi"), RelayFixtures.USER)) {
        result = SseRelay.ofDefaults().relay(stream, out);
      }
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

  /**
   * Valid Unicode (no unpaired surrogates), weighted toward what JSON and SSE must escape: up to 8
   * pieces, each a special piece, ASCII, BMP text or a supplementary character.
   */
  static String text(RandomGenerator r) {
    return Generators.concat(
        r,
        8,
        p ->
            switch (Generators.weighted(p, 3, 3, 2, 1)) {
              case 0 -> Generators.pick(p, SPECIAL);
              case 1 -> Generators.ascii(p, 8);
              case 2 -> Generators.validBmp(p, 4);
              default -> Generators.supplementary(p);
            });
  }

  /**
   * Ids (known ones or any text), up to 12 tokens (one in 8 answers has a token holding a line
   * longer than an I/O buffer), up to 3 other events, a framing per event, token counts up to 2^40.
   */
  static Answer answer(RandomGenerator r) {
    String sessionId = id(r);
    String messageId = id(r);
    List<String> tokens = Generators.listOf(r, 12, SseRelayPropertyTest::text);
    if (!tokens.isEmpty() && Generators.weighted(r, 7, 1) == 1) {
      int at = r.nextInt(tokens.size());
      tokens.set(at, tokens.get(at) + Generators.longLine(r) + text(r));
    }
    List<Boolean> extras = Generators.listOf(r, 3, RandomGenerator::nextBoolean);
    List<Framing> framings = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      framings.add(new Framing(r.nextBoolean(), Generators.pick(r, List.of("\n", "\r\n", "\r")), r.nextBoolean()));
    }
    long prompt = r.nextLong((1L << 40) + 1);
    long completion = r.nextLong((1L << 40) + 1);
    return answer(sessionId, messageId, tokens, extras, framings, prompt, completion);
  }

  private static String id(RandomGenerator r) {
    return r.nextBoolean() ? text(r) : Generators.pick(r, List.of("sess_1", "msg_2"));
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
