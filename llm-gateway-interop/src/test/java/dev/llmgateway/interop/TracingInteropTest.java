package dev.llmgateway.interop;

import static dev.llmgateway.interop.Fixtures.ADA;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.CallOptions;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.StreamOptions;
import dev.llmgateway.interop.ReferenceService.ReceivedTrace;
import dev.llmgateway.opentelemetry.GatewayTracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code llm-gateway-opentelemetry} against the reference service: the {@code traceparent} each
 * attempt sends arrives, is valid W3C Trace Context, and names the host's trace and the call's span.
 */
@InteropTest
class TracingInteropTest {
  private final ReferenceService service;
  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
      .build();
  private final Tracer host = otel.getTracer("host");
  private final RecordingSleeper sleeper = new RecordingSleeper();
  private LlmGatewayClient client;

  TracingInteropTest(ReferenceService service) {
    this.service = service;
  }

  @BeforeEach
  void openClient() {
    client = service.clientBuilder()
        .sleeper(sleeper)
        .listenerFactory(GatewayTracing.create(otel).listenerFactory())
        .build();
  }

  @AfterEach
  void closeClient() {
    client.close();
    otel.close();
  }

  private SpanData onlyCallSpan() {
    List<SpanData> spans = exporter.getFinishedSpanItems().stream()
        .filter(s -> s.getInstrumentationScopeInfo().getName().equals(GatewayTracing.INSTRUMENTATION_SCOPE))
        .toList();
    assertThat(spans).hasSize(1);
    return spans.get(0);
  }

  @Test
  void theServiceReceivesTheHostsTraceWithTheCallsSpanAsParent() {
    Span request = host.spanBuilder("GET /search").startSpan();
    try (Scope ignored = request.makeCurrent()) {
      client.chat(ChatRequest.of(SEARCH_QUERY), ADA, CallOptions.withRequestId("trace-otel-chat"));
    } finally {
      request.end();
    }

    SpanData call = onlyCallSpan();
    assertThat(call.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
    List<ReceivedTrace> received = service.traces("trace-otel-chat");
    assertThat(received).hasSize(1);
    assertThat(received.get(0).valid()).as("traceparent %s", received.get(0).traceparent()).isTrue();
    assertThat(received.get(0).traceId()).isEqualTo(request.getSpanContext().getTraceId());
    assertThat(received.get(0).parentId()).isEqualTo(call.getSpanId());
  }

  @Test
  void everyAttemptOfARetriedStreamCarriesTheHostsTrace() {
    service.armFault(Map.of("status", 503, "times", 1, "path", ReferenceService.CHAT_STREAM_PATH));
    Span request = host.spanBuilder("GET /stream").startSpan();
    try (Scope ignored = request.makeCurrent();
        ChatStream stream = client.chatStream(
            ChatRequest.of(SEARCH_QUERY), ADA, StreamOptions.builder()
                .callOptions(CallOptions.withRequestId("trace-otel-stream")).build())) {
      stream.completion();
    } finally {
      request.end();
    }

    SpanData call = onlyCallSpan();
    assertThat(sleeper.waits()).hasSize(1);
    List<ReceivedTrace> received = service.traces("trace-otel-stream");
    assertThat(received).hasSize(2).allSatisfy(trace -> {
      assertThat(trace.valid()).as("traceparent %s", trace.traceparent()).isTrue();
      assertThat(trace.traceId()).isEqualTo(request.getSpanContext().getTraceId());
      assertThat(trace.parentId()).isEqualTo(call.getSpanId());
    });
  }

  @Test
  void aClientWithoutTracingSendsNoTraceContext() {
    try (LlmGatewayClient plain = service.client()) {
      plain.chat(ChatRequest.of(SEARCH_QUERY), ADA, CallOptions.withRequestId("trace-otel-none"));
    }

    assertThat(service.traces("trace-otel-none")).singleElement()
        .satisfies(trace -> assertThat(trace.traceparent()).isNull())
        .satisfies(trace -> assertThat(trace.valid()).isFalse());
  }
}
