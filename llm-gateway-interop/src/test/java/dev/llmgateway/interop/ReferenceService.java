package dev.llmgateway.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.auth.JwtKeySet;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * The reference FastAPI service ({@code interop/service/app.py}) running as a subprocess of the test
 * JVM on a free loopback port, with fresh random secrets, plus its test-only admin API ({@code
 * /_test/...}).
 *
 * <p>{@link #start()} fails (never skips) when the service cannot start, with its output in the
 * message. {@link #close()} stops the process and waits for it to exit. One instance serves the whole
 * test run (see {@link ReferenceServiceExtension}); tests {@link #reset()} its state before each test.
 */
final class ReferenceService implements AutoCloseable {
  static final Path PYTHON = Path.of("/usr/bin/python3");
  static final String CHAT_PATH = "/api/v1/llm-chat/recruiter/chat";
  static final String CHAT_STREAM_PATH = "/api/v1/llm-chat/recruiter/chat/stream";

  static final String JWT_KID = "2026-11";
  static final String OLD_JWT_KID = "2026-05";
  static final String STREAM_KID = "stream-2026-11";

  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
  private static final MediaType JSON = MediaType.get("application/json");
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Process process;
  private final OutputStream stdin;
  private final Path log;
  private final Path portFile;
  private final Thread shutdownHook;
  private final OkHttpClient admin;
  private final String serviceToken;
  private final String jwtSecret;
  private final String oldJwtSecret;
  private final String streamSecret;
  private final String webhookSecret;
  private String baseUrl = "";

  private ReferenceService(Process process, Path log, Path portFile, Map<String, String> secrets) {
    this.process = process;
    this.stdin = process.getOutputStream();
    this.log = log;
    this.portFile = portFile;
    this.serviceToken = secrets.get("token");
    this.jwtSecret = secrets.get("jwt");
    this.oldJwtSecret = secrets.get("oldJwt");
    this.streamSecret = secrets.get("stream");
    this.webhookSecret = secrets.get("webhook");
    this.admin = new OkHttpClient.Builder().callTimeout(Duration.ofSeconds(10)).build();
    this.shutdownHook = new Thread(process::destroyForcibly, "reference-service-killer");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Starts the service and waits until {@code GET /health} answers.
   *
   * @throws AssertionError if Python, its packages or the service are missing or broken; the
   *     message holds the service's output
   */
  static ReferenceService start() {
    Path serviceDir = interopDir().resolve("service");
    if (!Files.isExecutable(PYTHON)) {
      throw new AssertionError("The interop tests need Debian's " + PYTHON + " with python3-fastapi, "
          + "python3-uvicorn and python3-jwt (.ci/setup installs them)");
    }
    if (!Files.isRegularFile(serviceDir.resolve("app.py"))) {
      throw new AssertionError("No reference service at " + serviceDir.resolve("app.py"));
    }
    Map<String, String> secrets = new LinkedHashMap<>();
    secrets.put("token", "svc-" + randomText(32));
    secrets.put("jwt", randomText(48));
    secrets.put("oldJwt", randomText(48));
    secrets.put("stream", randomText(48));
    secrets.put("webhook", "whsec_" + Base64.getEncoder().encodeToString(randomBytes(32)));
    try {
      Path log = logFile();
      Path portFile = Files.createTempFile("interop-service-", ".port");
      Files.delete(portFile);
      ProcessBuilder builder = new ProcessBuilder(
          PYTHON.toString(), "app.py", "--port", "0", "--port-file", portFile.toString(), "--exit-on-stdin-eof",
          // The soak test opens hundreds of streams at once.
          "--backlog", "1024")
          .directory(serviceDir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile());
      Map<String, String> env = builder.environment();
      env.keySet().removeIf(name -> name.startsWith("LLM_") || name.startsWith("PYTHON"));
      env.put("PYTHONDONTWRITEBYTECODE", "1");
      env.put("PYTHONUNBUFFERED", "1");
      env.put("LLM_SERVICE_TOKEN", secrets.get("token"));
      env.put("LLM_JWT_KEYS", json(Map.of(JWT_KID, secrets.get("jwt"), OLD_JWT_KID, secrets.get("oldJwt"))));
      env.put("LLM_STREAM_TOKEN_KEYS", json(Map.of(STREAM_KID, secrets.get("stream"))));
      env.put("LLM_WEBHOOK_SECRET", secrets.get("webhook"));
      env.put("LLM_WEBHOOK_MAX_REDELIVERIES", "5");
      env.put("LLM_WEBHOOK_BACKOFF_SECONDS", "0.05");
      env.put("LLM_STALL_MAX_SECONDS", "30");
      env.put("LLM_TEST_MODE", "1");
      ReferenceService service = new ReferenceService(builder.start(), log, portFile, secrets);
      try {
        service.awaitHealthy();
      } catch (RuntimeException | Error e) {
        service.close();
        throw e;
      }
      return service;
    } catch (IOException e) {
      throw new AssertionError("Could not start the reference service: " + e, e);
    }
  }

  private void awaitHealthy() {
    long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
    long backoffMillis = 10;
    String lastProblem = "no port yet";
    while (true) {
      if (!process.isAlive()) {
        throw new AssertionError("The reference service exited with code " + process.exitValue()
            + " before answering /health. Its output:\n" + output());
      }
      int port = readPort();
      if (port > 0) {
        baseUrl = "http://127.0.0.1:" + port;
        try (Response response = admin.newCall(new Request.Builder().url(baseUrl + "/health").build()).execute()) {
          if (response.code() == 200 && response.body().string().contains("\"ok\"")) {
            return;
          }
          lastProblem = "/health answered " + response.code();
        } catch (IOException e) {
          lastProblem = "/health failed: " + e;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("The reference service did not answer /health within "
            + STARTUP_TIMEOUT.toSeconds() + " s (" + lastProblem + "). Its output:\n" + output());
      }
      try {
        Thread.sleep(backoffMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("Interrupted while waiting for the reference service", e);
      }
      backoffMillis = Math.min(backoffMillis * 2, 200);
    }
  }

  private int readPort() {
    try {
      String text = Files.readString(portFile).strip();
      return text.isEmpty() ? 0 : Integer.parseInt(text);
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  /** The service's output so far (uvicorn and the service log to it). */
  String output() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(could not read " + log + ": " + e + ")";
    }
  }

  /** Stops the service (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  @Override
  public void close() {
    try {
      try {
        stdin.close();
      } catch (IOException ignored) {
        // The process is gone already.
      }
      process.destroy();
      if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      admin.dispatcher().executorService().shutdown();
      admin.connectionPool().evictAll();
      try {
        Files.deleteIfExists(portFile);
      } catch (IOException ignored) {
        // A temp file; harmless if it stays.
      }
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException ignored) {
        // The JVM is shutting down; the hook runs anyway.
      }
    }
  }

  // ---- what tests use ----------------------------------------------------------------------

  String baseUrl() {
    return baseUrl;
  }

  String serviceToken() {
    return serviceToken;
  }

  /** A builder for a scheme-1 client of this service (sandbox explicitly off). */
  LlmGatewayClient.Builder clientBuilder() {
    return LlmGatewayClient.builder().baseUrl(baseUrl).serviceToken(serviceToken).sandbox(false);
  }

  LlmGatewayClient client() {
    return clientBuilder().build();
  }

  /** The scheme-2 key the service knows as its current one. */
  JwtKeySet jwtKeys() {
    return JwtKeySet.of(JWT_KID, jwtSecret);
  }

  /** The scheme-2 key the service still accepts from before the last rotation. */
  JwtKeySet oldJwtKeys() {
    return JwtKeySet.of(OLD_JWT_KID, oldJwtSecret);
  }

  /** The key the service verifies stream tokens with. */
  JwtKeySet streamKeys() {
    return JwtKeySet.of(STREAM_KID, streamSecret);
  }

  /** The webhook secret, {@code whsec_<base64>}. */
  String webhookSecret() {
    return webhookSecret;
  }

  /** Clears sessions, idempotency records, used stream tokens, armed faults, counters and the webhook URL. */
  void reset() {
    post("/_test/reset", Map.of());
  }

  /**
   * Arms a fault for the next requests (see interop/service/faults.py), e.g. {@code
   * Map.of("status", 503, "times", 2, "path", CHAT_PATH)}.
   */
  void armFault(Map<String, ?> fault) {
    post("/_test/faults", fault);
  }

  /** Points the service's completion webhooks at {@code url}. */
  void webhookUrl(String url) {
    post("/_test/config", Map.of("webhook_url", url));
  }

  Stats stats() {
    try (Response response = admin.newCall(new Request.Builder().url(baseUrl + "/_test/stats").build()).execute()) {
      if (response.code() != 200) {
        throw new AssertionError("GET /_test/stats answered " + response.code() + ": " + response.body().string());
      }
      return new Stats(MAPPER.readTree(response.body().bytes()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Waits (on the service side, up to 8 s) until the stream with this request id has ended there,
   * and says how: {@code completed}, {@code failed} or {@code cancelled} (the client went away).
   */
  StreamEnd streamEnd(String requestId) {
    Request request = new Request.Builder().url(baseUrl + "/_test/streams/" + requestId + "?wait_seconds=8").build();
    try (Response response = admin.newCall(request).execute()) {
      if (response.code() != 200) {
        throw new AssertionError("GET /_test/streams/" + requestId + " answered " + response.code() + ": "
            + response.body().string());
      }
      JsonNode end = MAPPER.readTree(response.body().bytes());
      return new StreamEnd(end.path("outcome").asText(), end.path("tokens_sent").asInt());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** How a stream ended on the service. */
  record StreamEnd(String outcome, int tokensSent) {}

  /**
   * The W3C trace context each request with this {@code X-Request-Id} carried to the service, in
   * the order they arrived (one per attempt).
   */
  List<ReceivedTrace> traces(String requestId) {
    Request request = new Request.Builder().url(baseUrl + "/_test/traces/" + requestId).build();
    try (Response response = admin.newCall(request).execute()) {
      if (response.code() != 200) {
        throw new AssertionError("GET /_test/traces/" + requestId + " answered " + response.code() + ": "
            + response.body().string());
      }
      List<ReceivedTrace> traces = new ArrayList<>();
      for (JsonNode trace : MAPPER.readTree(response.body().bytes()).path("requests")) {
        traces.add(new ReceivedTrace(trace.path("traceparent").asText(null), trace.path("tracestate").asText(null),
            trace.path("valid").asBoolean(), trace.path("trace_id").asText(null), trace.path("parent_id").asText(null)));
      }
      return traces;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The trace context of one request as the service read it: the headers, and when {@code
   * traceparent} was valid the trace id and parent span id its spans continue.
   */
  record ReceivedTrace(
      @Nullable String traceparent, @Nullable String tracestate, boolean valid, @Nullable String traceId,
      @Nullable String parentId) {}

  private void post(String path, Map<String, ?> body) {
    Request request = new Request.Builder().url(baseUrl + path).post(RequestBody.create(json(body), JSON)).build();
    try (Response response = admin.newCall(request).execute()) {
      if (response.code() != 200) {
        throw new AssertionError("POST " + path + " answered " + response.code() + ": " + response.body().string());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The counters of {@code GET /_test/stats}. */
  record Stats(JsonNode json) {
    int requestsWithRequestId(String requestId) {
      return json.path("requests_by_request_id").path(requestId).asInt(0);
    }

    int generationsForIdempotencyKey(String key) {
      return json.path("generations_by_idempotency_key").path(key).asInt(0);
    }

    int generationsForRequestId(String requestId) {
      return json.path("generations_by_request_id").path(requestId).asInt(0);
    }

    int replaysForIdempotencyKey(String key) {
      return json.path("idempotent_replays_by_key").path(key).asInt(0);
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  private static Path interopDir() {
    String configured = System.getProperty("interop.dir");
    Path dir = configured != null
        ? Path.of(configured)
        : Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../interop");
    return dir.toAbsolutePath().normalize();
  }

  private static Path logFile() throws IOException {
    String configured = System.getProperty("interop.log");
    if (configured == null) {
      return Files.createTempFile("interop-service-", ".log");
    }
    Path log = Path.of(configured);
    Files.createDirectories(log.getParent());
    return log;
  }

  private static String json(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  private static String randomText(int bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(bytes));
  }
}
