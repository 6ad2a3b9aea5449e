package dev.llmgateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Watchdog;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Relays a {@link ChatStream} to a browser as server-sent events on the host's own HTTP response
 * (the gateway pattern), framework-neutral: it needs only the response's {@link OutputStream}.
 *
 * <p>What the browser receives: {@code retry: 300} first; one {@code chunk} event per stream event,
 * whose data is the service's event JSON unchanged; then either a {@code complete} event ({@code
 * {"done":true, "session_id", "message_id", "finish_reason", "usage", "request_id"}}) or an {@code
 * error} event (a JSON error envelope without internal details). Every event is flushed at once; a
 * {@code : ping} comment is sent after {@link #heartbeat()} without events so proxies keep the
 * connection open. Set {@link #RESPONSE_HEADERS} on the response before relaying.
 *
 * <p>When the browser goes away (a write fails), the upstream call is cancelled at once and the
 * result says {@link RelayResult.Outcome#CLIENT_DISCONNECTED}. When the upstream fails, an {@code
 * error} event is written and the relay returns; the host then ends its response.
 *
 * <pre>{@code
 * // In a com.sun.net.httpserver.HttpHandler:
 * SseRelay.RESPONSE_HEADERS.forEach(exchange.getResponseHeaders()::set);
 * exchange.sendResponseHeaders(200, 0);
 * try (ChatStream stream = client.chatStream(request, user);
 *     OutputStream body = exchange.getResponseBody()) {
 *   RelayResult result = SseRelay.ofDefaults().relay(stream, body);
 * }
 * }</pre>
 *
 * <p>Immutable and thread-safe; one instance serves any number of relays.
 */
public final class SseRelay {
  /** Headers a host must set on the response before relaying. */
  public static final Map<String, String> RESPONSE_HEADERS = Map.of(
      "Content-Type", "text/event-stream; charset=utf-8",
      "Cache-Control", "no-cache",
      "X-Accel-Buffering", "no",
      "Connection", "keep-alive");
  /** Silence after which a {@code : ping} comment is sent. */
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);
  /** The reconnection delay announced to the browser with {@code retry:}. */
  public static final Duration DEFAULT_RECONNECT_DELAY = Duration.ofMillis(300);

  private static final SseRelay DEFAULTS = builder().build();

  private final Duration heartbeat;
  private final Duration reconnectDelay;
  private final Function<LlmGatewayException, String> errorJson;

  private SseRelay(Builder b) {
    this.heartbeat = b.heartbeat;
    this.reconnectDelay = b.reconnectDelay;
    this.errorJson = b.errorJson;
  }

  /**
   * Returns the relay with the defaults: 15 s heartbeat, {@code retry: 300}, the default error
   * envelope.
   *
   * @return the shared default relay
   */
  public static SseRelay ofDefaults() {
    return DEFAULTS;
  }

  /**
   * Starts a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the silence after which a heartbeat comment is sent */
  public Duration heartbeat() {
    return heartbeat;
  }

  /**
   * Relays {@code stream} to {@code out} until the stream ends or the browser goes away. Blocks
   * the calling thread (the host's request thread). Never throws for upstream failures: they are
   * written as an {@code error} event and reported in the result. Does not close {@code out} or
   * the stream; close both afterwards.
   *
   * @param stream an open stream that has not been iterated
   * @param out the response body
   * @return how the relay ended
   * @throws IllegalStateException if the stream was already iterated
   */
  public RelayResult relay(ChatStream stream, OutputStream out) {
    SseWriter writer = SseWriter.builder().flushEachWrite(true).build(out);
    Pulse pulse = new Pulse(writer, stream);
    ScheduledFuture<?> pinger = Watchdog.repeat(heartbeat, pulse);
    // What the browser was sent: a token whose write failed was received but never delivered.
    StringBuilder relayed = new StringBuilder();
    @Nullable StreamCompletion completion = null;
    try {
      writer.writeRetry(reconnectDelay);
      for (StreamEvent event : stream) {
        writer.write(new ServerSentEvent("chunk", event.json(), null));
        pulse.wrote();
        if (event instanceof StreamEvent.Token) {
          relayed.append(((StreamEvent.Token) event).content());
        }
      }
      completion = stream.completion();
      writer.write(new ServerSentEvent("complete", completeJson(completion), null));
      return new RelayResult(RelayResult.Outcome.COMPLETED, completion, null, completion.text());
    } catch (IOException browserGone) {
      stream.cancel();
      stream.close();
      return disconnected(stream, completion, relayed, browserGone);
    } catch (LlmGatewayException failure) {
      if (pulse.browserGone != null) {
        return disconnected(stream, null, relayed, pulse.browserGone);
      }
      try {
        writer.write(new ServerSentEvent("error", errorJson.apply(failure), null));
      } catch (IOException browserGone) {
        return disconnected(stream, null, relayed, browserGone);
      }
      return new RelayResult(RelayResult.Outcome.FAILED, null, failure, relayed.toString());
    } finally {
      pinger.cancel(false);
    }
  }

  /** {@code completion} is set when the browser left while being sent the {@code complete} event. */
  private static RelayResult disconnected(
      ChatStream stream, @Nullable StreamCompletion completion, CharSequence relayed, IOException cause) {
    LlmGatewayException cancelled = new CallCancelledException(stream.requestId(), 0, cause);
    return new RelayResult(RelayResult.Outcome.CLIENT_DISCONNECTED, completion, cancelled, relayed.toString());
  }

  private static String completeJson(StreamCompletion c) {
    ObjectNode node = Json.MAPPER.createObjectNode();
    node.put("done", true);
    node.put("session_id", c.sessionId());
    node.put("message_id", c.messageId());
    node.put("finish_reason", c.finishReason());
    if (c.usage() == null) {
      node.putNull("usage");
    } else {
      node.putObject("usage")
          .put("prompt_tokens", c.usage().promptTokens())
          .put("completion_tokens", c.usage().completionTokens())
          .put("total_tokens", c.usage().totalTokens());
    }
    node.put("request_id", c.requestId());
    return node.toString();
  }

  /**
   * The default {@code error} event data: {@code {"success":false,"message":...,"data":null,
   * "meta":{"request_id":...,"code":...,"retryable":...}}} with a fixed, user-safe message per kind
   * of failure (never the service's URL, body or stack trace).
   *
   * @param failure why the stream ended
   * @return the JSON
   */
  public static String defaultErrorJson(LlmGatewayException failure) {
    String message;
    String code;
    boolean retryable;
    if (failure instanceof StreamErrorException) {
      message = "The assistant could not finish this answer.";
      code = ((StreamErrorException) failure).code();
      retryable = ((StreamErrorException) failure).retryable();
    } else if (failure instanceof StreamInterruptedException) {
      message = "The answer was interrupted.";
      code = "interrupted";
      retryable = true;
    } else if (failure instanceof TimeoutException) {
      message = "The assistant took too long to answer.";
      code = "timeout";
      retryable = true;
    } else if (failure instanceof CircuitOpenException || failure instanceof ServiceUnavailableException) {
      message = "The assistant is unavailable right now.";
      code = "unavailable";
      retryable = true;
    } else if (failure instanceof CallCancelledException) {
      message = "The answer was cancelled.";
      code = "cancelled";
      retryable = false;
    } else {
      message = "The assistant could not answer.";
      code = "upstream_error";
      retryable = false;
    }
    ObjectNode node = Json.MAPPER.createObjectNode();
    node.put("success", false);
    node.put("message", message);
    node.putNull("data");
    node.putObject("meta").put("request_id", failure.requestId()).put("code", code).put("retryable", retryable);
    return node.toString();
  }

  /** Sends heartbeats while the relay is quiet; notices a browser that went away. */
  private final class Pulse implements Runnable {
    private final SseWriter writer;
    private final ChatStream stream;
    private volatile long lastWrite = System.nanoTime();
    volatile @Nullable IOException browserGone;

    Pulse(SseWriter writer, ChatStream stream) {
      this.writer = writer;
      this.stream = stream;
    }

    void wrote() {
      lastWrite = System.nanoTime();
    }

    @Override
    public void run() {
      if (browserGone != null || System.nanoTime() - lastWrite < heartbeat.toNanos() / 2) {
        return;
      }
      try {
        writer.writeComment("ping");
        wrote();
      } catch (IOException | RuntimeException e) {
        browserGone = e instanceof IOException ? (IOException) e : new IOException(e);
        stream.cancel();
      }
    }
  }

  /** Builds an {@link SseRelay}. Not thread-safe. */
  public static final class Builder {
    private Duration heartbeat = DEFAULT_HEARTBEAT;
    private Duration reconnectDelay = DEFAULT_RECONNECT_DELAY;
    private Function<LlmGatewayException, String> errorJson = SseRelay::defaultErrorJson;

    private Builder() {}

    /**
     * Sets the silence after which a {@code : ping} comment is sent. Default 15 s.
     *
     * @param heartbeat positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder heartbeat(Duration heartbeat) {
      Objects.requireNonNull(heartbeat, "heartbeat");
      if (heartbeat.isZero() || heartbeat.isNegative()) {
        throw new IllegalArgumentException("heartbeat must be positive: " + heartbeat);
      }
      this.heartbeat = heartbeat;
      return this;
    }

    /**
     * Sets the reconnection delay announced with {@code retry:}. Default 300 ms.
     *
     * @param reconnectDelay zero or positive
     * @return this builder
     * @throws IllegalArgumentException if negative
     */
    public Builder reconnectDelay(Duration reconnectDelay) {
      Objects.requireNonNull(reconnectDelay, "reconnectDelay");
      if (reconnectDelay.isNegative()) {
        throw new IllegalArgumentException("reconnectDelay < 0: " + reconnectDelay);
      }
      this.reconnectDelay = reconnectDelay;
      return this;
    }

    /**
     * Sets how a failure becomes the {@code error} event's data, e.g. the host's own envelope.
     * Default {@link SseRelay#defaultErrorJson}. It must not reveal internal details.
     *
     * @param errorJson returns one line of JSON
     * @return this builder
     */
    public Builder errorJson(Function<LlmGatewayException, String> errorJson) {
      this.errorJson = Objects.requireNonNull(errorJson, "errorJson");
      return this;
    }

    /**
     * Builds the relay.
     *
     * @return the relay
     */
    public SseRelay build() {
      return new SseRelay(this);
    }
  }
}
