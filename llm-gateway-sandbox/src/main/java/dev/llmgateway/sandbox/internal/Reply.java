package dev.llmgateway.sandbox.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import okhttp3.Headers;
import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP answer of the sandbox, kept apart from the request it answers so that an idempotent
 * reply can be given again to a later request.
 *
 * <p>Immutable and thread-safe (the body array is never handed out).
 */
final class Reply {
  /** Builds and writes every JSON body. Thread-safe once configured. */
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  static final MediaType JSON = MediaType.get("application/json");
  static final MediaType EVENT_STREAM = MediaType.get("text/event-stream; charset=utf-8");
  static final MediaType HTML = MediaType.get("text/html; charset=utf-8");
  static final MediaType TEXT = MediaType.get("text/plain; charset=utf-8");

  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

  private static final Map<Integer, String> REASONS =
      Map.ofEntries(
          Map.entry(200, "OK"),
          Map.entry(204, "No Content"),
          Map.entry(400, "Bad Request"),
          Map.entry(401, "Unauthorized"),
          Map.entry(403, "Forbidden"),
          Map.entry(404, "Not Found"),
          Map.entry(405, "Method Not Allowed"),
          Map.entry(408, "Request Timeout"),
          Map.entry(409, "Conflict"),
          Map.entry(413, "Payload Too Large"),
          Map.entry(422, "Unprocessable Entity"),
          Map.entry(429, "Too Many Requests"),
          Map.entry(500, "Internal Server Error"),
          Map.entry(501, "Not Implemented"),
          Map.entry(502, "Bad Gateway"),
          Map.entry(503, "Service Unavailable"),
          Map.entry(504, "Gateway Timeout"));

  private final int code;
  private final Headers headers;
  private final @Nullable MediaType contentType;
  private final byte[] body;
  private final boolean streaming;
  private final boolean fromProxy;
  private final boolean replayable;

  private Reply(
      int code,
      Headers headers,
      @Nullable MediaType contentType,
      byte[] body,
      boolean streaming,
      boolean fromProxy,
      boolean replayable) {
    this.code = code;
    this.headers = headers;
    this.contentType = contentType;
    this.body = body;
    this.streaming = streaming;
    this.fromProxy = fromProxy;
    this.replayable = replayable;
  }

  /** A JSON reply; replayable when 2xx. */
  static Reply json(int code, JsonNode node) {
    return new Reply(code, Headers.of(), JSON, bytes(node), false, false, code / 100 == 2);
  }

  /** FastAPI's error shape {@code {"detail": "..."}}. */
  static Reply detail(int code, String detail) {
    return json(code, MAPPER.createObjectNode().put("detail", detail));
  }

  /** FastAPI's validation error shape {@code {"detail": [{"loc": ..., "msg": ..., "type": ...}]}}. */
  static Reply validation(List<ObjectNode> errors) {
    ObjectNode root = MAPPER.createObjectNode();
    root.putArray("detail").addAll(errors);
    return json(422, root);
  }

  /**
   * One entry of a validation error.
   *
   * @param loc the location: strings, or integers for positions
   */
  static ObjectNode violation(String type, String msg, Object... loc) {
    ObjectNode node = MAPPER.createObjectNode();
    ArrayNode where = node.putArray("loc");
    for (Object part : loc) {
      if (part instanceof Integer i) {
        where.add(i);
      } else {
        where.add(String.valueOf(part));
      }
    }
    node.put("msg", msg);
    node.put("type", type);
    return node;
  }

  /** The HTML error page a reverse proxy in front of the service sends, e.g. for 502 and 504. */
  static Reply proxyPage(int code) {
    String title = code + " " + reason(code);
    String html = "<html><body><h1>" + title + "</h1></body></html>";
    return new Reply(
        code, Headers.of(), HTML, html.getBytes(StandardCharsets.UTF_8), false, true, false);
  }

  /** The plain text a crashed ASGI app answers with. */
  static Reply internalError() {
    return new Reply(
        500,
        Headers.of(),
        TEXT,
        "Internal Server Error".getBytes(StandardCharsets.UTF_8),
        false,
        false,
        false);
  }

  /** A server-sent event stream, of unknown length as if chunked. */
  static Reply eventStream(byte[] body, boolean replayable) {
    Headers headers = Headers.of("Cache-Control", "no-cache", "X-Accel-Buffering", "no");
    return new Reply(200, headers, EVENT_STREAM, body, true, false, replayable);
  }

  static Reply noContent() {
    return new Reply(204, Headers.of(), null, new byte[0], false, false, false);
  }

  /** Returns a copy with one more header. */
  Reply withHeader(String name, String value) {
    return new Reply(
        code,
        headers.newBuilder().add(name, value).build(),
        contentType,
        body,
        streaming,
        fromProxy,
        replayable);
  }

  int code() {
    return code;
  }

  /** True when a request repeating the same {@code Idempotency-Key} should get this reply again. */
  boolean replayable() {
    return replayable;
  }

  /**
   * Returns the complete OkHttp response answering {@code request}: status line, {@code Date},
   * {@code Content-Type}, {@code Content-Length} (absent for streams and 204), the {@code
   * X-Request-Id} echo (absent from proxy pages, as a proxy would not add it), and the body.
   */
  Response toResponse(Request request, Clock clock) {
    Headers.Builder out = headers.newBuilder();
    out.set("Date", HTTP_DATE.format(clock.instant()));
    out.set("Server", "llm-gateway-sandbox");
    String requestId = request.header("X-Request-Id");
    if (requestId != null && !fromProxy) {
      out.set("X-Request-Id", requestId);
    }
    ResponseBody responseBody;
    if (contentType == null) {
      responseBody = ResponseBody.EMPTY;
    } else {
      out.set("Content-Type", contentType.toString());
      if (streaming) {
        responseBody = ResponseBody.create(new Buffer().write(body), contentType, -1L);
      } else {
        out.set("Content-Length", Integer.toString(body.length));
        responseBody = ResponseBody.create(body, contentType);
      }
    }
    return new Response.Builder()
        .request(request)
        .protocol(Protocol.HTTP_1_1)
        .code(code)
        .message(reason(code))
        .headers(out.build())
        .body(responseBody)
        .sentRequestAtMillis(clock.millis())
        .receivedResponseAtMillis(clock.millis())
        .build();
  }

  static String reason(int code) {
    return REASONS.getOrDefault(code, "");
  }

  static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("A tree of plain JSON nodes always serializes", e);
    }
  }
}
