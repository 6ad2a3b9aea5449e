package dev.llmgateway.internal;

import dev.llmgateway.AuditSink;
import dev.llmgateway.AuthStrategy;
import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.RequestValidator;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.Sleeper;
import dev.llmgateway.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executor;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * Everything a built client decided, in one immutable place, for the call engine and for the
 * streaming machinery.
 *
 * @param http for JSON calls: the client's timeouts, a per-attempt call timeout
 * @param streamHttp for streams: no call timeout, no read timeout ({@code StreamCall} times the
 *     silence between bytes, {@code streamTimeout}, itself)
 * @param limiter the limit on calls in flight (shared with derived clients)
 * @param maxQueueWait how long a call waits for a free slot of the {@code limiter}
 * @param executor runs callback streams, and starts asynchronous calls that waited for a slot
 * @param listenerFactory creates each logical call's own listener; null when none is set
 */
public record ClientConfig(
    OkHttpClient http,
    OkHttpClient streamHttp,
    HttpUrl baseUrl,
    AuthStrategy auth,
    RetryPolicy retryPolicy,
    CircuitBreaker circuitBreaker,
    GatewayListener listener,
    GatewayListener.@Nullable Factory listenerFactory,
    AuditSink auditSink,
    RequestValidator validator,
    Ticker ticker,
    Sleeper sleeper,
    Clock clock,
    Duration timeout,
    Duration streamTimeout,
    String userAgent,
    String mdcKey,
    long maxResponseBytes,
    ConcurrencyLimiter limiter,
    Duration maxQueueWait,
    Executor executor) {}
