package dev.llmgateway.benchmarks;

import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.micrometer.GatewayMetrics;
import dev.llmgateway.opentelemetry.GatewayTracing;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.atomic.LongAdder;

/**
 * The listeners a client gets from the Spring Boot starter when the host has a {@code
 * MeterRegistry} and an {@code OpenTelemetry} bean (issue 15: "the performance targets must hold
 * with the starter's default meters and spans attached"), wired as {@code
 * LlmGatewayAutoConfiguration} wires them: the per-call factories of {@link GatewayMetrics} and
 * {@link GatewayTracing} composed, and the shared listeners {@link GatewayListener#logging()} and
 * the metrics' listener. Spans go through a real {@link BatchSpanProcessor} (its own export
 * thread, as in production) to an exporter that only counts them; W3C trace context is
 * propagated, so each request carries a {@code traceparent}.
 */
final class StarterListeners implements AutoCloseable {
  /** {@code none}: no listener, no audit sink (the SDK's floor). */
  static final String NONE = "none";
  /** {@code default}: the client builder's defaults (logging listener and audit sink; no SLF4J binding here). */
  static final String DEFAULT = "default";
  /** {@code starter}: {@link #DEFAULT} plus the starter's meters and spans. */
  static final String STARTER = "starter";

  private final SdkTracerProvider tracerProvider;
  private final CountingExporter exporter = new CountingExporter();
  /** The meters' per-call factory. */
  final GatewayListener.Factory metricsFactory;
  /** The spans' per-call factory. */
  final GatewayListener.Factory tracingFactory;
  /** The client's per-call factory: meters then spans, as the starter composes them. */
  final GatewayListener.Factory factory;
  /** The client's shared listener: logging and the meters' shared listener. */
  final GatewayListener shared;

  /** Builds the meters (on a fresh registry), the OpenTelemetry SDK and the listeners. */
  StarterListeners() {
    GatewayMetrics metrics = GatewayMetrics.builder(new SimpleMeterRegistry()).build();
    tracerProvider = SdkTracerProvider.builder()
        .addSpanProcessor(BatchSpanProcessor.builder(exporter).build()).build();
    OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(tracerProvider)
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build();
    metricsFactory = metrics.listenerFactory();
    tracingFactory = GatewayTracing.create(otel).listenerFactory();
    factory = GatewayListener.Factory.composite(metricsFactory, tracingFactory);
    shared = GatewayListener.composite(GatewayListener.logging(), metrics.listener());
  }

  /**
   * Applies the named listeners to a client builder.
   *
   * @param builder the client's builder
   * @param name {@link #NONE}, {@link #DEFAULT} or {@link #STARTER}
   * @return what to close after the client (the tracer provider), or a no-op
   */
  static AutoCloseable apply(LlmGatewayClient.Builder builder, String name) {
    switch (name) {
      case NONE:
        builder.listener(GatewayListener.none()).auditSink(dev.llmgateway.AuditSink.none());
        return () -> { };
      case DEFAULT:
        return () -> { };
      case STARTER:
        StarterListeners starter = new StarterListeners();
        builder.listenerFactory(starter.factory).listener(starter.shared);
        return starter;
      default:
        throw new IllegalArgumentException("listeners must be none, default or starter: " + name);
    }
  }

  /** Flushes and stops the span pipeline. */
  @Override
  public void close() {
    tracerProvider.close();
    // A benchmark that never used the SDK client (a raw baseline run with this parameter) exports none.
    System.err.println("# starter listeners: " + exporter.spans.sum() + " spans exported");
  }

  /** Counts spans; exports nowhere. */
  private static final class CountingExporter implements SpanExporter {
    final LongAdder spans = new LongAdder();

    @Override
    public CompletableResultCode export(Collection<SpanData> batch) {
      spans.add(batch.size());
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
