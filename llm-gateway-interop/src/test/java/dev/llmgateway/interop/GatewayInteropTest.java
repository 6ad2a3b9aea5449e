package dev.llmgateway.interop;

import static dev.llmgateway.interop.ExampleGateway.API;
import static dev.llmgateway.interop.ExampleGateway.DEPOSIT;
import static dev.llmgateway.interop.ExampleGateway.ESTIMATE;
import static dev.llmgateway.interop.ExampleGateway.charge;
import static dev.llmgateway.interop.Fixtures.ADA;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static dev.llmgateway.interop.Fixtures.withFault;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Usage;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.interop.ExampleGateway.Settlements.Settled;
import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseReader;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The example gateway ({@code GatewayServer}, in this JVM) in front of the reference service: the
 * host API reserves and settles credits for direct streams (settled by the service's signed
 * completion webhook, CONTRACT section 5) and for relayed streams. The test plays the browser.
 */
@InteropTest
class GatewayInteropTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final MediaType JSON = MediaType.get("application/json");

  private final ReferenceService service;
  private final OkHttpClient http = new OkHttpClient();
  private final OkHttpClient browser = new OkHttpClient.Builder().readTimeout(WAIT).build();
  private ExampleGateway gateway;

  GatewayInteropTest(ReferenceService service) {
    this.service = service;
  }

  @BeforeEach
  void setUp() throws IOException {
    gateway = ExampleGateway.start(service, http, ADA);
  }

  @AfterEach
  void tearDown() {
    gateway.close();
    for (OkHttpClient client : List.of(http, browser)) {
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
  }

  /** Every event a browser saw, {@code [DONE]} included. */
  record Events(List<ServerSentEvent> events) {
    List<String> data() {
      return events.stream().map(ServerSentEvent::data).toList();
    }

    /** The first event of the service's with this {@code type} field. */
    JsonNode event(String type) throws IOException {
      for (String d : data()) {
        if (!d.equals("[DONE]")) {
          JsonNode event = MAPPER.readTree(d);
          if (event.path("type").asText().equals(type)) {
            return event;
          }
        }
      }
      throw new AssertionError("No " + type + " event in " + data());
    }

    /** The usage of the service's {@code done} event (direct streams). */
    Usage doneUsage() throws IOException {
      return usage(event("done").path("usage"));
    }

    /** The usage of the relay's final {@code complete} event. */
    Usage completeUsage() throws IOException {
      ServerSentEvent last = events.get(events.size() - 1);
      assertThat(last.type()).isEqualTo("complete");
      return usage(MAPPER.readTree(last.data()).path("usage"));
    }

    private static Usage usage(JsonNode usage) {
      return new Usage(usage.path("prompt_tokens").asLong(), usage.path("completion_tokens").asLong(),
          usage.path("total_tokens").asLong());
    }
  }

  private Request.Builder toGateway(String path) {
    return new Request.Builder().url(gateway.url(path)).header("Authorization", gateway.bearer(ADA));
  }

  /** {@code POST …/chat/init} on the gateway: the envelope's data (token, url, expiry, request id). */
  private JsonNode init(String query) throws IOException {
    Request request = toGateway(API + "/chat/init")
        .post(RequestBody.create(MAPPER.writeValueAsString(Map.of("query", query)), JSON)).build();
    try (Response response = browser.newCall(request).execute()) {
      String body = response.body().string();
      assertThat(response.code()).as(body).isEqualTo(200);
      return MAPPER.readTree(body).path("data");
    }
  }

  private static Events read(Response response) throws IOException {
    List<ServerSentEvent> events = new ArrayList<>();
    try (SseReader reader = SseReader.create(response.body().source())) {
      for (ServerSentEvent event; (event = reader.next()) != null; ) {
        events.add(event);
      }
    }
    return new Events(events);
  }

  /** The browser streams straight from the service with the gateway's stream token. */
  private Events openDirect(JsonNode init) throws IOException {
    Request request = new Request.Builder().url(init.path("url").asText()).header("Accept", "text/event-stream").build();
    try (Response response = browser.newCall(request).execute()) {
      assertThat(response.code()).isEqualTo(200);
      assertThat(response.header("X-Request-Id")).isEqualTo(init.path("request_id").asText());
      return read(response);
    }
  }

  private Usage syncUsage(String query) {
    try (LlmGatewayClient client = service.client()) {
      return client.chat(ChatRequest.of(query), ADA).usage();
    }
  }

  @Test
  void aDirectStreamIsCommittedOnceByTheServicesWebhook() throws Exception {
    service.webhookUrl(gateway.webhookUrl());
    JsonNode init = init(SEARCH_QUERY);
    String requestId = init.path("request_id").asText();
    assertThat(init.path("url").asText()).startsWith(service.baseUrl() + "/api/");
    assertThat(gateway.ledger().reserved(ADA.userId())).isEqualTo(ESTIMATE);

    Events events = openDirect(init);
    Settled settled = gateway.settlements().next(WAIT);

    assertThat(events.data()).last().isEqualTo("[DONE]");
    assertThat(settled.reservation().requestId()).isEqualTo(requestId);
    assertThat(settled.settlement()).isEqualTo(Settlement.COMMITTED);
    assertThat(gateway.ledger().balance(ADA.userId())).isEqualTo(DEPOSIT - charge(events.doneUsage()));
    assertThat(gateway.ledger().reserved(ADA.userId())).isZero();
    assertThat(gateway.settlements().of(requestId)).containsExactly(Settlement.COMMITTED);
  }

  @Test
  void aRedeliveredWebhookBillsOnce() throws Exception {
    try (Forwarder forwarder = Forwarder.start(http, gateway.webhookUrl())) {
      forwarder.answerService(500); // the service redelivers, though the gateway has handled it
      service.webhookUrl(forwarder.url());
      JsonNode init = init(SEARCH_QUERY);
      String requestId = init.path("request_id").asText();

      Events events = openDirect(init);
      Forwarder.Forwarded first = forwarder.next(WAIT);
      Forwarder.Forwarded second = forwarder.next(WAIT);
      String replayed = forwarder.replay(second);

      assertThat(second.webhookId()).isEqualTo(first.webhookId());
      assertThat(first.gatewayOutcome()).isEqualTo("committed");
      assertThat(second.gatewayOutcome()).isEqualTo("duplicate");
      assertThat(replayed).isEqualTo("duplicate");
      assertThat(gateway.settlements().of(requestId)).containsExactly(Settlement.COMMITTED);
      assertThat(gateway.ledger().balance(ADA.userId())).isEqualTo(DEPOSIT - charge(events.doneUsage()));
    }
  }

  @Test
  void anAbortedDirectStreamIsChargedForTheUsageTheServiceReports() throws Exception {
    service.webhookUrl(gateway.webhookUrl());
    long promptTokens = syncUsage(SEARCH_QUERY).promptTokens();
    JsonNode init = init(withFault(SEARCH_QUERY, "stall_after=2"));
    Call call = browser.newCall(new Request.Builder().url(init.path("url").asText()).build());
    try (Response response = call.execute(); SseReader reader = SseReader.create(response.body().source())) {
      for (int i = 0; i < 4; i++) { // session, intent, two tokens; then the service stalls
        assertThat(reader.next()).isNotNull();
      }
      call.cancel();
    }

    Settled settled = gateway.settlements().next(WAIT);

    // The policy: the usage the service reported (here the prompt and the two tokens sent).
    assertThat(settled.reservation().requestId()).isEqualTo(init.path("request_id").asText());
    assertThat(settled.settlement()).isEqualTo(Settlement.COMMITTED);
    assertThat(gateway.ledger().balance(ADA.userId()))
        .isEqualTo(DEPOSIT - charge(new Usage(promptTokens, 2, promptTokens + 2)));
    assertThat(gateway.ledger().reserved(ADA.userId())).isZero();
  }

  @Test
  void theRelayCommitsTheUsageTheServiceReported() throws Exception {
    Usage expected = syncUsage(SEARCH_QUERY);
    Request request = toGateway(API + "/chat/stream")
        .post(RequestBody.create(MAPPER.writeValueAsString(Map.of("query", SEARCH_QUERY)), JSON)).build();

    Events events;
    try (Response response = browser.newCall(request).execute()) {
      assertThat(response.code()).isEqualTo(200);
      assertThat(response.header("Content-Type")).startsWith("text/event-stream");
      events = read(response);
    }
    Settled settled = gateway.settlements().next(WAIT);

    assertThat(events.event("done").path("usage").path("total_tokens").asLong()).isEqualTo(expected.totalTokens());
    assertThat(events.completeUsage()).isEqualTo(expected);
    assertThat(settled.settlement()).isEqualTo(Settlement.COMMITTED);
    assertThat(gateway.settlements().of(settled.reservation().requestId())).containsExactly(Settlement.COMMITTED);
    assertThat(gateway.ledger().balance(ADA.userId())).isEqualTo(DEPOSIT - charge(expected));
    assertThat(gateway.ledger().reserved(ADA.userId())).isZero();
  }

  /**
   * Between the service and the gateway's webhook endpoint: forwards every delivery as received,
   * records what the gateway did, and answers the service with queued statuses (then 204), so the
   * service redelivers a webhook the gateway has already handled.
   */
  static final class Forwarder implements AutoCloseable {
    /** One delivery and the gateway's outcome for it. */
    record Forwarded(String webhookId, Map<String, String> headers, byte[] body, String gatewayOutcome) {}

    private static final List<String> SIGNED_HEADERS = List.of("webhook-id", "webhook-timestamp", "webhook-signature");

    private final HttpServer server;
    private final OkHttpClient http;
    private final String target;
    private final BlockingQueue<Forwarded> forwarded = new LinkedBlockingQueue<>();
    private final Queue<Integer> answers = new ConcurrentLinkedQueue<>();

    private Forwarder(HttpServer server, OkHttpClient http, String target) {
      this.server = server;
      this.http = http;
      this.target = target;
    }

    static Forwarder start(OkHttpClient http, String target) throws IOException {
      HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      Forwarder forwarder = new Forwarder(server, http, target);
      server.createContext("/", forwarder::handle);
      server.start();
      return forwarder;
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/webhook";
    }

    void answerService(int... statuses) {
      for (int status : statuses) {
        answers.add(status);
      }
    }

    Forwarded next(Duration timeout) throws InterruptedException {
      Forwarded next = forwarded.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (next == null) {
        throw new AssertionError("No webhook delivery within " + timeout.toMillis() + " ms");
      }
      return next;
    }

    /** Sends a delivery to the gateway again, byte for byte; returns the gateway's outcome. */
    String replay(Forwarded delivery) throws IOException {
      return forward(delivery.headers(), delivery.body());
    }

    private void handle(HttpExchange exchange) throws IOException {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      Map<String, String> headers = new java.util.LinkedHashMap<>();
      for (String name : SIGNED_HEADERS) {
        headers.put(name, exchange.getRequestHeaders().getFirst(name));
      }
      String outcome = forward(headers, body);
      Integer status = answers.poll();
      exchange.sendResponseHeaders(status == null ? 204 : status, -1);
      exchange.close();
      forwarded.add(new Forwarded(headers.get("webhook-id"), headers, body, outcome));
    }

    private String forward(Map<String, String> headers, byte[] body) throws IOException {
      Request.Builder request = new Request.Builder().url(target).post(RequestBody.create(body, JSON));
      headers.forEach(request::header);
      try (Response response = http.newCall(request.build()).execute()) {
        String answer = response.body().string();
        assertThat(response.code()).as(answer).isEqualTo(200);
        return MAPPER.readTree(answer).path("data").path("outcome").asText();
      }
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
