package dev.llmgateway.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallInfo;
import dev.llmgateway.CallOptions;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.CreditSettlement;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Operation;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServerErrorException;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.Sleeper;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.UserContext;
import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import dev.llmgateway.testkit.SseResponses;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link GatewayTracing}: a span per call under the host's span, and its context sent on every attempt. */
class GatewayTracingTest {
  static final String QUERY = "Find senior Rails engineers in Berlin";
  static final UserContext USER =
      UserContext.builder().userId("user-123").companyId("company-456").role("recruiter").build();
  static final String CHAT_JSON = "{\"session_id\":\"sess_8f14e45f\",\"message_id\":\"msg_01\","
      + "\"intent\":\"search\",\"answer\":\"I found 3 candidates\",\"candidates\":[],\"actions\":[],"
      + "\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":48,\"total_tokens\":168},\"model\":\"recruiter-v3\"}";
  static final String SESSION = "data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_2\"}\n\n";
  static final String HELLO = "data: {\"type\":\"token\",\"content\":\"Hello\"}\n\n";
  static final String DONE = "data: {\"type\":\"done\",\"finish_reason\":\"stop\","
      + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\ndata: [DONE]\n\n";

  final MockWebServer server = new MockWebServer();
  final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  final OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
      .build();
  final Tracer host = otel.getTracer("host");
  /** Runs the retries of asynchronous calls on a thread where another trace's span is current. */
  final ExecutorService foreignThread = Executors.newSingleThreadExecutor();
  final Span foreign = host.spanBuilder("some other request").startSpan();
  LlmGatewayClient client;

  @BeforeEach
  void start() throws IOException {
    server.setServerSocketFactory(new NoDelayServerSocketFactory());
    server.start();
    client = clientBuilder(GatewayTracing.create(otel)).build();
  }

  LlmGatewayClient.Builder clientBuilder(GatewayTracing tracing) {
    Sleeper noWait = new Sleeper() {
      @Override
      public void sleep(Duration duration) {}

      @Override
      public CompletionStage<Void> delay(Duration duration) {
        return CompletableFuture.runAsync(() -> {}, Context.root().with(foreign).wrap(foreignThread));
      }
    };
    return LlmGatewayClient.builder()
        .baseUrl(server.url("/").toString())
        .serviceToken("svc-token-SECRET")
        .environment(name -> null)
        .sleeper(noWait)
        .retryPolicy(RetryPolicy.builder().jitter(0).build())
        .listenerFactory(tracing.listenerFactory());
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
    foreignThread.shutdownNow();
    otel.close();
  }

  static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
  }

  /** The spans the client made (not the test's host spans). */
  List<SpanData> callSpans() {
    return exporter.getFinishedSpanItems().stream()
        .filter(s -> s.getInstrumentationScopeInfo().getName().equals(GatewayTracing.INSTRUMENTATION_SCOPE))
        .toList();
  }

  SpanData onlyCallSpan() {
    assertThat(callSpans()).hasSize(1);
    return callSpans().get(0);
  }

  static String traceparentOf(SpanData span) {
    return "00-" + span.getTraceId() + "-" + span.getSpanId() + "-" + span.getSpanContext().getTraceFlags().asHex();
  }

  static <T> T attr(SpanData span, AttributeKey<T> key) {
    return span.getAttributes().get(key);
  }

  /** No attribute or event of the span holds the query, the user's ids or the service token. */
  static void assertNothingPrivate(SpanData span) {
    StringBuilder all = new StringBuilder(span.getName()).append(span.getAttributes()).append(span.getStatus());
    for (EventData event : span.getEvents()) {
      all.append(event.getName()).append(event.getAttributes());
    }
    assertThat(all.toString()).doesNotContain("Rails", "user-123", "company-456", "SECRET");
  }

  @Test
  void aChatIsOneClientSpanUnderTheHostsSpanAndItsRequestCarriesThatSpan() throws Exception {
    server.enqueue(json(200, CHAT_JSON));
    Span request = host.spanBuilder("GET /search").startSpan();

    try (Scope ignored = request.makeCurrent()) {
      client.chat(ChatRequest.of(QUERY), USER, CallOptions.builder().requestId("req-1").build());
    } finally {
      request.end();
    }

    SpanData span = onlyCallSpan();
    assertThat(span.getName()).isEqualTo("llm-gateway chat");
    assertThat(span.getKind()).isEqualTo(SpanKind.CLIENT);
    assertThat(span.getTraceId()).isEqualTo(request.getSpanContext().getTraceId());
    assertThat(span.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
    assertThat(attr(span, AttributeKey.stringKey("llm_gateway.operation"))).isEqualTo("chat");
    assertThat(attr(span, AttributeKey.stringKey("http.request.method"))).isEqualTo("POST");
    assertThat(attr(span, AttributeKey.stringKey("llm_gateway.request_id"))).isEqualTo("req-1");
    assertThat(attr(span, AttributeKey.longKey("llm_gateway.attempts"))).isEqualTo(1L);
    assertThat(attr(span, AttributeKey.longKey("http.response.status_code"))).isEqualTo(200L);
    assertThat(attr(span, AttributeKey.longKey("gen_ai.usage.input_tokens"))).isEqualTo(120L);
    assertThat(attr(span, AttributeKey.longKey("gen_ai.usage.output_tokens"))).isEqualTo(48L);
    assertThat(attr(span, AttributeKey.stringKey("llm_gateway.outcome"))).isEqualTo("success");
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(attr(span, AttributeKey.stringKey("user.id"))).isNull();
    assertNothingPrivate(span);

    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getHeaders().get("traceparent")).isEqualTo(traceparentOf(span));
  }

  @Test
  void userIdsAreRecordedOnlyWhenTheHostOptsIn() {
    client.close();
    client = clientBuilder(GatewayTracing.builder(otel).recordUserIds(true).build()).build();
    server.enqueue(json(200, CHAT_JSON));

    client.chat(ChatRequest.of(QUERY), USER);

    assertThat(attr(onlyCallSpan(), AttributeKey.stringKey("user.id"))).isEqualTo("user-123");
    assertThat(attr(onlyCallSpan(), AttributeKey.stringKey("llm_gateway.company_id"))).isEqualTo("company-456");
  }

  @Test
  void aStreamsSpanHoldsItsFirstEventAndUsage() throws Exception {
    server.enqueue(SseResponses.sse(SESSION + HELLO + DONE, 7));
    Span request = host.spanBuilder("GET /stream").startSpan();

    try (Scope ignored = request.makeCurrent(); ChatStream stream = client.chatStream(ChatRequest.of(QUERY), USER)) {
      stream.completion();
    } finally {
      request.end();
    }

    SpanData span = onlyCallSpan();
    assertThat(span.getName()).isEqualTo("llm-gateway chat_stream");
    assertThat(span.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
    assertThat(span.getEvents()).extracting(EventData::getName).containsExactly("llm_gateway.first_event");
    assertThat(attr(span, AttributeKey.longKey("llm_gateway.time_to_first_event_ms"))).isNotNull();
    assertThat(attr(span, AttributeKey.longKey("gen_ai.usage.input_tokens"))).isEqualTo(5L);
    assertThat(attr(span, AttributeKey.longKey("gen_ai.usage.output_tokens"))).isEqualTo(2L);
    assertThat(attr(span, AttributeKey.stringKey("llm_gateway.outcome"))).isEqualTo("success");
    assertThat(server.takeRequest().getHeaders().get("traceparent")).isEqualTo(traceparentOf(span));
  }

  @Test
  void aRetriedCallIsOneSpanWithARetryEventAndEveryAttemptCarriesItsContext() throws Exception {
    server.enqueue(json(503, "{\"detail\":\"busy\"}"));
    server.enqueue(json(200, CHAT_JSON));
    Span request = host.spanBuilder("GET /search").startSpan();

    try (Scope ignored = request.makeCurrent()) {
      client.chat(ChatRequest.of(QUERY), USER);
    } finally {
      request.end();
    }

    SpanData span = onlyCallSpan();
    assertThat(attr(span, AttributeKey.longKey("llm_gateway.attempts"))).isEqualTo(2L);
    assertThat(span.getEvents()).hasSize(1);
    EventData retry = span.getEvents().get(0);
    assertThat(retry.getName()).isEqualTo("llm_gateway.retry");
    assertThat(retry.getAttributes().get(AttributeKey.longKey("llm_gateway.attempt"))).isEqualTo(2L);
    assertThat(retry.getAttributes().get(AttributeKey.longKey("llm_gateway.retry.delay_ms"))).isEqualTo(500L);
    assertThat(retry.getAttributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(503L);
    assertThat(retry.getAttributes().get(AttributeKey.stringKey("error.type")))
        .isEqualTo(ServiceUnavailableException.class.getName());
    for (int i = 0; i < 2; i++) {
      RecordedRequest attempt = server.takeRequest();
      assertThat(attempt.getHeaders().get("traceparent")).isEqualTo(traceparentOf(span));
      assertThat(attempt.getHeaders().get("traceparent")).contains(request.getSpanContext().getTraceId());
    }
  }

  @Test
  void anAsynchronousRetrySendsTheCallsContextNotTheContextOfTheThreadSendingIt() throws Exception {
    server.enqueue(json(503, "{\"detail\":\"busy\"}"));
    server.enqueue(json(200, CHAT_JSON));
    Span request = host.spanBuilder("GET /search").startSpan();

    CompletableFuture<?> answer;
    try (Scope ignored = request.makeCurrent()) {
      answer = client.chatAsync(ChatRequest.of(QUERY), USER);
    } finally {
      request.end();
    }
    answer.get(10, TimeUnit.SECONDS);

    SpanData span = onlyCallSpan();
    assertThat(span.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
    assertThat(server.takeRequest().getHeaders().get("traceparent")).isEqualTo(traceparentOf(span));
    RecordedRequest retried = server.takeRequest();
    assertThat(retried.getHeaders().get("traceparent"))
        .isEqualTo(traceparentOf(span))
        .doesNotContain(foreign.getSpanContext().getTraceId());
  }

  @Test
  void aFailedCallIsAnErrorSpanThatKeepsNeitherTheMessageNorTheQuery() {
    server.enqueue(json(500, "{\"detail\":\"model crashed on: " + QUERY + "\"}"));

    Throwable thrown = catchThrowable(() -> client.chat(ChatRequest.of(QUERY), USER));

    assertThat(thrown).isInstanceOf(ServerErrorException.class).hasMessageContaining("Rails");
    SpanData span = onlyCallSpan();
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(attr(span, AttributeKey.stringKey("llm_gateway.outcome"))).isEqualTo("error");
    assertThat(attr(span, AttributeKey.stringKey("error.type"))).isEqualTo(ServerErrorException.class.getName());
    assertThat(attr(span, AttributeKey.longKey("http.response.status_code"))).isEqualTo(500L);
    assertThat(span.getEvents()).extracting(EventData::getName).containsExactly("exception");
    assertThat(span.getEvents().get(0).getAttributes().get(AttributeKey.stringKey("exception.type")))
        .isEqualTo(ServerErrorException.class.getName());
    assertNothingPrivate(span);
  }

  @Test
  void aCancelledStreamEndsItsSpanAsCancelledNotAsAnError() {
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(SseResponses.stalled(SESSION + HELLO, release));
    try {
      ChatStream stream = client.chatStream(ChatRequest.of(QUERY), USER);
      Iterator<StreamEvent> events = stream.iterator();
      events.next();
      stream.cancel();
      assertThat(catchThrowable(events::hasNext)).isInstanceOf(CallCancelledException.class);
      stream.close();
    } finally {
      release.countDown();
    }

    SpanData span = onlyCallSpan();
    assertThat(attr(span, AttributeKey.stringKey("llm_gateway.outcome"))).isEqualTo("cancelled");
    assertThat(attr(span, AttributeKey.stringKey("error.type"))).isEqualTo(CallCancelledException.class.getName());
    assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(span.getEvents()).extracting(EventData::getName).containsExactly("llm_gateway.first_event");
  }

  @Test
  void concurrentCallsEachHaveTheirOwnSpanUnderTheirOwnHostSpan() throws Exception {
    CountDownLatch bothArrived = new CountDownLatch(2);
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        bothArrived.countDown();
        bothArrived.await(10, TimeUnit.SECONDS);
        return json(200, CHAT_JSON);
      }
    });
    ExecutorService callers = Executors.newFixedThreadPool(2);
    Span first = host.spanBuilder("request A").startSpan();
    Span second = host.spanBuilder("request B").startSpan();
    try {
      Future<?> a = callers.submit(() -> callUnder(first, "req-a"));
      Future<?> b = callers.submit(() -> callUnder(second, "req-b"));
      a.get(10, TimeUnit.SECONDS);
      b.get(10, TimeUnit.SECONDS);
    } finally {
      callers.shutdownNow();
    }

    assertThat(callSpans()).hasSize(2);
    for (int i = 0; i < 2; i++) {
      RecordedRequest sent = server.takeRequest();
      String requestId = sent.getHeaders().get("X-Request-Id");
      Span hostSpan = requestId.equals("req-a") ? first : second;
      SpanData span = callSpans().stream()
          .filter(s -> requestId.equals(attr(s, AttributeKey.stringKey("llm_gateway.request_id"))))
          .findFirst().orElseThrow();
      assertThat(span.getParentSpanId()).isEqualTo(hostSpan.getSpanContext().getSpanId());
      assertThat(span.getTraceId()).isEqualTo(hostSpan.getSpanContext().getTraceId());
      assertThat(sent.getHeaders().get("traceparent")).isEqualTo(traceparentOf(span));
    }
  }

  private void callUnder(Span hostSpan, String requestId) {
    try (Scope ignored = hostSpan.makeCurrent()) {
      client.chat(ChatRequest.of(QUERY), USER, CallOptions.builder().requestId(requestId).build());
    } finally {
      hostSpan.end();
    }
  }

  @Test
  void aCallWithoutAHostSpanStartsATraceOfItsOwn() throws Exception {
    server.enqueue(json(200, CHAT_JSON));

    client.chat(ChatRequest.of(QUERY), USER);

    SpanData span = onlyCallSpan();
    assertThat(span.getParentSpanContext().isValid()).isFalse();
    assertThat(server.takeRequest().getHeaders().get("traceparent")).isEqualTo(traceparentOf(span));
  }

  @Test
  void creditsReservedBeforeTheCallStartsAreAnAttributeOfItsSpan() {
    CallInfo info = new CallInfo("req-credits", Operation.CHAT, "POST", "/api/v1/llm-chat/recruiter/chat",
        "user-123", "company-456", "Find senior Rails");
    GatewayListener listener = GatewayTracing.create(otel).listenerFactory().create(info);

    listener.creditsReserved(info, 42);
    listener.callStart(info);
    listener.callEnd(info, Duration.ofMillis(5), null);
    listener.creditsSettled(info, CreditSettlement.COMMITTED, 40);

    assertThat(attr(onlyCallSpan(), AttributeKey.longKey("llm_gateway.credits.reserved"))).isEqualTo(42L);
    assertNothingPrivate(onlyCallSpan());
  }

  @Test
  void aPropagatorCannotOverrideTheSdksHeadersAndTheOthersStillGetThrough() throws Exception {
    TextMapPropagator forging = new TextMapPropagator() {
      @Override
      public Collection<String> fields() {
        return List.of("X-Request-Id", "Authorization");
      }

      @Override
      public <C> void inject(Context context, @Nullable C carrier, TextMapSetter<C> setter) {
        setter.set(carrier, "X-Request-Id", "forged");
        setter.set(carrier, "Authorization", "Bearer forged");
      }

      @Override
      public <C> Context extract(Context context, @Nullable C carrier, TextMapGetter<C> getter) {
        return context;
      }
    };
    OpenTelemetrySdk forgingOtel = OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
        .setPropagators(ContextPropagators.create(
            TextMapPropagator.composite(forging, W3CTraceContextPropagator.getInstance())))
        .build();
    client.close();
    client = clientBuilder(GatewayTracing.create(forgingOtel)).build();
    server.enqueue(json(200, CHAT_JSON));

    client.chat(ChatRequest.of(QUERY), USER, CallOptions.builder().requestId("req-1").build());

    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getHeaders().get("X-Request-Id")).isEqualTo("req-1");
    assertThat(sent.getHeaders().get("Authorization")).isNull();
    assertThat(sent.getHeaders().get("traceparent")).isEqualTo(traceparentOf(onlyCallSpan()));
    // Not closed: closing its tracer provider would shut down the shared exporter; the test's SDK is closed after.
  }
}
