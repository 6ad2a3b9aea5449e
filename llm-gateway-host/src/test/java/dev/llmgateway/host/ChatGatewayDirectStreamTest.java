package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RequestValidator;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.ChatGateway.WebhookOutcome;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerificationException;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Direct streaming through the facade (CONTRACT sections 4 and 5): init reserves and mints, and the
 * service's completion webhook settles the reservation once, whatever its status and however often
 * it comes.
 */
class ChatGatewayDirectStreamTest {
  private static final UserContext USER = UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();
  private static final WebhookSecret SECRET =
      WebhookSecret.ofBytes("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8));
  private static final JwtKeySet KEYS = JwtKeySet.of("k1", "stream-token-secret-of-32-bytes-at-least");

  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.builder().clock(clock).build();
  private final List<Settlement> settlements = new CopyOnWriteArrayList<>();
  private final LlmGatewayClient client = LlmGatewayClient.builder().sandbox(true).environment(n -> null)
      .auditSink(AuditSink.none()).build();
  private final WebhookSigner signer = WebhookSigner.of(SECRET);
  private ChatGateway gateway;

  @BeforeEach
  void setUp() {
    ledger.deposit("u1", 100);
    gateway = gateway(issuer(RequestValidator.ofDefaults()), RateLimits.ofDefaults());
  }

  @AfterEach
  void tearDown() {
    client.close();
  }

  private StreamTokenIssuer issuer(RequestValidator validator) {
    return StreamTokenIssuer.builder().keys(KEYS).serviceBaseUrl("http://service.test").clock(clock)
        .environment(n -> null).validator(validator).build();
  }

  private ChatGateway gateway(StreamTokenIssuer issuer, RateLimits limits) {
    return ChatGateway.builder().client(client).ledger(ledger)
        .rateLimiter(InMemoryRateLimiter.create(limits))
        .pricing(CreditPricing.perThousandTokens(1, 2))
        .estimate(request -> 10)
        .streamTokens(issuer)
        .webhooks(WebhookVerifier.builder().secret(SECRET).clock(clock).build())
        .settlementListener(e -> settlements.add(e.settlement()))
        .build();
  }

  /** Delivers a signed {@code chat.completed} webhook with a new {@code webhook-id}. */
  private WebhookOutcome deliver(String webhookId, byte[] body) {
    Map<String, String> headers = signer.headers(webhookId, clock.instant(), body);
    return gateway.handleCompletionWebhook(headers::get, body);
  }

  static byte[] completion(@Nullable String requestId, String status, @Nullable String usage) {
    return ("{\"type\":\"chat.completed\",\"data\":{"
        + (requestId == null ? "" : "\"request_id\":\"" + requestId + "\",")
        + "\"session_id\":\"sess_1\",\"message_id\":\"msg_1\",\"user_id\":\"u1\",\"company_id\":\"c1\","
        + "\"status\":\"" + status + "\",\"finish_reason\":\"stop\","
        + (usage == null ? "" : "\"usage\":" + usage + ",")
        + "\"completed_at\":\"2026-11-20T10:05:00Z\"}}").getBytes(StandardCharsets.UTF_8);
  }

  private static String usage(int prompt, int completion) {
    return "{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion + ",\"total_tokens\":"
        + (prompt + completion) + "}";
  }

  @Test
  void initReservesUnderTheTokensRequestIdAndTheCompletedWebhookCommitsTheReportedUsage() {
    StreamToken token = gateway.initDirectStream(USER, ChatRequest.of("Find Rails engineers"));

    assertThat(ledger.findByRequestId(token.requestId())).hasValueSatisfying(r -> assertThat(r.credits()).isEqualTo(10));
    assertThat(ledger.balance("u1")).isEqualTo(90);
    assertThat(token.url()).startsWith("http://service.test/");

    assertThat(deliver("msg_a", completion(token.requestId(), "completed", usage(1000, 1000))))
        .isEqualTo(WebhookOutcome.COMMITTED);

    assertThat(settlements).containsExactly(Settlement.COMMITTED);
    assertThat(ledger.balance("u1")).isEqualTo(97); // 1 + 2 credits for 1000 prompt + 1000 completion tokens
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void aRedeliveredWebhookIsADuplicateAndAnotherWebhookForTheSameRequestChargesNothingMore() {
    StreamToken token = gateway.initDirectStream(USER, ChatRequest.of("hi"));
    byte[] body = completion(token.requestId(), "completed", usage(1000, 1000));

    assertThat(deliver("msg_a", body)).isEqualTo(WebhookOutcome.COMMITTED);
    assertThat(deliver("msg_a", body)).isEqualTo(WebhookOutcome.DUPLICATE);
    assertThat(deliver("msg_b", completion(token.requestId(), "failed", usage(5000, 5000))))
        .isEqualTo(WebhookOutcome.ALREADY_SETTLED);

    assertThat(settlements).containsExactly(Settlement.COMMITTED, Settlement.ALREADY_COMMITTED);
    assertThat(ledger.balance("u1")).isEqualTo(97);
  }

  @Test
  void aFailedOrCancelledStreamWithUsageIsChargedThatPartialUsage() {
    StreamToken failed = gateway.initDirectStream(USER, ChatRequest.of("hi"));
    StreamToken cancelled = gateway.initDirectStream(USER, ChatRequest.of("hi"));

    assertThat(deliver("msg_a", completion(failed.requestId(), "failed", usage(1000, 0))))
        .isEqualTo(WebhookOutcome.COMMITTED);
    assertThat(deliver("msg_b", completion(cancelled.requestId(), "cancelled", usage(0, 500))))
        .isEqualTo(WebhookOutcome.COMMITTED);

    assertThat(settlements).containsExactly(Settlement.COMMITTED, Settlement.COMMITTED);
    assertThat(ledger.balance("u1")).isEqualTo(100 - 1 - 1);
  }

  @Test
  void aFailedOrCancelledStreamWithoutUsageIsReleased() {
    StreamToken failed = gateway.initDirectStream(USER, ChatRequest.of("hi"));
    StreamToken cancelled = gateway.initDirectStream(USER, ChatRequest.of("hi"));

    assertThat(deliver("msg_a", completion(failed.requestId(), "failed", null))).isEqualTo(WebhookOutcome.RELEASED);
    assertThat(deliver("msg_b", completion(cancelled.requestId(), "cancelled", usage(0, 0))))
        .isEqualTo(WebhookOutcome.RELEASED);

    assertThat(settlements).containsExactly(Settlement.RELEASED, Settlement.RELEASED);
    assertThat(ledger.balance("u1")).isEqualTo(100);
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void aWebhookAfterTheLeaseReleasedTheReservationChargesNothing() {
    StreamToken token = gateway.initDirectStream(USER, ChatRequest.of("hi"));
    clock.advance(InMemoryCreditLedger.DEFAULT_LEASE.plusSeconds(1));
    assertThat(ledger.releaseExpired()).isEqualTo(1);

    assertThat(deliver("msg_a", completion(token.requestId(), "completed", usage(1000, 1000))))
        .isEqualTo(WebhookOutcome.ALREADY_SETTLED);

    assertThat(settlements).containsExactly(Settlement.ALREADY_RELEASED);
    assertThat(ledger.balance("u1")).isEqualTo(100);
  }

  @Test
  void aWebhookForNoOpenReservationOrWithoutARequestIdChangesNothing() {
    gateway.initDirectStream(USER, ChatRequest.of("hi"));

    assertThat(deliver("msg_a", completion("req-of-another-host", "completed", usage(1000, 1000))))
        .isEqualTo(WebhookOutcome.UNKNOWN_REQUEST);
    assertThat(deliver("msg_b", completion(null, "completed", usage(1000, 1000))))
        .isEqualTo(WebhookOutcome.UNKNOWN_REQUEST);

    assertThat(settlements).isEmpty();
    assertThat(ledger.pendingCount()).isEqualTo(1);
    assertThat(ledger.balance("u1")).isEqualTo(90);
  }

  @Test
  void aWebhookWithARepeatedIdIsRefusedThroughTheMapAndSettlesNothing() {
    StreamToken token = gateway.initDirectStream(USER, ChatRequest.of("hi"));
    byte[] body = completion(token.requestId(), "completed", usage(1000, 1000));
    Map<String, List<String>> headers = new HashMap<>();
    signer.headers("msg_a", clock.instant(), body).forEach((name, value) -> headers.put(name, List.of(value)));
    headers.put("webhook-id", List.of("msg_a", "msg_b"));

    assertThat(catchThrowable(() -> gateway.handleCompletionWebhook(headers, body)))
        .isInstanceOfSatisfying(WebhookVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(WebhookVerificationException.Reason.MALFORMED_HEADER));
    assertThat(settlements).isEmpty();

    headers.put("webhook-id", List.of("msg_a"));
    assertThat(gateway.handleCompletionWebhook(headers, body)).isEqualTo(WebhookOutcome.COMMITTED);
  }

  @Test
  void aForgedWebhookIsRefusedAndSettlesNothing() {
    StreamToken token = gateway.initDirectStream(USER, ChatRequest.of("hi"));
    byte[] body = completion(token.requestId(), "completed", usage(1000, 1000));
    Map<String, String> headers = WebhookSigner.of(WebhookSecret.ofBytes(new byte[32]))
        .headers("msg_a", clock.instant(), body);

    assertThat(catchThrowable(() -> gateway.handleCompletionWebhook(headers::get, body)))
        .isInstanceOf(WebhookVerificationException.class);

    assertThat(settlements).isEmpty();
    assertThat(ledger.findByRequestId(token.requestId())).isPresent();
    assertThat(ledger.balance("u1")).isEqualTo(90);
  }

  @Test
  void aTokenTheIssuerRefusesReleasesTheReservation() {
    // The client accepts 2000 code points; this issuer only 10.
    ChatGateway strict = gateway(issuer(RequestValidator.withMaxQueryLength(10)), RateLimits.ofDefaults());

    assertThat(catchThrowable(() -> strict.initDirectStream(USER, ChatRequest.of("a query longer than ten"))))
        .isInstanceOf(ValidationException.class);

    assertThat(settlements).containsExactly(Settlement.RELEASED);
    assertThat(ledger.pendingCount()).isZero();
    assertThat(ledger.balance("u1")).isEqualTo(100);
  }

  @Test
  void initIsRefusedBeforeReservingWhenInvalidOrOverTheStreamLimit() {
    ChatGateway oneStream = gateway(issuer(RequestValidator.ofDefaults()),
        RateLimits.builder().streamStarts(RateLimit.perMinute(1)).build());

    assertThat(catchThrowable(() -> oneStream.initDirectStream(USER, ChatRequest.of(" "))))
        .isInstanceOf(ValidationException.class);
    oneStream.initDirectStream(USER, ChatRequest.of("hi")); // the refusal above took no permit
    RateLimitExceededException refused = (RateLimitExceededException) catchThrowable(
        () -> oneStream.initDirectStream(USER, ChatRequest.of("hi")));

    assertThat(refused.retryAfter()).isPositive();
    assertThat(ledger.pendingCount()).isEqualTo(1);
    assertThat(ledger.balance("u1")).isEqualTo(90);
  }

  @Test
  void withoutAnIssuerOrAVerifierTheCallsSayWhatIsMissing() {
    ChatGateway bare = ChatGateway.builder().client(client).ledger(ledger).build();

    assertThat(catchThrowable(() -> bare.initDirectStream(USER, ChatRequest.of("hi"))))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("streamTokens");
    assertThat(catchThrowable(() -> bare.handleCompletionWebhook(n -> null, new byte[0])))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("webhooks");
    assertThat(ledger.pendingCount()).isZero();
  }
}
