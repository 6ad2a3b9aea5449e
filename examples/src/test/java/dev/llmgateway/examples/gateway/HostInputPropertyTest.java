package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.AuditSink;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * No client input gets a 5xx: seeded, repeatable generated requests over every route of a host
 * (the chat routes, background chats included, sessions, the webhook, the demo sign-in, the
 * sandbox's direct-stream endpoint, the page; the events subscription only by the paths beside it,
 * as a signed-in one never ends), written byte by byte on a socket so that nothing a browser or an attacker can send is
 * out of reach: junk and wrongly typed JSON bodies, huge numbers, unpaired surrogates, invalid
 * UTF-8, bodies cut short, junk {@code Authorization} headers, junk path ids and query strings,
 * repeated parameters, wrong methods. Every answer must be below 500, and a JSON answer must be the
 * host's envelope (a 4xx one with {@code success: false}). The gateway runs on the embedded sandbox
 * with no rate limit, so that input gets as far as it can.
 *
 * <p>{@value #RUNS_PROPERTY} (default {@value #DEFAULT_RUNS}) and {@value #SEED_PROPERTY} change the
 * number of requests and the seed; a failure names the seed and the request's index, and request
 * {@code i} depends only on the seed and {@code i} ({@value #ONLY_PROPERTY}{@code =i} replays it).
 */
public abstract class HostInputPropertyTest {
  /** The system property with the number of generated requests. */
  public static final String RUNS_PROPERTY = "examples.fuzz.runs";
  /** The system property with the seed. */
  public static final String SEED_PROPERTY = "examples.fuzz.seed";
  /** The system property that replays one request by its index. */
  public static final String ONLY_PROPERTY = "examples.fuzz.only";
  static final int DEFAULT_RUNS = 600;
  private static final long DEFAULT_SEED = 0x5EED_2026L;
  private static final int SOCKET_TIMEOUT_MILLIS = 30_000;
  private static final int MAX_FAILURES_SHOWN = 20;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String WHSEC = "whsec_" + java.util.Base64.getEncoder()
      .encodeToString("property-test-webhook-secret-0123456789".getBytes(StandardCharsets.UTF_8));
  private static final WebhookSecret WEBHOOK_SECRET = WebhookSecret.parse(WHSEC);
  private static final String API = GatewayRoutes.API;

  private LlmGatewayClient client;
  private GatewayHost gateway;
  private String validToken;
  private String ghostToken;
  private final List<String> streamTokens = new ArrayList<>();
  private final List<String> requestIds = new ArrayList<>();

  /**
   * Starts the host under test.
   *
   * @param settings the example's configuration (sandbox client, port 0, no rate limit)
   * @return the started host
   * @throws IOException if it cannot start
   */
  protected abstract GatewayHost start(HostSettings settings) throws IOException;

  @BeforeEach
  void setUp() throws IOException {
    client = LlmGatewayClient.builder().sandbox(true).environment(name -> null).auditSink(AuditSink.none()).build();
    InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
    ledger.deposit(DemoGateway.demoUser().userId(), 1_000_000_000L);
    gateway = start(HostSettings.builder().client(client).ledger(ledger).webhookSecret(WHSEC)
        .gateway(settings -> settings.rateLimiter((key, operation) -> RateLimiter.Decision.allow())));
    validToken = gateway.users().issue(DemoGateway.demoUser().userId());
    ghostToken = gateway.users().issue("ghost"); // signed, but no such user
    // Real stream tokens and request ids, so that mutations of them get past the first checks.
    for (int i = 0; i < 3; i++) {
      Probe init = new Probe("POST", API + "/chat/init", List.of("Authorization: Bearer " + validToken,
          "Content-Type: application/json"), utf8("{\"query\":\"hi\"}"), false);
      Answer answer = send(init);
      assertThat(answer.status()).as(answer.text()).isEqualTo(200);
      JsonNode data = JSON.readTree(answer.body()).get("data");
      String url = data.get("url").asText();
      streamTokens.add(url.substring(url.indexOf("token=") + "token=".length()));
      requestIds.add(data.get("request_id").asText());
    }
  }

  @AfterEach
  void tearDown() {
    if (gateway != null) {
      gateway.close();
    }
    client.close();
  }

  @Test
  void noClientInputGetsA5xx() throws Exception {
    long seed = Long.getLong(SEED_PROPERTY, DEFAULT_SEED);
    int runs = Integer.getInteger(RUNS_PROPERTY, DEFAULT_RUNS);
    Integer only = Integer.getInteger(ONLY_PROPERTY);
    List<String> failures = new ArrayList<>();
    java.util.SortedMap<Integer, Integer> statuses = new java.util.TreeMap<>();
    int failed = 0;
    for (int i = only != null ? only : 0; i < (only != null ? only + 1 : runs); i++) {
      Probe probe = new Generator(new Random(seed * 1_000_003L + i)).probe();
      Answer answer = send(probe);
      statuses.merge(answer.status(), 1, Integer::sum);
      String problem = problem(probe, answer);
      if (problem != null) {
        failed++;
        if (failures.size() < MAX_FAILURES_SHOWN) {
          failures.add("#" + i + " " + problem + "\n    " + probe.describe() + "\n    -> " + answer.text());
        }
      }
    }
    assertThat(failures)
        .as("%d of the requests got a 5xx or a malformed answer (seed %d; replay one with -D%s=<seed> -D%s=<index>):%n%s",
            failed, seed, SEED_PROPERTY, ONLY_PROPERTY, String.join("\n", failures))
        .isEmpty();
    if (only == null) {
      // The generated input got everywhere: accepted, refused unsigned-in, refused as invalid, no route.
      assertThat(statuses).as("answers by status").containsKeys(200, 400, 401, 404, 405, 413, 422);
    }
  }

  /** What is wrong with an answer, or null. */
  private static String problem(Probe probe, Answer answer) {
    if (answer.status() < 100) {
      // A body cut short may be answered by closing the connection, and so may a body over the
      // limit that a server does not read to its end (its close resets the connection, and the
      // reset may overtake the answer); anything else deserves an answer.
      boolean oversize = probe.body() != null && probe.body().length > GatewayRoutes.MAX_BODY_BYTES;
      return probe.cutShort() || oversize ? null : "no HTTP answer";
    }
    if (answer.status() >= 500) {
      return "status " + answer.status();
    }
    if (answer.contentType().startsWith("application/json") && answer.body().length > 0 && !answer.chunked()) {
      try {
        JsonNode envelope = JSON.readTree(answer.body());
        if (!envelope.path("success").isBoolean() || !envelope.has("message")) {
          return "JSON that is not the envelope";
        }
        if (answer.status() >= 400 && envelope.get("success").asBoolean()) {
          return "a " + answer.status() + " with success: true";
        }
      } catch (IOException e) {
        return "malformed JSON";
      }
    }
    return null;
  }

  /** One request, exactly as sent. */
  record Probe(String method, String target, List<String> headers, byte[] body, boolean cutShort) {
    String describe() {
      String shown = body == null ? "no body" : preview(new String(body, StandardCharsets.ISO_8859_1));
      return method + " " + preview(target) + " " + headers.stream().map(Probe::preview).toList() + " " + shown
          + (cutShort ? " (cut short)" : "");
    }

    private static String preview(String s) {
      String escaped = s.chars().mapToObj(c -> c >= 0x20 && c < 0x7f ? String.valueOf((char) c)
          : String.format(Locale.ROOT, "\\x%02x", c)).reduce("", String::concat);
      return escaped.length() > 160 ? escaped.substring(0, 160) + "...(" + s.length() + " chars)" : escaped;
    }
  }

  /** The status line's status, the response's content type and body (as sent: chunked bodies raw). */
  record Answer(int status, String contentType, boolean chunked, byte[] body, String head) {
    String text() {
      String body = new String(this.body, StandardCharsets.UTF_8);
      return head.lines().findFirst().orElse("(nothing)") + " " + (body.length() > 300 ? body.substring(0, 300) : body);
    }
  }

  private Answer send(Probe probe) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
      socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
      ByteArrayOutputStream request = new ByteArrayOutputStream();
      request.write((probe.method() + " " + probe.target() + " HTTP/1.1\r\n").getBytes(StandardCharsets.ISO_8859_1));
      List<String> headers = new ArrayList<>();
      headers.add("Host: 127.0.0.1:" + gateway.port());
      headers.add("Connection: close");
      if (probe.body() != null) {
        headers.add("Content-Length: " + (probe.body().length + (probe.cutShort() ? 10 : 0)));
      }
      headers.addAll(probe.headers());
      for (String header : headers) {
        request.write((header + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      }
      request.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
      if (probe.body() != null) {
        request.write(probe.body());
      }
      OutputStream out = socket.getOutputStream();
      out.write(request.toByteArray());
      out.flush();
      if (probe.cutShort()) {
        socket.shutdownOutput(); // the body ends before its Content-Length
      }
      return read(socket.getInputStream());
    }
  }

  private static Answer read(InputStream in) throws IOException {
    byte[] all;
    try {
      all = in.readAllBytes();
    } catch (java.net.SocketException reset) {
      all = new byte[0]; // reset before any answer
    }
    String text = new String(all, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    String head = end < 0 ? text : text.substring(0, end);
    byte[] body = end < 0 ? new byte[0] : java.util.Arrays.copyOfRange(all, end + 4, all.length);
    int status = 0;
    if (head.startsWith("HTTP/1.") && head.length() >= 12) {
      try {
        status = Integer.parseInt(head.substring(9, 12));
      } catch (NumberFormatException e) {
        status = 0;
      }
    }
    String contentType = "";
    boolean chunked = false;
    for (String line : head.split("\r\n")) {
      String lower = line.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-type:")) {
        contentType = lower.substring("content-type:".length()).trim();
      } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
        chunked = true;
      }
    }
    return new Answer(status, contentType, chunked, body, head);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Makes up requests, each from its own random source. */
  private final class Generator {
    private final Random random;

    Generator(Random random) {
      this.random = random;
    }

    private <T> T pick(List<T> choices) {
      return choices.get(random.nextInt(choices.size()));
    }

    private boolean chance(int percent) {
      return random.nextInt(100) < percent;
    }

    Probe probe() {
      int route = random.nextInt(10);
      List<String> headers = new ArrayList<>();
      byte[] body = null;
      String method;
      String target;
      switch (route) {
        case 0, 1, 2 -> { // the chat routes
          method = chance(85) ? "POST" : method();
          target = API + pick(List.of("/chat", "/chat/stream", "/chat/init", "/chat/background")) + (chance(10) ? "?" + queryString() : "");
          authorization(headers);
          body = chatBody();
        }
        case 3, 4 -> {
          method = chance(85) ? "GET" : method();
          target = API + pick(List.of("/sessions", "/sessions/", "//sessions")) + (chance(85) ? "?" + queryString() : "");
          authorization(headers);
        }
        case 5 -> {
          method = pick(List.of("GET", "GET", "DELETE", "DELETE", "PUT", "POST", "HEAD", "PATCH"));
          target = API + "/sessions/" + pathJunk() + (chance(20) ? "?" + queryString() : "");
          authorization(headers);
        }
        case 6, 7 -> {
          method = chance(90) ? "POST" : method();
          target = GatewayRoutes.WEBHOOK + (chance(10) ? "?" + queryString() : "");
          body = webhookBody();
          webhookHeaders(headers, body);
        }
        case 8 -> {
          method = chance(80) ? "GET" : method();
          target = DemoGateway.SANDBOX_SERVICE + pick(List.of("", "", "x", "chat/stream")) + "?" + sandboxQuery();
        }
        default -> {
          method = method();
          target = pick(List.of("/", "/index.html", "/chat.js", "/demo/token", "/nothing", "/INDEX.HTML",
              "/static/index.html", "/..%2f..%2fetc%2fpasswd", "/%2e%2e/pom.xml", "/chat.js%00.html", "/a.html",
              "/%ZZ", API, API + "/", API + "/chat/", API + "/chat/stream/x", API + "/chat/background/x", API + "/events/",
              API + "/events/x", "/webhooks/", "/" + pathJunk())); // not GET /events itself: it never ends
          if (chance(30)) {
            authorization(headers);
          }
        }
      }
      if (body == null && chance(15)) {
        body = chatBody(); // a body where none is expected
      }
      if (body != null && chance(70)) {
        headers.add("Content-Type: " + pick(List.of("application/json", "application/json", "text/plain",
            "application/json; charset=iso-8859-1", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
            "\u00ff/\u00fe", "")));
      }
      if (chance(5)) {
        headers.add(pick(List.of("Expect: 100-continue", "Accept: text/event-stream", "Accept: */*; q=junk",
            "X-Forwarded-For: \u00ff", "Cookie: a=b; c", "Range: bytes=junk", "Accept-Encoding: gzip")));
      }
      return new Probe(method, target, headers, body, body != null && chance(4));
    }

    private String method() {
      return pick(List.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "FOO", "get", "TRACE"));
    }

    private void authorization(List<String> headers) {
      if (chance(65)) {
        headers.add("Authorization: Bearer " + validToken);
        return;
      }
      String junk = pick(List.<Supplier<String>>of(
          () -> null,
          () -> "Bearer",
          () -> "Bearer ",
          () -> "Bearer  " + validToken + "  ",
          () -> "bearer " + validToken,
          () -> "Bearer " + validToken + "x",
          () -> "Bearer " + validToken.substring(0, validToken.length() / 2),
          () -> "Bearer " + ghostToken,
          () -> "Basic dXNlcjpwYXNz",
          () -> "Bearer a.b.c",
          () -> "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjMiLCJzY3AiOiJ1c2VyIn0.",
          () -> "Bearer " + "x".repeat(random.nextInt(6000)),
          () -> "Bearer \u00ff\u00fe\u0080",
          () -> "Bearer " + text()
              .replace("\r", "").replace("\n", ""))).get();
      if (junk != null) {
        headers.add("Authorization: " + junk);
        if (chance(15)) {
          headers.add("Authorization: Bearer " + validToken); // repeated
        }
      }
    }

    private String queryString() {
      List<String> pairs = new ArrayList<>();
      int n = random.nextInt(4);
      for (int i = 0; i < n; i++) {
        pairs.add(pick(List.<Supplier<String>>of(
            () -> "limit=" + number(),
            () -> "limit=" + number(),
            () -> "cursor=" + pick(List.of("", "abc", "c_123", encoded(text()), "%ZZ", "%", "a%2", "x".repeat(3000))),
            () -> "limit",
            () -> "=",
            () -> "=5",
            () -> "%ZZ=1",
            () -> "limit=%ZZ",
            () -> "limit=%ED%A0%80",
            () -> encoded(text()) + "=" + encoded(text()),
            () -> "token=" + encoded(text()))).get());
      }
      return String.join(pick(List.of("&", "&", "&&", ";")), pairs);
    }

    private String sandboxQuery() {
      String token = pick(List.<Supplier<String>>of(
          () -> streamTokens.get(random.nextInt(streamTokens.size())),
          () -> mutate(streamTokens.get(random.nextInt(streamTokens.size()))),
          () -> encoded(text()),
          () -> "%ZZ",
          () -> "",
          () -> validToken)).get();
      return pick(List.of("token=" + token, "token=" + token + "&token=x", "x=1&token=" + token, queryString()));
    }

    private String number() {
      return pick(List.of("abc", "", "-1", "0", "1", "5", "100", "101", "99999999999999999999", "1e3", "0x10",
          "+5", "%205", "5%20", "%D9%A5", "NaN", "2147483648", "-2147483649", "1.0", "010", "%00"));
    }

    private String pathJunk() {
      return pick(List.of("sess_1", "", "a".repeat(129), "a".repeat(5000), "a%2Fb", "%00", "%ZZ", "..", "%2e%2e",
          "%ED%A0%80", "%C3%A9", "a%20b", "1;drop", "sess_1/", "sess_1/x", "%FF%FE", encoded(text())));
    }

    private String mutate(String s) {
      if (s.isEmpty()) {
        return "x";
      }
      int at = random.nextInt(s.length());
      return s.substring(0, at) + pick(List.of("A", "%", "-", "", ".", "%2E")) + s.substring(at + 1);
    }

    /** A string of the kinds a browser (or anything) could send. */
    private String text() {
      return pick(List.<Supplier<String>>of(
          () -> "Find senior Rails engineers",
          () -> "",
          () -> "   ",
          () -> "x".repeat(random.nextInt(2 * 2001)),
          () -> "\ud800",
          () -> "a\udc00b",
          () -> "\ud83d\ude00 emoji",
          () -> "\u0000\u0001\u001f",
          () -> "\u202e\u2028\u2029",
          () -> "#sandbox:nonsense",
          () -> "#sandbox:status=404",
          () -> "<script>alert(1)</script>",
          () -> "é€中",
          () -> randomChars())).get();
    }

    private String randomChars() {
      StringBuilder s = new StringBuilder();
      int n = random.nextInt(40);
      for (int i = 0; i < n; i++) {
        s.append((char) (random.nextBoolean() ? 0x20 + random.nextInt(0x5f) : random.nextInt(0x10000)));
      }
      return s.toString();
    }

    private String encoded(String s) {
      return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** A JSON string literal of {@code s}, escaping every non-ASCII char (unpaired surrogates stay unpaired). */
    private String jsonString(String s) {
      StringBuilder out = new StringBuilder("\"");
      for (char c : s.toCharArray()) {
        if (c == '"' || c == '\\') {
          out.append('\\').append(c);
        } else if (c < 0x20 || c > 0x7e) {
          out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
        } else {
          out.append(c);
        }
      }
      return out.append('"').toString();
    }

    /** A JSON value of any type, mostly small. */
    private String jsonValue() {
      return pick(List.<Supplier<String>>of(
          () -> jsonString(text()),
          () -> jsonString(text()),
          () -> "null",
          () -> "true",
          () -> "0",
          () -> "-1",
          () -> "1e999999",
          () -> "123456789012345678901234567890",
          () -> "-0.0",
          () -> "[]",
          () -> "{}",
          () -> "[" + jsonString(text()) + "]",
          () -> "{\"a\":" + jsonString(text()) + "}",
          () -> "[".repeat(random.nextInt(3000)))).get();
    }

    private byte[] chatBody() {
      return pick(List.<Supplier<byte[]>>of(
          this::chatObject,
          this::chatObject,
          this::chatObject,
          () -> utf8(jsonValue()),
          () -> junkBytes(),
          () -> new byte[0],
          () -> utf8("{\"query\":\"hi\"".repeat(1 + random.nextInt(3))),
          () -> utf8("{\"query\":\"hi\",\"query\":5}"),
          () -> utf8("\ufeff{\"query\":\"hi\"}"),
          () -> new byte[] {'{', '"', 'q', 'u', 'e', 'r', 'y', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'},
          () -> new byte[] {'{', '"', 'q', 'u', 'e', 'r', 'y', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'},
          () -> utf8("{\"query\":\"" + "x".repeat(GatewayRoutes.MAX_BODY_BYTES) + "\"}"))).get();
    }

    private byte[] chatObject() {
      List<String> members = new ArrayList<>();
      if (chance(85)) {
        members.add("\"query\":" + (chance(60) ? jsonString(text()) : jsonValue()));
      }
      if (chance(40)) {
        members.add("\"session_id\":" + (chance(50) ? jsonString(pick(List.of("sess_1", "s", "a/b", "x".repeat(129))))
            : jsonValue()));
      }
      if (chance(40)) {
        members.add("\"user_intent\":" + (chance(50)
            ? jsonString(pick(List.of("search", "chat", "user_action", "SEARCH", "junk", ""))) : jsonValue()));
      }
      if (chance(40)) {
        members.add("\"profile_id\":" + (chance(50)
            ? jsonString(pick(List.of("id_0123abcd", "0123456789abcdef01234567", "id_xyz", ""))) : jsonValue()));
      }
      if (chance(20)) {
        members.add(jsonString(text()) + ":" + jsonValue()); // a member nobody reads
      }
      return utf8("{" + String.join(",", members) + "}");
    }

    private byte[] junkBytes() {
      byte[] bytes = new byte[random.nextInt(200)];
      random.nextBytes(bytes);
      return bytes;
    }

    private byte[] webhookBody() {
      if (chance(25)) {
        return chatBody();
      }
      String requestId = pick(List.<Supplier<String>>of(
          () -> jsonString(requestIds.get(random.nextInt(requestIds.size()))),
          () -> jsonString(text()),
          () -> jsonValue())).get();
      List<String> data = new ArrayList<>();
      data.add("\"request_id\":" + requestId);
      data.add("\"status\":" + (chance(70)
          ? jsonString(pick(List.of("completed", "failed", "cancelled", "exploded", ""))) : jsonValue()));
      if (chance(70)) {
        data.add("\"usage\":" + (chance(60) ? "{\"prompt_tokens\":" + pick(List.of("1", "-5", "1e999", "\"3\"", "null",
            "99999999999999999999")) + ",\"completion_tokens\":" + pick(List.of("2", "-1", "[]", "0"))
            + ",\"total_tokens\":" + pick(List.of("3", "-4", "{}", "2147483648")) + "}" : jsonValue()));
      }
      for (String field : List.of("session_id", "message_id", "user_id", "company_id", "finish_reason", "completed_at")) {
        if (chance(50)) {
          data.add("\"" + field + "\":" + (chance(50) ? jsonString(pick(List.of("s", "123", "456", "stop",
              "2026-11-28T12:00:00Z", "yesterday"))) : jsonValue()));
        }
      }
      String type = chance(85) ? "\"chat.completed\"" : jsonValue();
      return utf8("{\"type\":" + type + ",\"data\":" + (chance(90) ? "{" + String.join(",", data) + "}" : jsonValue()) + "}");
    }

    private void webhookHeaders(List<String> headers, byte[] body) {
      boolean printable = chance(80);
      String id = printable ? "msg_" + Long.toHexString(random.nextLong()) : pick(List.of("", "msg 1", "\u00ff", "x".repeat(300)));
      Instant at = chance(85) ? Instant.now() : Instant.now().minusSeconds(pick(List.of(-100_000L, 100_000L, 301L)));
      if (printable && chance(85)) { // signed with the right secret: the body's own checks are reached
        WebhookSigner.of(WEBHOOK_SECRET).headers(id, at, body).forEach((name, value) -> headers.add(name + ": " + value));
        return;
      }
      if (chance(80)) {
        headers.add("webhook-id: " + id);
      }
      if (chance(80)) {
        headers.add("webhook-timestamp: " + pick(List.of(Long.toString(at.getEpochSecond()), "abc", "-1", "",
            "99999999999999999999", "1e9", " 1")));
      }
      if (chance(80)) {
        headers.add("webhook-signature: " + pick(List.of("v1,AAAA", "v1,", "", "v2,xyz", "v1,a v1,b", "v1,%%%",
            "v1," + "A".repeat(5000))));
      }
    }
  }
}
