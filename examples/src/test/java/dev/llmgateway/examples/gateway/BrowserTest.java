package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.AuditSink;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.webhooks.WebhookSecret;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okio.BufferedSink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The chat page in headless Chromium (Debian's package, installed by {@code .ci/setup}), driven over
 * the DevTools protocol by {@link HeadlessChromium}: the page signs in, asks, and the answer appears
 * in the DOM, through the gateway's relay ({@code fetch} and a body reader), streamed directly
 * from the service ({@code EventSource}), and asked in the background (the page's subscription to
 * {@code GET /events}, read with {@code fetch}, shows the background chat's events). Fails (never
 * skips) when Chromium is missing.
 */
@Tag("browser")
class BrowserTest {
  /** Generous: the machine running the build may be slow and busy. */
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final List<String> TOKENS = List.of("Three ", "candidates ", "in ", "Berlin.");
  private static final WebhookSecret WEBHOOK_SECRET =
      WebhookSecret.ofBytes("browser-test-webhook-secret-0123456789".getBytes(StandardCharsets.UTF_8));

  private static HeadlessChromium chromium;

  private final MockWebServer service = new MockWebServer();
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private final BlockingQueue<Settlement> settlements = new LinkedBlockingQueue<>();
  private final List<CountDownLatch> seen = TOKENS.stream().map(token -> new CountDownLatch(1)).toList();
  private LlmGatewayClient client;
  private GatewayServer gateway;

  @BeforeAll
  static void startChromium() throws Exception {
    chromium = HeadlessChromium.start();
  }

  @AfterAll
  static void stopChromium() throws Exception {
    if (chromium != null) {
      chromium.close();
    }
  }

  @AfterEach
  void tearDown() throws IOException {
    seen.forEach(CountDownLatch::countDown); // a withheld stream ends at once
    if (gateway != null) {
      gateway.close();
    }
    if (client != null) {
      client.close();
    }
    service.close();
    ledger.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"relay", "direct", "background"})
  void eachTokenAppearsInThePageAsItArrives(String mode) throws Exception {
    service.start();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("svc-token")
        .environment(name -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
    ledger.deposit(GatewayExample.DEMO_USER.userId(), 1_000);
    gateway = GatewayExample.builder().client(client).ledger(ledger).webhookSecret(WEBHOOK_SECRET).port(0).start();
    MockResponse.Builder stream = new MockResponse.Builder().code(200)
        .setHeader("Content-Type", "text/event-stream").body(new TokenByToken());
    if (mode.equals("direct")) {
      // The page's EventSource reads the service from the gateway's origin: a cross-origin read.
      stream.setHeader("Access-Control-Allow-Origin", "*");
    }
    service.enqueue(stream.build());

    try (HeadlessChromium.Page page = chromium.open(pageUrl(mode))) {
      String answerShown = answerElement(mode);
      StringBuilder answer = new StringBuilder();
      for (int i = 0; i < TOKENS.size(); i++) {
        answer.append(TOKENS.get(i));
        // The service sends the next token only once this one is on screen.
        assertThat(page.waitForText(answerShown, answer.toString(), TIMEOUT)).isEqualTo(answer.toString());
        seen.get(i).countDown();
      }
      assertThat(page.waitForText("#status", "Done", TIMEOUT)).isEqualTo(switch (mode) {
        case "relay" -> "Done: 2000 tokens";
        case "direct" -> "Done (direct): 2000 tokens";
        default -> "Done (background): 3 credits"; // 1 per 1000 prompt and 2 per 1000 completion tokens
      });
      assertThat(page.evaluate("document.querySelector('" + answerShown + "').textContent", TIMEOUT).asText())
          .isEqualTo(String.join("", TOKENS));
    }
    RecordedRequest request = service.takeRequest(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertThat(request).isNotNull();
    if (!mode.equals("direct")) {
      assertThat(request.getMethod()).isEqualTo("POST");
      assertThat(request.getHeaders().get("X-User-Id")).isEqualTo(GatewayExample.DEMO_USER.userId());
    } else {
      assertThat(request.getMethod()).isEqualTo("GET");
      assertThat(request.getUrl().queryParameter("token")).isNotBlank();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"relay", "direct", "background"})
  void theSandboxDemoAnswersInThePageAndChargesOnce(String mode) throws Exception {
    client = LlmGatewayClient.builder().sandbox(true).environment(name -> null).auditSink(AuditSink.none()).build();
    ledger.deposit(GatewayExample.DEMO_USER.userId(), 1_000);
    // Port 0: the builder binds first, so the sandbox's direct-stream URL names the port bound.
    gateway = GatewayExample.builder().client(client).ledger(ledger).webhookSecret(WEBHOOK_SECRET).port(0)
        .settlementListener(e -> settlements.add(e.settlement())).start();

    try (HeadlessChromium.Page page = chromium.open(pageUrl(mode))) {
      assertThat(page.waitForText("#status", "Done", TIMEOUT)).startsWith(switch (mode) {
        case "relay" -> "Done: ";
        case "direct" -> "Done (direct): ";
        default -> "Done (background): 1 credit";
      });
      assertThat(page.waitForText(answerElement(mode), "I found 3 candidates", TIMEOUT)).isNotBlank();
    }
    // The relay and a background chat settle when the stream ends; the direct stream when the
    // sandbox's webhook arrives.
    assertThat(settlements.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(Settlement.COMMITTED);
    assertThat(settlements).isEmpty();
    assertThat(ledger.pendingCount()).isZero();
    // The sandbox's short answer uses well under 1000 prompt + 2 × completion tokens: one credit.
    assertThat(ledger.balance(GatewayExample.DEMO_USER.userId())).isEqualTo(999);
  }

  /** Where the page shows the answer: a background answer in its own element, under the others. */
  private static String answerElement(String mode) {
    return mode.equals("background") ? "#background-answers .background-answer" : "#answer";
  }

  private String pageUrl(String mode) {
    // localhost, as in the sandbox's direct-stream URL, so that stream is same-origin.
    return "http://localhost:" + gateway.port() + "/?ask=" + mode;
  }

  /** The service's stream, withholding each token after the first until the test has seen the one before. */
  private final class TokenByToken implements MockResponseBody {
    @Override
    public long getContentLength() {
      return -1;
    }

    @Override
    public void writeTo(BufferedSink sink) throws IOException {
      sink.writeUtf8("data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_1\"}\n\n").flush();
      for (int i = 0; i < TOKENS.size(); i++) {
        sink.writeUtf8("data: {\"type\":\"token\",\"content\":\"" + TOKENS.get(i) + "\"}\n\n").flush();
        try {
          if (!seen.get(i).await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            return; // cut off: the page never shows the rest, and the test fails
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while withholding the next token");
        }
      }
      sink.writeUtf8("data: {\"type\":\"done\",\"finish_reason\":\"stop\",\"usage\":"
          + "{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}\n\n"
          + "data: [DONE]\n\n").flush();
    }
  }
}
