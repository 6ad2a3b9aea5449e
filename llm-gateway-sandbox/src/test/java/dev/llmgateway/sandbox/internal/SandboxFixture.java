package dev.llmgateway.sandbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.testkit.MutableClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import okhttp3.Headers;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/** A fresh sandbox behind an OkHttpClient whose DNS fails, so any network use would show. */
final class SandboxFixture {
  static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");
  static final String BASE = "http://sandbox.invalid";
  static final String CHAT = BASE + "/api/v1/llm-chat/recruiter/chat";
  static final String STREAM = CHAT + "/stream";
  static final String SESSIONS = BASE + "/api/v1/llm-chat/recruiter/sessions";
  static final ObjectMapper JSON = new ObjectMapper();
  static final MediaType JSON_TYPE = MediaType.get("application/json");

  private static final OkHttpClient BASE_CLIENT =
      new OkHttpClient.Builder()
          .dns(
              host -> {
                throw new UnknownHostException("the sandbox must answer before any DNS lookup: " + host);
              })
          .build();

  final MutableClock clock = new MutableClock(T0);
  final SandboxService sandbox = new SandboxService(clock);
  final OkHttpClient http = BASE_CLIENT.newBuilder().addInterceptor(sandbox).build();

  /** One raw HTTP result. */
  record Result(int code, String message, Headers headers, String body, long contentLength) {
    JsonNode json() {
      return parse(body);
    }

    String header(String name) {
      return headers.get(name);
    }
  }

  /** A request builder carrying scheme-1 credentials for {@code userId}. */
  static Request.Builder as(String userId) {
    return new Request.Builder()
        .header("X-Service-Token", "any-token")
        .header("X-User-Id", userId)
        .header("X-Company-Id", "company-1")
        .header("X-User-Role", "recruiter");
  }

  /** An unsigned JWT-looking bearer token with the given payload. */
  static String bearer(String payloadJson) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return "Bearer "
        + b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8))
        + "."
        + b64.encodeToString(payloadJson.getBytes(java.nio.charset.StandardCharsets.UTF_8))
        + ".c2lnbmF0dXJl";
  }

  static RequestBody body(String json) {
    return RequestBody.create(json, JSON_TYPE);
  }

  /** A JSON chat body with {@code query} and optional more fields as name/value pairs. */
  static String chatBody(String query, String... more) {
    ObjectNode node = JSON.createObjectNode().put("query", query);
    for (int i = 0; i < more.length; i += 2) {
      node.put(more[i], more[i + 1]);
    }
    return node.toString();
  }

  Result call(Request request) {
    try (Response response = http.newCall(request).execute()) {
      ResponseBody body = response.body();
      long length = body.contentLength();
      String text = body.string();
      assertThat(response.request().url()).isEqualTo(request.url());
      return new Result(response.code(), response.message(), response.headers(), text, length);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Result chat(String userId, String json) {
    return call(as(userId).url(CHAT).post(body(json)).build());
  }

  Result stream(String userId, String json) {
    return call(as(userId).url(STREAM).post(body(json)).build());
  }

  Result get(String userId, String url) {
    return call(as(userId).url(url).get().build());
  }

  Result delete(String userId, String sessionId) {
    return call(as(userId).url(SESSIONS + "/" + sessionId).delete().build());
  }

  /** Splits an SSE body into its events (blank-line separated), dropping comment-only blocks. */
  static List<String> sseBlocks(String body) {
    List<String> blocks = new ArrayList<>();
    for (String block : body.split("\n\n", -1)) {
      if (!block.isEmpty() && !block.startsWith(":")) {
        blocks.add(block);
      }
    }
    return blocks;
  }

  /** Parses the JSON {@code data:} of every event but the final {@code [DONE]}. */
  static List<JsonNode> sseEvents(String body) {
    List<JsonNode> events = new ArrayList<>();
    for (String block : sseBlocks(body)) {
      assertThat(block).startsWith("data: ").doesNotContain("\n");
      String data = block.substring("data: ".length());
      if (!data.equals("[DONE]")) {
        events.add(parse(data));
      }
    }
    return events;
  }

  static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + json, e);
    }
  }

  /** The object's field names in order. */
  static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
