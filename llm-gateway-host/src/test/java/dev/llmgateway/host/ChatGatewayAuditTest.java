package dev.llmgateway.host;

import static dev.llmgateway.testkit.SseResponses.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditEvent;
import dev.llmgateway.AuditSink;
import dev.llmgateway.CallInfo;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Operation;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.ServerErrorException;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.ChatGateway.WebhookOutcome;
import dev.llmgateway.host.ChatGatewaySettlementRetryTest.FailingLedger;
import dev.llmgateway.testkit.Concurrently;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.webhooks.WebhookHeaders;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerificationException;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockResponse;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * Every request the gateway handles leaves exactly one audit event: those it refuses before the
 * service (validation, rate limit, credits, a failed credit store) with nothing sent, direct
 * streams' starts, and each completion webhook; requests that reach the client are audited by the
 * client's call, once. Refusals also reach the client's shared listener ({@code callRefused}).
 */
class ChatGatewayAuditTest extends MockServerTest {
  private static final UserContext USER = ChatGatewayTest.USER;
  private static final String CHAT = ChatGatewayTest.CHAT;
  private static final WebhookSecret SECRET =
      WebhookSecret.ofBytes("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8));
  private static final JwtKeySet KEYS = JwtKeySet.of("k1", "stream-token-secret-of-32-bytes-at-least");

  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final FailingLedger ledger = new FailingLedger(InMemoryCreditLedger.builder().clock(clock).build());
  private final List<CallInfo> perCallListeners = new CopyOnWriteArrayList<>();
  private final WebhookSigner signer = WebhookSigner.of(SECRET);

  @Override
  LlmGatewayClient.Builder clientBuilder() {
    return super.clientBuilder().retryPolicy(RetryPolicy.none()).listenerFactory(call -> {
      perCallListeners.add(call);
      return GatewayListener.none();
    });
  }

  @BeforeEach
  void deposit() {
    ledger.memory.deposit("u1", 100);
  }

  private ChatGateway.Builder gateway(int callsPerMinute) {
    return ChatGateway.builder().client(client).ledger(ledger)
        .rateLimiter(InMemoryRateLimiter.create(RateLimits.builder().calls(RateLimit.perMinute(callsPerMinute))
            .streamStarts(RateLimit.perMinute(callsPerMinute)).build()))
        .streamTokens(StreamTokenIssuer.builder().keys(KEYS).serviceBaseUrl("http://service.test").clock(clock)
            .environment(n -> null).build())
        .webhooks(WebhookVerifier.builder().secret(SECRET).clock(clock).build());
  }

  private ChatGateway gateway() {
    return gateway(1_000).build();
  }

  private static byte[] completion(@Nullable String requestId, String status, @Nullable String usage) {
    return ChatGatewayDirectStreamTest.completion(requestId, status, usage);
  }

  private static final String USAGE = "{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}";

  private WebhookOutcome deliver(ChatGateway gateway, String webhookId, byte[] body) {
    Map<String, String> headers = signer.headers(webhookId, clock.instant(), body);
    return gateway.handleCompletionWebhook(headers::get, body);
  }

  private AuditEvent onlyEvent() {
    assertThat(audit).hasSize(1);
    return audit.get(0);
  }

  // --- refusals: one event each, nothing sent, nothing reserved ---

  @Test
  void anInvalidChatIsAuditedOnceAsRejectedWith422AndNothingIsSent() {
    ChatGateway gateway = gateway();

    Throwable refused = catchThrowable(() -> gateway.chat(USER, ChatRequest.of("")));

    assertThat(refused).isInstanceOf(ValidationException.class);
    AuditEvent event = onlyEvent();
    assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.REJECTED);
    assertThat(event.status()).isEqualTo(422);
    assertThat(event.action()).isEqualTo(Operation.CHAT);
    assertThat(event.userId()).isEqualTo("u1");
    assertThat(event.attempts()).isZero();
    assertThat(event.errorType()).isEqualTo("ValidationException");
    assertThat(event.requestId()).isNotEmpty();
    assertThat(server.getRequestCount()).isZero();
    assertThat(ledger.memory.pendingCount()).isZero();
  }

  @Test
  void anInvalidStreamIsAuditedOnceAsRejected() {
    ChatGateway gateway = gateway();

    Throwable refused = catchThrowable(
        () -> gateway.stream(USER, ChatRequest.of(" ".repeat(3)), headers -> new ByteArrayOutputStream()));

    assertThat(refused).isInstanceOf(ValidationException.class);
    assertThat(onlyEvent().outcome()).isEqualTo(AuditEvent.Outcome.REJECTED);
    assertThat(onlyEvent().action()).isEqualTo(Operation.CHAT_STREAM);
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void aRateLimitedChatIsAuditedOnceAsRateLimitedWith429AndNothingIsSent() {
    ChatGateway gateway = gateway(1).build();
    server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    gateway.chat(USER, ChatRequest.of("first"));
    audit.clear();

    Throwable refused = catchThrowable(() -> gateway.chat(USER, ChatRequest.of("second")));

    assertThat(refused).isInstanceOf(RateLimitExceededException.class);
    AuditEvent event = onlyEvent();
    assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.RATE_LIMITED);
    assertThat(event.status()).isEqualTo(429);
    assertThat(event.queryPreview()).isEqualTo("second");
    assertThat(server.getRequestCount()).isEqualTo(1);
    assertThat(ledger.memory.pendingCount()).isZero();
  }

  @Test
  void aChatTheUserCannotPayForIsAuditedOnceAsInsufficientCreditsWith402AndNothingIsSent() {
    ChatGateway gateway = gateway(1_000).estimate(request -> 1_000).build();

    Throwable refused = catchThrowable(() -> gateway.chat(USER, ChatRequest.of("too expensive")));

    assertThat(refused).isInstanceOf(InsufficientCreditsException.class);
    AuditEvent event = onlyEvent();
    assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.INSUFFICIENT_CREDITS);
    assertThat(event.status()).isEqualTo(402);
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void aChatWhoseCreditStoreFailsIsAuditedOnceAsAFailureWith503AndNothingIsSent() {
    ChatGateway gateway = gateway();
    ledger.reserveFailures.set(1);

    Throwable refused = catchThrowable(() -> gateway.chat(USER, ChatRequest.of("store down")));

    assertThat(refused).isInstanceOf(StateStoreException.class);
    AuditEvent event = onlyEvent();
    assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.FAILURE);
    assertThat(event.status()).isEqualTo(503);
    assertThat(event.errorType()).isEqualTo("StateStoreException");
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void aRefusalIsRecordedWithItsRequestIdInTheMdcAsTheClientsEventsAre() {
    List<String> mdc = new CopyOnWriteArrayList<>();
    ChatGateway gateway = gateway(1_000)
        .auditSink(event -> mdc.add(event.requestId() + "=" + MDC.get(LlmGatewayClient.DEFAULT_MDC_KEY))).build();

    catchThrowable(() -> gateway.chat(USER, ChatRequest.of("")));

    assertThat(mdc).singleElement().satisfies(entry -> {
      String[] parts = entry.split("=");
      assertThat(parts[1]).isEqualTo(parts[0]);
    });
    assertThat(MDC.get(LlmGatewayClient.DEFAULT_MDC_KEY)).isNull();
  }

  @Test
  void aRefusedSessionCallIsAuditedOnce() {
    ChatGateway gateway = gateway(1).build();
    server.enqueue(new MockResponse.Builder().code(200).body("{\"sessions\":[],\"next_cursor\":null}").build());
    gateway.listSessions(USER, 10, null);
    audit.clear();

    Throwable refused = catchThrowable(() -> gateway.listSessions(USER, 10, null));

    assertThat(refused).isInstanceOf(RateLimitExceededException.class);
    assertThat(onlyEvent().outcome()).isEqualTo(AuditEvent.Outcome.RATE_LIMITED);
    assertThat(onlyEvent().action()).isEqualTo(Operation.LIST_SESSIONS);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void refusalsReachTheSharedListenerAndMakeNoCallListener() {
    ChatGateway gateway = gateway(1).estimate(request -> 200).build();
    ledger.memory.deposit("u1", 100); // 200 in all: the first chat can pay, the rate limit stops the second
    catchThrowable(() -> gateway.chat(USER, ChatRequest.of("")));
    server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    gateway.chat(USER, ChatRequest.of("paid"));
    catchThrowable(() -> gateway.chat(USER, ChatRequest.of("limited")));
    ChatGateway poor = gateway(1_000).estimate(request -> 1_000_000).build();
    catchThrowable(() -> poor.initDirectStream(USER, ChatRequest.of("unpaid")));
    ledger.reserveFailures.set(1);
    catchThrowable(() -> poor.chat(USER, ChatRequest.of("store down")));

    assertThat(refusals).containsExactly("CHAT ValidationException", "CHAT RateLimitExceededException",
        "CHAT_STREAM InsufficientCreditsException", "CHAT StateStoreException");
    assertThat(perCallListeners).extracting(CallInfo::queryPreview).containsExactly("paid");
  }

  // --- calls that reach the client: audited once, by the client's call ---

  @Test
  void aChatThatReachesTheServiceIsAuditedOnceByTheClientsCall() {
    ChatGateway gateway = gateway();
    server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    server.enqueue(new MockResponse.Builder().code(500).body("{\"detail\":\"boom\"}").build());

    gateway.chat(USER, ChatRequest.of("ok"));
    Throwable failed = catchThrowable(() -> gateway.chat(USER, ChatRequest.of("fails")));

    assertThat(failed).isInstanceOf(ServerErrorException.class);
    assertThat(audit).extracting(AuditEvent::outcome)
        .containsExactly(AuditEvent.Outcome.SUCCESS, AuditEvent.Outcome.FAILURE);
    assertThat(audit).extracting(AuditEvent::status).containsExactly(200, 500);
    assertThat(audit).extracting(AuditEvent::attempts).containsExactly(1, 1);
  }

  @Test
  void theGatewaysOwnSinkReceivesEveryEventAndTheClientsNone() {
    List<AuditEvent> own = new CopyOnWriteArrayList<>();
    ChatGateway gateway = gateway(1_000).auditSink(own::add).build();
    server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    server.enqueue(sse(ChatGatewayTest.SESSION + ChatGatewayTest.DONE));
    server.enqueue(new MockResponse.Builder().code(200).body("{\"sessions\":[],\"next_cursor\":null}").build());

    gateway.chat(USER, ChatRequest.of("chat"));
    gateway.stream(USER, ChatRequest.of("stream"), headers -> new ByteArrayOutputStream());
    catchThrowable(() -> gateway.chat(USER, ChatRequest.of("")));
    gateway.initDirectStream(USER, ChatRequest.of("direct"));
    gateway.listSessions(USER, 10, null);

    assertThat(audit).isEmpty();
    assertThat(own).extracting(AuditEvent::queryPreview).containsExactly("chat", "stream", "", "direct", "");
    assertThat(own).extracting(AuditEvent::outcome).containsExactly(AuditEvent.Outcome.SUCCESS,
        AuditEvent.Outcome.SUCCESS, AuditEvent.Outcome.REJECTED, AuditEvent.Outcome.SUCCESS,
        AuditEvent.Outcome.SUCCESS);
    assertThat(own).extracting(AuditEvent::action).containsExactly(Operation.CHAT, Operation.CHAT_STREAM,
        Operation.CHAT, Operation.CHAT_STREAM, Operation.LIST_SESSIONS);
  }

  @Test
  void aChatOnAClosedClientIsAuditedOnceByTheGateway() {
    ChatGateway gateway = gateway();
    client.close();

    Throwable failed = catchThrowable(() -> gateway.chat(USER, ChatRequest.of("closed")));

    assertThat(failed).isInstanceOf(IllegalStateException.class);
    assertThat(onlyEvent().outcome()).isEqualTo(AuditEvent.Outcome.FAILURE);
    assertThat(onlyEvent().errorType()).isEqualTo("IllegalStateException");
    assertThat(ledger.memory.pendingCount()).isZero();
  }

  @Test
  void concurrentRequestsAreEachAuditedOnce() throws Exception {
    ChatGateway gateway = gateway(4).build();
    for (int i = 0; i < 4; i++) {
      server.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());
    }
    List<Callable<String>> tasks = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      String query = "query " + i;
      tasks.add(() -> {
        try {
          gateway.chat(USER, ChatRequest.of(query));
          return "ok";
        } catch (RateLimitExceededException e) {
          return "limited";
        }
      });
    }

    List<String> results = Concurrently.run(tasks);

    assertThat(results).filteredOn("ok"::equals).hasSize(4);
    assertThat(audit).hasSize(8);
    assertThat(audit).extracting(AuditEvent::requestId).doesNotHaveDuplicates();
    assertThat(audit).extracting(AuditEvent::queryPreview).doesNotHaveDuplicates();
    assertThat(audit).filteredOn(e -> e.outcome() == AuditEvent.Outcome.SUCCESS).hasSize(4);
    assertThat(audit).filteredOn(e -> e.outcome() == AuditEvent.Outcome.RATE_LIMITED).hasSize(4);
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  // --- metadata ---

  @Test
  void theMetadataOfARefusedRequestIsAuditedBounded() {
    ChatGateway gateway = gateway(1_000).estimate(request -> 1_000).build();
    Map<String, Object> metadata = new HashMap<>();
    metadata.put("source", "search_page");
    metadata.put("note", "n".repeat(500));

    catchThrowable(() -> gateway.chat(USER, ChatRequest.builder().query("q").metadata(metadata).build()));

    AuditEvent event = onlyEvent();
    assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.INSUFFICIENT_CREDITS);
    assertThat(event.metadata()).containsEntry("source", "search_page")
        .containsEntry("note", "n".repeat(49) + "\u2026");
    assertThat(event.toLogLine()).contains(" metadata.source=search_page").doesNotContain("n".repeat(50));
  }

  // --- direct streams and webhooks ---

  @Test
  void aDirectStreamsStartIsAuditedOnceWithoutItsToken() {
    ChatGateway gateway = gateway();

    StreamToken token = gateway.initDirectStream(USER, ChatRequest.builder().query("Find engineers")
        .metadata(Map.of("source", "direct")).build());

    AuditEvent event = onlyEvent();
    assertThat(event.kind()).isEqualTo(AuditEvent.Kind.DIRECT_STREAM_INIT);
    assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
    assertThat(event.status()).isEqualTo(200);
    assertThat(event.requestId()).isEqualTo(token.requestId());
    assertThat(event.queryPreview()).isEqualTo("Find engineers");
    assertThat(event.metadata()).containsEntry("source", "direct");
    assertThat(event.toLogLine()).contains("action=chat_stream kind=direct_stream_init outcome=success")
        .doesNotContain(token.token()).doesNotContain(token.url());
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void aRefusedDirectStreamStartIsAuditedOnce() {
    ChatGateway gateway = gateway(1_000).estimate(request -> 1_000).build();

    catchThrowable(() -> gateway.initDirectStream(USER, ChatRequest.of("too expensive")));

    assertThat(onlyEvent().kind()).isEqualTo(AuditEvent.Kind.DIRECT_STREAM_INIT);
    assertThat(onlyEvent().outcome()).isEqualTo(AuditEvent.Outcome.INSUFFICIENT_CREDITS);
  }

  @Test
  void aChargingWebhookAndItsRedeliveryAreEachAuditedOnce() {
    ChatGateway gateway = gateway();
    StreamToken token = gateway.initDirectStream(USER, ChatRequest.of("hi"));
    audit.clear();
    byte[] body = completion(token.requestId(), "completed", USAGE);

    assertThat(deliver(gateway, "msg_a", body)).isEqualTo(WebhookOutcome.COMMITTED);
    assertThat(deliver(gateway, "msg_a", body)).isEqualTo(WebhookOutcome.DUPLICATE);

    assertThat(audit).hasSize(2);
    assertThat(audit).allSatisfy(e -> {
      assertThat(e.kind()).isEqualTo(AuditEvent.Kind.COMPLETION_WEBHOOK);
      assertThat(e.requestId()).isEqualTo(token.requestId());
      assertThat(e.status()).isEqualTo(200);
    });
    assertThat(audit).extracting(AuditEvent::outcome)
        .containsExactly(AuditEvent.Outcome.COMMITTED, AuditEvent.Outcome.DUPLICATE);
    assertThat(audit.get(0).userId()).isEqualTo("u1");
    assertThat(audit.get(0).usage()).isNotNull();
    assertThat(audit.get(0).toLogLine()).contains("kind=completion_webhook outcome=committed")
        .contains("total_tokens=2000");
  }

  @Test
  void aWebhookWithABadSignatureIsAuditedOnceAsRejected() {
    ChatGateway gateway = gateway();
    byte[] body = completion("r1", "completed", USAGE);
    Map<String, String> headers = new HashMap<>(signer.headers("msg_a", clock.instant(), body));
    headers.put(WebhookHeaders.SIGNATURE, "v1,AAAA");

    Throwable refused = catchThrowable(() -> gateway.handleCompletionWebhook(headers::get, body));

    assertThat(refused).isInstanceOf(WebhookVerificationException.class);
    AuditEvent event = onlyEvent();
    assertThat(event.kind()).isEqualTo(AuditEvent.Kind.COMPLETION_WEBHOOK);
    assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.REJECTED);
    assertThat(event.status()).isEqualTo(400);
    assertThat(event.requestId()).isEmpty(); // the unauthenticated body is not believed
    assertThat(event.toLogLine()).doesNotContain("AAAA");
  }

  @Test
  void aWebhookForNoReservationIsAuditedOnceAsUnknown() {
    ChatGateway gateway = gateway();

    assertThat(deliver(gateway, "msg_a", completion("no-such-request", "completed", USAGE)))
        .isEqualTo(WebhookOutcome.UNKNOWN_REQUEST);

    AuditEvent event = onlyEvent();
    assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.UNKNOWN_REQUEST);
    assertThat(event.requestId()).isEqualTo("no-such-request");
    assertThat(event.userId()).isEmpty();
  }

  @Test
  void aWebhookWhoseSettlementFailsIsAuditedOnceAsAFailureAndItsRedeliveryOnceAsCommitted() {
    ChatGateway gateway = gateway();
    StreamToken token = gateway.initDirectStream(USER, ChatRequest.of("hi"));
    audit.clear();
    byte[] body = completion(token.requestId(), "completed", USAGE);
    ledger.commitFailures.set(1);

    Throwable failed = catchThrowable(() -> deliver(gateway, "msg_a", body));
    WebhookOutcome redelivered = deliver(gateway, "msg_a", body);

    assertThat(failed).isInstanceOf(StateStoreException.class);
    assertThat(redelivered).isEqualTo(WebhookOutcome.COMMITTED);
    assertThat(audit).extracting(AuditEvent::outcome)
        .containsExactly(AuditEvent.Outcome.FAILURE, AuditEvent.Outcome.COMMITTED);
    assertThat(audit).extracting(AuditEvent::status).containsExactly(503, 200);
    assertThat(audit.get(0).errorType()).isEqualTo("StateStoreException");
  }
}
