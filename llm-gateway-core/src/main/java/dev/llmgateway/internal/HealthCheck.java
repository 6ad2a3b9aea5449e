package dev.llmgateway.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.ServiceHealth;
import dev.llmgateway.Ticker;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * The client's {@code GET /health} probe: one request at a time (callers arriving while it runs
 * share its answer), its answer cached for a while, and no caller waiting longer than the timeout.
 *
 * <p>The caller that finds no fresh answer and no probe under way runs the probe on its own thread,
 * bounded by OkHttp's call timeout; the others wait for it at most the timeout. Thread-safe.
 */
public final class HealthCheck {
  /** The most of a health answer read: {@code {"status": "ok"}} and room for growth. */
  static final long MAX_BODY_BYTES = 4096;

  private final OkHttpClient http;
  private final Request request;
  private final Duration timeout;
  private final long ttlNanos;
  private final Ticker ticker;
  private final Clock clock;
  private final Object lock = new Object();
  // Guarded by lock.
  private @Nullable ServiceHealth cached;
  private long cachedAtNanos;
  private @Nullable CompletableFuture<ServiceHealth> inFlight;

  /**
   * @param http the client's JSON client (its interceptors, the sandbox's included)
   * @param baseUrl the service's base URL, {@code health} is resolved under it
   * @param timeout the whole probe's limit
   * @param ttl how long an answer is reused; zero for never
   */
  public HealthCheck(OkHttpClient http, HttpUrl baseUrl, String userAgent, Duration timeout, Duration ttl,
      Ticker ticker, Clock clock) {
    this.http = http.newBuilder().callTimeout(timeout).connectTimeout(timeout).readTimeout(timeout)
        .writeTimeout(timeout).retryOnConnectionFailure(false).build();
    this.request = new Request.Builder().url(baseUrl.newBuilder().addPathSegment("health").build())
        .header("User-Agent", userAgent).header("Accept", "application/json").get().build();
    this.timeout = timeout;
    this.ttlNanos = ttl.toNanos();
    this.ticker = ticker;
    this.clock = clock;
  }

  /** The timeout this probe was built with. */
  public Duration timeout() {
    return timeout;
  }

  /** The cache time this probe was built with. */
  public Duration ttl() {
    return Duration.ofNanos(ttlNanos);
  }

  /** The cached answer while fresh, else the answer of the probe under way or of a new one. */
  public ServiceHealth check() {
    CompletableFuture<ServiceHealth> shared;
    boolean leader = false;
    synchronized (lock) {
      ServiceHealth fresh = cached;
      if (fresh != null && ticker.read() - cachedAtNanos < ttlNanos) {
        return fresh;
      }
      if (inFlight == null) {
        inFlight = new CompletableFuture<>();
        leader = true;
      }
      shared = inFlight;
    }
    if (leader) {
      ServiceHealth result;
      try {
        result = probe();
      } catch (RuntimeException | Error e) {
        result = ServiceHealth.down(clock.instant(), Duration.ZERO, "probe failed: " + e.getClass().getSimpleName());
      }
      synchronized (lock) {
        cached = result;
        cachedAtNanos = ticker.read();
        inFlight = null;
      }
      shared.complete(result);
      return result;
    }
    return await(shared);
  }

  private ServiceHealth await(CompletableFuture<ServiceHealth> shared) {
    Instant joined = clock.instant();
    long start = ticker.read();
    try {
      return shared.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      return ServiceHealth.down(joined, since(start), timedOut());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ServiceHealth.down(joined, since(start), "interrupted while waiting for the probe");
    } catch (ExecutionException e) {
      // Never: the leader completes the future with a value.
      return ServiceHealth.down(joined, since(start), "probe failed");
    }
  }

  private ServiceHealth probe() {
    Instant checkedAt = clock.instant();
    long start = ticker.read();
    try (Response response = http.newCall(request).execute()) {
      if (response.code() != 200) {
        return ServiceHealth.down(checkedAt, since(start), "HTTP " + response.code());
      }
      String problem = problemWith(response.peekBody(MAX_BODY_BYTES).bytes());
      return problem == null
          ? ServiceHealth.up(checkedAt, since(start))
          : ServiceHealth.down(checkedAt, since(start), problem);
    } catch (IOException e) {
      return ServiceHealth.down(checkedAt, since(start), reason(e));
    }
  }

  /** Null when the body is {@code {"status": "ok", ...}}, else what is wrong with it. */
  private static @Nullable String problemWith(byte[] body) {
    JsonNode node;
    try {
      node = Json.parse(body);
    } catch (Json.MalformedJsonException e) {
      return "HTTP 200 with a body that is not JSON";
    }
    JsonNode status = node.isObject() ? node.get("status") : null;
    if (status == null || !status.isTextual()) {
      return "HTTP 200 without a status";
    }
    // The value itself is not shown: nothing the service sends reaches the reason, which may be logged.
    return status.asText().equals("ok") ? null : "HTTP 200 with a status other than ok";
  }

  private String reason(IOException e) {
    if (e instanceof InterruptedIOException) {
      return timedOut();
    }
    if (e instanceof ConnectException) {
      return "connection refused";
    }
    if (e instanceof UnknownHostException) {
      return "unknown host";
    }
    if (e instanceof SSLException) {
      return "TLS failed";
    }
    return "no answer (" + e.getClass().getSimpleName() + ")";
  }

  private String timedOut() {
    return "no answer within " + timeout.toMillis() + " ms";
  }

  private Duration since(long start) {
    return Duration.ofNanos(Math.max(0, ticker.read() - start));
  }
}
