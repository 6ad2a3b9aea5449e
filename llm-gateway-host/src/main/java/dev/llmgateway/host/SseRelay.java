package dev.llmgateway.host;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallTimeoutException;
import dev.llmgateway.ChatStream;
import dev.llmgateway.CircuitOpenException;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.ServiceUnavailableException;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.StreamInterruptedException;
import dev.llmgateway.TransportException;
import dev.llmgateway.host.internal.Heartbeat;
import dev.llmgateway.host.internal.JsonWriter;
import dev.llmgateway.host.internal.RelayTimer;
import dev.llmgateway.host.internal.SafeText;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Relays a {@link ChatStream} to a browser as server-sent events on the host's own HTTP response
 * (the gateway pattern), framework-neutral: it needs only the response's {@link OutputStream}.
 *
 * <p>What the browser receives: {@code retry: 300} first; one {@code chunk} event per stream event,
 * whose data is the service's event JSON unchanged; then either a {@code complete} event ({@code
 * {"done":true, "session_id", "message_id", "finish_reason", "usage", "request_id"}}) or an {@code
 * error} event (a JSON error envelope without internal details). Every event is flushed at once.
 *
 * <p>Heartbeats: whenever nothing has been written for {@link #heartbeat()}, a {@code : ping}
 * comment is sent, so proxies keep the connection open; no silence exceeds the interval by more
 * than a timer's lateness (milliseconds). The pings are written by a helper thread, never by the
 * timer thread that every relay's heartbeat shares (the client's stream time limits have their
 * own), and skip while an event is being written: a browser that stops reading holds at most one
 * helper thread.
 *
 * <p>When the browser goes away (a write fails), the upstream call is cancelled at once and the
 * result says {@link RelayResult.Outcome#CLIENT_DISCONNECTED}. When the upstream fails, an {@code
 * error} event is written and the relay returns; the host then ends its response.
 *
 * <p>Prefer {@link #relay(ChatStream, ResponseStarter)}: it starts the host's response only when
 * the first event has arrived, so a stream that fails before it (retries exhausted, no first event
 * in time, the service's {@code error} event first) is thrown, and the host answers with an error
 * status instead of a {@code 200} carrying a lone {@code error} event:
 *
 * <pre>{@code
 * // In a com.sun.net.httpserver.HttpHandler:
 * try (ChatStream stream = client.chatStream(request, user)) {
 *   RelayResult result = SseRelay.ofDefaults().relay(stream, headers -> {
 *     headers.forEach(exchange.getResponseHeaders()::set);
 *     exchange.sendResponseHeaders(200, 0);
 *     return exchange.getResponseBody();
 *   });
 * } catch (LlmGatewayException e) {
 *   // nothing was sent: answer with an error status (validation, 4xx/5xx, or no first event)
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

  /** @return the longest silence before a heartbeat comment is sent */
  public Duration heartbeat() {
    return heartbeat;
  }

  /** @return the reconnection delay announced to the browser with {@code retry:} */
  public Duration reconnectDelay() {
    return reconnectDelay;
  }

  /**
   * Relays {@code stream} to a response that is started only when there is something to send:
   * waits for the stream's first event (or its end), then calls {@code response} once with {@link
   * #RESPONSE_HEADERS} and relays as {@link #relay(ChatStream, OutputStream)} does. A stream that
   * fails before its first event is thrown and {@code response} is never called, so the host can
   * still answer with an error status; after the first event, failures become an {@code error}
   * event as usual. Blocks the calling thread (the host's request thread); no heartbeat is sent
   * before the response starts (the stream's first-event timeout bounds that wait). Does not close
   * the response body or the stream; close both afterwards.
   *
   * @param stream an open stream that has not been iterated
   * @param response starts the host's response; when it throws, the browser is taken as gone (the
   *     stream is cancelled, the result says {@link RelayResult.Outcome#CLIENT_DISCONNECTED})
   * @return how the relay ended
   * @throws LlmGatewayException if the stream failed before its first event ({@link
   *     CallCancelledException} if it was cancelled); nothing was sent
   * @throws IllegalStateException if the stream was already iterated
   */
  public RelayResult relay(ChatStream stream, ResponseStarter response) {
    Objects.requireNonNull(response, "response");
    Iterator<StreamEvent> events = stream.iterator();
    // The first event, or the failure thrown before anything is sent; relayFrom asks again.
    boolean unused = events.hasNext();
    OutputStream out;
    try {
      out = Objects.requireNonNull(response.start(RESPONSE_HEADERS), "the response starter returned no body");
    } catch (IOException | RuntimeException browserGone) {
      stream.cancel();
      stream.close();
      return disconnected(stream, null, "", browserGone);
    }
    return relayFrom(stream, events, out);
  }

  /**
   * Relays {@code stream} to {@code out} until the stream ends or the browser goes away. Blocks
   * the calling thread (the host's request thread). Never throws for upstream failures: they are
   * written as an {@code error} event and reported in the result, also before the first event
   * (the host has already sent its status; see {@link #relay(ChatStream, ResponseStarter)} to send
   * an error status instead). Does not close {@code out} or the stream; close both afterwards.
   *
   * @param stream an open stream that has not been iterated
   * @param out the response body
   * @return how the relay ended
   * @throws IllegalStateException if the stream was already iterated
   */
  public RelayResult relay(ChatStream stream, OutputStream out) {
    Objects.requireNonNull(out, "out");
    return relayFrom(stream, stream.iterator(), out);
  }

  private RelayResult relayFrom(ChatStream stream, Iterator<StreamEvent> events, OutputStream out) {
    SseWriter writer = SseWriter.builder().flushEachWrite(true).build(out);
    Heartbeat pulse = Heartbeat.start(writer, heartbeat, RelayTimer.SCHEDULER, stream::cancel);
    // What the browser was sent: a token whose write failed was received but never delivered.
    StringBuilder relayed = new StringBuilder();
    @Nullable StreamCompletion completion = null;
    try {
      writer.writeRetry(reconnectDelay);
      while (events.hasNext()) {
        StreamEvent event = events.next();
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
      IOException pingFailed = pulse.failure();
      if (pingFailed != null) {
        return disconnected(stream, null, relayed, pingFailed);
      }
      try {
        writer.write(new ServerSentEvent("error", errorJson.apply(failure), null));
      } catch (IOException browserGone) {
        return disconnected(stream, null, relayed, browserGone);
      }
      return new RelayResult(RelayResult.Outcome.FAILED, null, failure, relayed.toString());
    } finally {
      pulse.stop();
    }
  }

  /** {@code completion} is set when the browser left while being sent the {@code complete} event. */
  private static RelayResult disconnected(
      ChatStream stream, @Nullable StreamCompletion completion, CharSequence relayed, Throwable cause) {
    LlmGatewayException cancelled = new CallCancelledException(stream.requestId(), 0, cause);
    return new RelayResult(RelayResult.Outcome.CLIENT_DISCONNECTED, completion, cancelled, relayed.toString());
  }

  private static String completeJson(StreamCompletion c) {
    ObjectNode node = JsonWriter.mapper().createObjectNode();
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
   * of failure (never the service's URL, body or stack trace). The service's error code is passed
   * on only when it is a plain code (up to 64 letters, digits, {@code _ . : -}), else {@code
   * "unknown"}, as {@link ErrorMapper} does. {@code retryable} is the failure's
   * {@link LlmGatewayException#isRetryable()}.
   *
   * @param failure why the stream ended
   * @return the JSON
   */
  public static String defaultErrorJson(LlmGatewayException failure) {
    String message;
    String code;
    if (failure instanceof StreamErrorException) {
      message = "The assistant could not finish this answer.";
      code = SafeText.code(((StreamErrorException) failure).code());
    } else if (failure instanceof StreamInterruptedException) {
      message = "The answer was interrupted.";
      code = "interrupted";
    } else if (failure instanceof CallTimeoutException) {
      message = "The assistant took too long to answer.";
      code = "timeout";
    } else if (failure instanceof CircuitOpenException || failure instanceof ServiceUnavailableException
        || failure instanceof TransportException) {
      message = "The assistant is unavailable right now.";
      code = "unavailable";
    } else if (failure instanceof CallCancelledException) {
      message = "The answer was cancelled.";
      code = "cancelled";
    } else {
      message = "The assistant could not answer.";
      code = "upstream_error";
    }
    boolean retryable = failure.isRetryable();
    ObjectNode node = JsonWriter.mapper().createObjectNode();
    node.put("success", false);
    node.put("message", message);
    node.putNull("data");
    node.putObject("meta").put("request_id", failure.requestId()).put("code", code).put("retryable", retryable);
    return node.toString();
  }

  /**
   * Starts the host's streaming HTTP response, when the relay has its first event to send.
   * Implementations set status 200 and the headers given, send them, and return the body.
   */
  @FunctionalInterface
  public interface ResponseStarter {
    /**
     * Sends status 200 with {@code headers} and returns the response body. Called at most once,
     * on the relay's thread.
     *
     * @param headers the headers to set ({@link SseRelay#RESPONSE_HEADERS})
     * @return the body the events are written to
     * @throws IOException if the browser is already gone
     */
    OutputStream start(Map<String, String> headers) throws IOException;
  }

  /** Builds an {@link SseRelay}. Not thread-safe. */
  public static final class Builder {
    private Duration heartbeat = DEFAULT_HEARTBEAT;
    private Duration reconnectDelay = DEFAULT_RECONNECT_DELAY;
    private Function<LlmGatewayException, String> errorJson = SseRelay::defaultErrorJson;

    private Builder() {}

    /**
     * Sets the longest silence: a {@code : ping} comment is sent whenever nothing has been
     * written for this long. Default 15 s.
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
