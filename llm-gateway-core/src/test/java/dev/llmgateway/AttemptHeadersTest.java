package dev.llmgateway;

import static dev.llmgateway.TestSupport.TOKEN;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.testkit.LogCapture;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;

/** {@link GatewayListener#attemptHeaders}: extra headers per attempt, never the SDK's own. */
class AttemptHeadersTest extends MockServerTest {
  /** What each {@code set} did: "name=ok" or "name=" + the exception's message. */
  private final List<String> results = new CopyOnWriteArrayList<>();

  private GatewayListener setting(Map<String, String> headers) {
    return new GatewayListener() {
      @Override
      public void attemptHeaders(CallInfo call, int attempt, HeaderSink sink) {
        headers.forEach((name, value) -> {
          try {
            sink.set(name, value.replace("#", Integer.toString(attempt)));
            results.add(name + "=ok");
          } catch (IllegalArgumentException | IllegalStateException e) {
            results.add(name + "=" + e.getMessage());
          }
        });
      }
    };
  }

  @Test
  void eachAttemptCarriesTheHeadersItsListenerAdds() throws Exception {
    useClient(clientBuilder().listenerFactory(call -> setting(Map.of("traceparent", "tp-#", "tracestate", "a=#"))));
    server.enqueue(json(503, "{}"));
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    RecordedRequest first = server.takeRequest(5, TimeUnit.SECONDS);
    RecordedRequest second = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(first.getHeaders().get("traceparent")).isEqualTo("tp-1");
    assertThat(first.getHeaders().get("tracestate")).isEqualTo("a=1");
    assertThat(second.getHeaders().get("traceparent")).isEqualTo("tp-2");
    assertThat(second.getHeaders().get("tracestate")).isEqualTo("a=2");
  }

  @Test
  void theSdksOwnHeadersCannotBeSetOrOverridden() throws Exception {
    Map<String, String> attempts = new java.util.LinkedHashMap<>();
    for (String name : List.of("Authorization", "authorization", "X-Service-Token", "X-User-Id", "x-user-role",
        "X-User-Anything", "X-Company-Id", "X-Company-Role", "X-Request-Id", "Idempotency-Key", "Content-Type",
        "Content-Length", "Accept", "User-Agent", "Host", "Cookie", "Transfer-Encoding", "Connection")) {
      attempts.put(name, "forged");
    }
    attempts.put("traceparent", "kept");
    useClient(clientBuilder().listenerFactory(call -> setting(attempts)));
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER, CallOptions.builder().requestId("req-1").idempotencyKey("key-1").build());

    RecordedRequest sent = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(sent.getHeaders().toString()).doesNotContain("forged");
    assertThat(sent.getHeaders().get("X-Service-Token")).isEqualTo(TOKEN);
    assertThat(sent.getHeaders().get("X-User-Id")).isEqualTo("123");
    assertThat(sent.getHeaders().get("X-Request-Id")).isEqualTo("req-1");
    assertThat(sent.getHeaders().get("Idempotency-Key")).isEqualTo("key-1");
    assertThat(sent.getHeaders().values("Authorization")).isEmpty();
    assertThat(sent.getHeaders().get("traceparent")).isEqualTo("kept");
    assertThat(results).filteredOn(r -> !r.startsWith("traceparent"))
        .hasSize(attempts.size() - 1)
        .allSatisfy(r -> assertThat(r).doesNotEndWith("=ok").doesNotContain("forged"));
  }

  @Test
  void invalidNamesAndValuesAreRefusedWithoutShowingTheValue() throws Exception {
    Map<String, String> attempts = new java.util.LinkedHashMap<>();
    attempts.put("traceparent", "00-secret\r\nX-Injected: yes");
    attempts.put("tracestate", "secret\nvalue");
    attempts.put("baggage", "caf\u00e9-secret");
    attempts.put("Bad Name", "v");
    attempts.put("Bad:Name", "v");
    attempts.put("", "v");
    attempts.put("x-long", "v".repeat(GatewayListener.HeaderSink.MAX_VALUE_LENGTH + 1));
    attempts.put("x-ok", "fine\tvalue");
    useClient(clientBuilder().listenerFactory(call -> setting(attempts)));
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    RecordedRequest sent = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(sent.getHeaders().get("X-Injected")).isNull();
    assertThat(sent.getHeaders().get("traceparent")).isNull();
    assertThat(sent.getHeaders().get("tracestate")).isNull();
    assertThat(sent.getHeaders().get("baggage")).isNull();
    assertThat(sent.getHeaders().get("x-long")).isNull();
    assertThat(sent.getHeaders().get("x-ok")).isEqualTo("fine\tvalue");
    assertThat(results).containsOnlyOnce("x-ok=ok").hasSize(attempts.size());
    assertThat(String.join("\n", results)).doesNotContain("secret");
  }

  @Test
  void theFirstListenerToSetAHeaderWinsAndAtMostEightAreAdded() throws Exception {
    Map<String, String> many = new java.util.LinkedHashMap<>();
    for (int i = 0; i < 10; i++) {
      many.put("x-extra-" + i, "own");
    }
    useClient(clientBuilder()
        .listener(setting(Map.of("x-extra-0", "shared")))
        .listenerFactory(call -> setting(many)));
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    RecordedRequest sent = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(sent.getHeaders().values("x-extra-0")).containsExactly("shared");
    assertThat(results).filteredOn(r -> r.endsWith("=ok")).hasSize(GatewayListener.HeaderSink.MAX_HEADERS);
    assertThat(sent.getHeaders().get("x-extra-8")).isNull();
    assertThat(sent.getHeaders().get("x-extra-9")).isNull();
  }

  @Test
  void aSinkKeptPastItsAttemptIsRefusedAndAThrowingListenerBreaksNothing() throws Exception {
    GatewayListener.HeaderSink[] kept = new GatewayListener.HeaderSink[1];
    useClient(clientBuilder().listenerFactory(call -> new GatewayListener() {
      @Override
      public void attemptHeaders(CallInfo c, int attempt, HeaderSink headers) {
        kept[0] = headers;
        headers.set("traceparent", "set");
        throw new IllegalStateException("the host's bug");
      }
    }));
    server.enqueue(chatOk());

    try (LogCapture logs = new LogCapture()) {
      assertThat(client.chat(ChatRequest.of("hi"), USER).answer()).isNotEmpty();
      assertThat(logs.allText()).contains("A GatewayListener or AuditSink threw");
    }

    assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("traceparent")).isEqualTo("set");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> kept[0].set("tracestate", "late")))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void streamsAndDirectStreamsAskToo() throws Exception {
    useClient(clientBuilder().listenerFactory(call -> setting(Map.of("traceparent", "tp-#"))));
    server.enqueue(ChatStreamTest.sse(ChatStreamTest.FULL));

    server.enqueue(ChatStreamTest.sse(ChatStreamTest.FULL));

    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      stream.completion();
    }
    String streamUrl = server.url("/api/v1/llm-chat/recruiter/chat/stream?token=t0k3n").toString();
    try (ChatStream direct = client.chatStreamFromUrl(streamUrl, USER, StreamOptions.DEFAULTS)) {
      direct.completion();
    }

    assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("traceparent")).isEqualTo("tp-1");
    RecordedRequest direct = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(direct.getMethod()).isEqualTo("GET");
    assertThat(direct.getHeaders().get("traceparent")).isEqualTo("tp-1");
  }
}
