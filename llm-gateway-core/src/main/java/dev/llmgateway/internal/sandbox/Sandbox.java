package dev.llmgateway.internal.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import org.jspecify.annotations.Nullable;

/**
 * An in-process simulation of the LLM chat service's contract, as an OkHttp interceptor that
 * answers every request with a real HTTP response and never touches the network.
 *
 * <p>Deterministic: intents come from keywords of the query (or the request's {@code
 * user_intent}), answers quote the query, search answers carry three candidates derived from the
 * query's hash, and ids come from counters. Sessions are kept in memory per user, with ownership
 * (403) and unknown ids (404) as the service does; chat calls are de-duplicated by {@code
 * Idempotency-Key}.
 *
 * <p>Fault directives for demos and tests: a query containing {@code #sandbox:status=NNN} is
 * answered with that status (FastAPI {@code detail} JSON; an HTML page for 502 and 504 as a proxy
 * would send; {@code Retry-After: 1} with 429 and 503).
 */
public final class Sandbox implements Interceptor {
  private static final MediaType JSON = MediaType.get("application/json");
  private static final MediaType HTML = MediaType.get("text/html; charset=utf-8");
  private static final MediaType SSE = MediaType.get("text/event-stream");
  private static final String PREFIX = "/api/v1/llm-chat/recruiter/";
  private static final Pattern FAULT = Pattern.compile("#sandbox:status=(\\d{3})");
  private static final String[] NAMES = {"Ada L.", "Grace H.", "Linus T.", "Barbara L.", "Ken T.", "Margaret H."};
  private static final String[] TITLES = {
    "Senior Rails Engineer", "Staff Backend Engineer", "Platform Engineer", "Engineering Manager", "Ruby Developer"
  };

  private final Clock clock;
  private final AtomicLong counter = new AtomicLong();
  private final Map<String, SessionState> sessions = new ConcurrentHashMap<>();
  private final Map<String, byte[]> idempotent = new ConcurrentHashMap<>();

  private Sandbox(Clock clock) {
    this.clock = clock;
  }

  /** Returns an interceptor that answers every request from a fresh simulation. */
  public static Interceptor interceptor(Clock clock) {
    return new Sandbox(clock);
  }

  private static final class SessionState {
    final String id;
    final String owner;
    final String title;
    final Instant createdAt;
    volatile Instant lastActivityAt;
    final List<ObjectNode> messages = new ArrayList<>();

    SessionState(String id, String owner, String title, Instant createdAt) {
      this.id = id;
      this.owner = owner;
      this.title = title;
      this.createdAt = createdAt;
      this.lastActivityAt = createdAt;
    }
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    Request request = chain.request();
    String path = request.url().encodedPath();
    if (path.endsWith("/health")) {
      return respond(request, 200, JSON, "{\"status\":\"ok\"}");
    }
    String user = request.header("X-User-Id");
    if (request.header("Authorization") != null) {
      user = "jwt-user";
    } else if (request.header("X-Service-Token") == null || user == null) {
      return detail(request, 401, "Not authenticated");
    }
    int at = path.indexOf(PREFIX);
    String route = at < 0 ? "" : path.substring(at + PREFIX.length());
    switch (request.method() + " " + (route.startsWith("sessions/") ? "sessions/{id}" : route)) {
      case "POST chat":
        return chat(request, user, false);
      case "POST chat/stream":
        return chat(request, user, true);
      case "GET sessions":
        return list(request, user);
      case "GET sessions/{id}":
      case "DELETE sessions/{id}":
        return session(request, user, route.substring("sessions/".length()));
      default:
        return detail(request, 404, "Not Found");
    }
  }

  private Response chat(Request request, String user, boolean stream) throws IOException {
    Buffer buffer = new Buffer();
    if (request.body() != null) {
      request.body().writeTo(buffer);
    }
    JsonNode body;
    try {
      body = Json.MAPPER.readTree(buffer.readByteArray());
    } catch (IOException e) {
      return detail(request, 400, "Body is not JSON");
    }
    String query = body == null ? "" : body.path("query").asText("");
    if (query.isBlank()) {
      return respond(request, 422, JSON,
          "{\"detail\":[{\"loc\":[\"body\",\"query\"],\"msg\":\"field required\",\"type\":\"value_error.missing\"}]}");
    }
    Matcher fault = FAULT.matcher(query);
    if (fault.find()) {
      return fault(request, Integer.parseInt(fault.group(1)));
    }
    String key = request.header("Idempotency-Key");
    String cacheKey = key == null ? null : user + "\n" + key;
    byte[] cached = cacheKey == null ? null : idempotent.get(cacheKey);
    ObjectNode answer;
    if (cached != null) {
      answer = (ObjectNode) Json.MAPPER.readTree(cached);
    } else {
      SessionState session;
      String sessionId = body.path("session_id").asText(null);
      if (sessionId == null) {
        Instant now = clock.instant();
        session = new SessionState(String.format("sess_%08x", next()), user, title(query), now);
        sessions.put(session.id, session);
      } else {
        session = sessions.get(sessionId);
        if (session == null) {
          return detail(request, 404, "Session not found");
        }
        if (!session.owner.equals(user)) {
          return detail(request, 403, "Session belongs to another user");
        }
      }
      answer = generate(query, body.path("user_intent").asText(null), session);
      if (cacheKey != null) {
        idempotent.put(cacheKey, Json.MAPPER.writeValueAsBytes(answer));
      }
    }
    if (!stream) {
      return respond(request, 200, JSON, Json.MAPPER.writeValueAsString(answer));
    }
    return respond(request, 200, SSE, events(answer));
  }

  private ObjectNode generate(String query, @Nullable String userIntent, SessionState session) {
    String intent = userIntent != null ? userIntent : intentOf(query);
    int hash = query.toLowerCase(Locale.ROOT).hashCode() & 0x7fffffff;
    String quoted = query.length() > 60 ? query.substring(0, 60) + "..." : query;
    ObjectNode answer = Json.MAPPER.createObjectNode();
    answer.put("session_id", session.id);
    answer.put("message_id", String.format("msg_%08x", next()));
    answer.put("intent", intent);
    ArrayNode candidates = answer.putArray("candidates");
    ArrayNode actions = answer.putArray("actions");
    String text;
    switch (intent) {
      case "search":
        text = "I found 3 candidates for \"" + quoted + "\". The strongest match is listed first.";
        for (int i = 0; i < 3; i++) {
          ObjectNode c = candidates.addObject();
          c.put("profile_id", String.format("id_%08x", (hash + i * 7919) & 0xffffffffL));
          c.put("name", NAMES[(hash + i) % NAMES.length]);
          c.put("headline", TITLES[(hash / 7 + i) % TITLES.length]);
          c.put("score", Math.round((0.95 - i * 0.07) * 100) / 100.0);
        }
        break;
      case "user_action":
        text = "Done: I added the candidate to your shortlist.";
        actions.addObject().put("type", "shortlist").put("profile_id", String.format("id_%08x", hash & 0xffffffffL));
        break;
      default:
        text = "You asked: \"" + quoted + "\". In the sandbox I answer every question the same friendly way.";
    }
    answer.put("answer", text);
    ObjectNode usage = answer.putObject("usage");
    int prompt = words(query) + 20;
    int completion = words(text);
    usage.put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
    answer.put("model", "sandbox-1");
    Instant now = clock.instant();
    synchronized (session.messages) {
      session.messages.add(message(String.format("msg_%08x", next()), "user", query, now));
      session.messages.add(message(answer.get("message_id").asText(), "assistant", text, now));
      session.lastActivityAt = now;
    }
    return answer;
  }

  private static String intentOf(String query) {
    String q = query.toLowerCase(Locale.ROOT);
    if (q.matches(".*\\b(shortlist|invite|add)\\b.*")) {
      return "user_action";
    }
    if (q.matches(".*\\b(find|search|candidates?|engineers?|developers?|hire)\\b.*")) {
      return "search";
    }
    return "chat";
  }

  /** The stream of CONTRACT section 2 for a generated answer. */
  private static String events(ObjectNode answer) {
    StringBuilder out = new StringBuilder();
    ObjectNode session = Json.MAPPER.createObjectNode().put("type", "session")
        .put("session_id", answer.get("session_id").asText()).put("message_id", answer.get("message_id").asText());
    event(out, session);
    event(out, Json.MAPPER.createObjectNode().put("type", "intent").put("intent", answer.get("intent").asText()));
    String text = answer.get("answer").asText();
    for (int start = 0; start < text.length(); ) {
      int end = text.indexOf(' ', start + 1);
      end = end < 0 ? text.length() : end;
      event(out, Json.MAPPER.createObjectNode().put("type", "token").put("content", text.substring(start, end)));
      start = end;
    }
    if (answer.get("candidates").size() > 0) {
      ObjectNode candidates = Json.MAPPER.createObjectNode().put("type", "candidates");
      candidates.set("candidates", answer.get("candidates"));
      event(out, candidates);
    }
    for (JsonNode action : answer.get("actions")) {
      ObjectNode a = Json.MAPPER.createObjectNode().put("type", "action");
      a.set("action", action);
      event(out, a);
    }
    ObjectNode done = Json.MAPPER.createObjectNode().put("type", "done").put("finish_reason", "stop");
    done.set("usage", answer.get("usage"));
    event(out, done);
    out.append("data: [DONE]\n\n");
    return out.toString();
  }

  private static void event(StringBuilder out, ObjectNode data) {
    out.append("data: ").append(data.toString()).append("\n\n");
  }

  private Response list(Request request, String user) {
    String limitParam = request.url().queryParameter("limit");
    int limit;
    try {
      limit = limitParam == null ? 10 : Integer.parseInt(limitParam);
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > 100) {
      return respond(request, 422, JSON, "{\"detail\":[{\"loc\":[\"query\",\"limit\"],"
          + "\"msg\":\"ensure this value is between 1 and 100\",\"type\":\"value_error\"}]}");
    }
    List<SessionState> mine = new ArrayList<>();
    for (SessionState s : sessions.values()) {
      if (s.owner.equals(user)) {
        mine.add(s);
      }
    }
    mine.sort(Comparator.comparing((SessionState s) -> s.lastActivityAt).reversed().thenComparing(s -> s.id,
        Comparator.reverseOrder()));
    int offset = 0;
    String cursor = request.url().queryParameter("cursor");
    if (cursor != null) {
      try {
        offset = Integer.parseInt(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        return detail(request, 400, "Invalid cursor");
      }
    }
    ObjectNode page = Json.MAPPER.createObjectNode();
    ArrayNode items = page.putArray("sessions");
    int end = Math.min(mine.size(), offset + limit);
    for (int i = Math.max(0, offset); i < end; i++) {
      items.add(summary(mine.get(i)));
    }
    if (end < mine.size()) {
      page.put("next_cursor", Base64.getUrlEncoder().withoutPadding()
          .encodeToString(Integer.toString(end).getBytes(StandardCharsets.UTF_8)));
    } else {
      page.putNull("next_cursor");
    }
    return respond(request, 200, JSON, page.toString());
  }

  private Response session(Request request, String user, String id) {
    SessionState s = sessions.get(id);
    if (s == null) {
      return detail(request, 404, "Session not found");
    }
    if (!s.owner.equals(user)) {
      return detail(request, 403, "Session belongs to another user");
    }
    if (request.method().equals("DELETE")) {
      sessions.remove(id);
      return respond(request, 204, null, "");
    }
    ObjectNode node = summary(s);
    ArrayNode messages = node.putArray("messages");
    synchronized (s.messages) {
      messages.addAll(s.messages);
    }
    return respond(request, 200, JSON, node.toString());
  }

  private static ObjectNode summary(SessionState s) {
    ObjectNode node = Json.MAPPER.createObjectNode();
    node.put("session_id", s.id);
    node.put("title", s.title);
    node.put("created_at", s.createdAt.toString());
    node.put("last_activity_at", s.lastActivityAt.toString());
    synchronized (s.messages) {
      node.put("message_count", s.messages.size());
    }
    return node;
  }

  private static ObjectNode message(String id, String role, String content, Instant at) {
    return Json.MAPPER.createObjectNode().put("message_id", id).put("role", role).put("content", content)
        .put("created_at", at.toString());
  }

  private Response fault(Request request, int status) {
    if (status == 502 || status == 504) {
      return respond(request, status, HTML, "<html><body><h1>" + status + " Gateway Error</h1></body></html>");
    }
    Response response = detail(request, status, "Simulated failure " + status);
    if (status == 429 || status == 503) {
      return response.newBuilder().header("Retry-After", "1").build();
    }
    return response;
  }

  private static Response detail(Request request, int status, String detail) {
    return respond(request, status, JSON, Json.MAPPER.createObjectNode().put("detail", detail).toString());
  }

  private static Response respond(Request request, int status, @Nullable MediaType type, String body) {
    Response.Builder response = new Response.Builder()
        .request(request)
        .protocol(Protocol.HTTP_1_1)
        .code(status)
        .message(status < 400 ? "OK" : "Error")
        .body(ResponseBody.create(body, type));
    String requestId = request.header("X-Request-Id");
    if (requestId != null) {
      response.header("X-Request-Id", requestId);
    }
    return response.build();
  }

  private static String title(String query) {
    return query.length() > 40 ? query.substring(0, 40).strip() + "..." : query;
  }

  private static int words(String text) {
    return text.isBlank() ? 0 : text.strip().split("\\s+").length;
  }

  private long next() {
    return counter.incrementAndGet();
  }
}
