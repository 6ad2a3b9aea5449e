package dev.llmgateway.interop;

import static dev.llmgateway.interop.Fixtures.ADA;
import static dev.llmgateway.interop.Fixtures.CHAT_QUERY;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static dev.llmgateway.interop.Fixtures.thrown;
import static dev.llmgateway.interop.Fixtures.withFault;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.BadRequestException;
import dev.llmgateway.CallOptions;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.ChatStream;
import dev.llmgateway.ConflictException;
import dev.llmgateway.Intent;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.Session;
import dev.llmgateway.SessionMessage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@InteropTest
class ChatInteropTest extends ClientInteropTest {
  ChatInteropTest(ReferenceService service) {
    super(service);
  }

  @Test
  void chatMapsTheServiceAnswer() {
    ChatResponse answer = client.chat(ChatRequest.of(SEARCH_QUERY), ADA);

    assertThat(answer.sessionId()).startsWith("sess_");
    assertThat(answer.messageId()).startsWith("msg_");
    assertThat(answer.intent()).isEqualTo(Intent.SEARCH);
    assertThat(answer.answer()).startsWith("I found ").contains("“" + SEARCH_QUERY + "”");
    assertThat(answer.candidates()).isNotEmpty()
        .allSatisfy(c -> assertThat(c.profileId()).matches("id_[0-9a-f]{8}"));
    assertThat(answer.actions()).extracting(a -> a.type()).containsExactly("suggest_filter");
    assertThat(answer.usage()).isNotNull();
    assertThat(answer.usage().totalTokens())
        .isEqualTo(answer.usage().promptTokens() + answer.usage().completionTokens());
    assertThat(answer.model()).isEqualTo("recruiter-v3");
    assertThat(answer.extra()).isEmpty();
  }

  @Test
  void theCallersRequestIdReachesTheServiceAndComesBack() {
    ChatResponse answer = client.chat(ChatRequest.of(CHAT_QUERY), ADA, CallOptions.withRequestId("trace-chat-1"));

    assertThat(answer.requestId()).isEqualTo("trace-chat-1");
    assertThat(service.stats().requestsWithRequestId("trace-chat-1")).isEqualTo(1);
  }

  @Test
  void asyncChatGivesTheSameAnswerAsSyncChat() throws Exception {
    ChatResponse sync = client.chat(ChatRequest.of(SEARCH_QUERY), ADA);

    ChatResponse async = client.chatAsync(ChatRequest.of(SEARCH_QUERY), ADA).get(30, TimeUnit.SECONDS);

    assertThat(async.answer()).isEqualTo(sync.answer());
    assertThat(async.candidates()).isEqualTo(sync.candidates());
    assertThat(async.sessionId()).isNotEqualTo(sync.sessionId());
  }

  @Test
  void continuingASessionAppendsToIt() {
    ChatResponse first = client.chat(ChatRequest.of(SEARCH_QUERY), ADA);

    ChatResponse second = client.chat(
        ChatRequest.builder().query(CHAT_QUERY).sessionId(first.sessionId()).build(), ADA);

    assertThat(second.sessionId()).isEqualTo(first.sessionId());
    Session session = client.sessions().get(first.sessionId(), ADA);
    assertThat(session.messages()).extracting(SessionMessage::role)
        .containsExactly("user", "assistant", "user", "assistant");
    assertThat(session.messages()).extracting(SessionMessage::content)
        .containsExactly(SEARCH_QUERY, first.answer(), CHAT_QUERY, second.answer());
  }

  @Test
  void unknownFieldsAndIntentsFromTheServiceAreKept() {
    ChatResponse answer = client.chat(ChatRequest.of(withFault(SEARCH_QUERY, "growth")), ADA);

    assertThat(answer.intent()).isEqualTo(Intent.UNKNOWN);
    assertThat(answer.rawIntent()).isEqualTo("compare_candidates");
    assertThat(answer.extra()).containsKey("trace_id");
    assertThat(answer.candidates()).isNotEmpty().allSatisfy(c -> assertThat(c.extra()).containsEntry("location", "Berlin"));
  }

  @Test
  void aQueryTheServiceRefusesIsBadRequestWithFastApiFieldErrors() {
    try (LlmGatewayClient lenient = service.clientBuilder().maxQueryLength(5000).build()) {
      BadRequestException e = thrown(BadRequestException.class,
          () -> lenient.chat(ChatRequest.of("x".repeat(2500)), ADA));

      assertThat(e.status()).isEqualTo(422);
      assertThat(e.fieldErrors()).singleElement()
          .satisfies(error -> assertThat(error.location()).containsExactly("body", "query"));
    }
  }

  @Test
  void repeatingAnIdempotencyKeyReturnsTheFirstAnswerWithoutGeneratingAgain() {
    CallOptions first = CallOptions.builder().requestId("host-try-1").idempotencyKey("order-77").build();
    CallOptions again = CallOptions.builder().requestId("host-try-2").idempotencyKey("order-77").build();

    ChatResponse a = client.chat(ChatRequest.of(SEARCH_QUERY), ADA, first);
    ChatResponse b = client.chat(ChatRequest.of(SEARCH_QUERY), ADA, again);

    assertThat(b.messageId()).isEqualTo(a.messageId());
    assertThat(b.sessionId()).isEqualTo(a.sessionId());
    ReferenceService.Stats stats = service.stats();
    assertThat(stats.generationsForIdempotencyKey("order-77")).isEqualTo(1);
    assertThat(stats.replaysForIdempotencyKey("order-77")).isEqualTo(1);
  }

  @Test
  void aMessageToASessionBusyStreamingFailsWithConflict() {
    String sessionId = client.chat(ChatRequest.of(SEARCH_QUERY), ADA).sessionId();
    ChatRequest slow = ChatRequest.builder().query(withFault(CHAT_QUERY, "stall_after=1")).sessionId(sessionId).build();
    // The stalled stream holds the session busy until it is closed.
    try (LlmGatewayClient noRetries = service.clientBuilder().retryPolicy(RetryPolicy.none()).build();
        ChatStream busy = client.chatStream(slow, ADA)) {

      ConflictException e = thrown(ConflictException.class,
          () -> noRetries.chat(ChatRequest.builder().query(CHAT_QUERY).sessionId(sessionId).build(), ADA));

      assertThat(e.status()).isEqualTo(409);
      assertThat(e.detail()).contains("busy");
    }
  }
}
