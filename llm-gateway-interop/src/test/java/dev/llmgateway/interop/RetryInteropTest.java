package dev.llmgateway.interop;

import static dev.llmgateway.interop.Fixtures.ADA;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static dev.llmgateway.interop.Fixtures.thrown;
import static dev.llmgateway.interop.ReferenceService.CHAT_PATH;
import static dev.llmgateway.interop.ReferenceService.CHAT_STREAM_PATH;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.ApiException;
import dev.llmgateway.CallOptions;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.ServiceRateLimitedException;
import dev.llmgateway.ServiceUnavailableException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@InteropTest
class RetryInteropTest {
  private final ReferenceService service;
  private final RecordingSleeper sleeper = new RecordingSleeper();
  private LlmGatewayClient client;

  RetryInteropTest(ReferenceService service) {
    this.service = service;
  }

  @BeforeEach
  void openClient() {
    client = service.clientBuilder().sleeper(sleeper).build();
  }

  @AfterEach
  void closeClient() {
    client.close();
  }

  private static CallOptions ids(String requestId, String idempotencyKey) {
    return CallOptions.builder().requestId(requestId).idempotencyKey(idempotencyKey).build();
  }

  @Test
  void aChatSucceedsAfterTwo503sWithOneGenerationAndOneRequestId() {
    service.armFault(Map.of("status", 503, "times", 2, "path", CHAT_PATH));

    ChatResponse answer = client.chat(ChatRequest.of(SEARCH_QUERY), ADA, ids("retry-503", "key-503"));

    assertThat(answer.answer()).isNotBlank();
    ReferenceService.Stats stats = service.stats();
    assertThat(stats.requestsWithRequestId("retry-503")).isEqualTo(3);
    assertThat(stats.generationsForIdempotencyKey("key-503")).isEqualTo(1);
    assertThat(sleeper.waits()).hasSize(2);
  }

  @Test
  void answersLostAfterGenerationAreReplayedInsteadOfGeneratedAgain() {
    service.armFault(Map.of("status", 504, "body", "empty", "when", "after", "times", 2, "path", CHAT_PATH));

    client.chat(ChatRequest.of(SEARCH_QUERY), ADA, ids("retry-lost", "key-lost"));

    ReferenceService.Stats stats = service.stats();
    assertThat(stats.requestsWithRequestId("retry-lost")).isEqualTo(3);
    assertThat(stats.generationsForIdempotencyKey("key-lost")).isEqualTo(1);
    assertThat(stats.replaysForIdempotencyKey("key-lost")).isEqualTo(2);
  }

  @Test
  void anAsyncChatIsRetriedWithoutBlockingAndGeneratesOnce() throws Exception {
    service.armFault(Map.of("status", 503, "times", 2, "path", CHAT_PATH));

    client.chatAsync(ChatRequest.of(SEARCH_QUERY), ADA, ids("retry-async", "key-async")).get(30, TimeUnit.SECONDS);

    ReferenceService.Stats stats = service.stats();
    assertThat(stats.requestsWithRequestId("retry-async")).isEqualTo(3);
    assertThat(stats.generationsForIdempotencyKey("key-async")).isEqualTo(1);
    assertThat(sleeper.waits()).hasSize(2);
  }

  @Test
  void retryAfterInSecondsIsWaitedExactly() {
    service.armFault(Map.of("status", 503, "retry_after", "3", "times", 1, "path", CHAT_PATH));

    client.chat(ChatRequest.of(SEARCH_QUERY), ADA);

    assertThat(sleeper.waits()).containsExactly(Duration.ofSeconds(3));
  }

  @Test
  void retryAfterAsAnHttpDateIsWaitedExactly() {
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    String inFiveSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.plusSeconds(5).atOffset(ZoneOffset.UTC));
    service.armFault(Map.of("status", 429, "retry_after", inFiveSeconds, "times", 1, "path", CHAT_PATH));
    try (LlmGatewayClient fixedClock = client.newBuilder().clock(Clock.fixed(now, ZoneOffset.UTC)).build()) {

      fixedClock.chat(ChatRequest.of(SEARCH_QUERY), ADA);
    }

    assertThat(sleeper.waits()).containsExactly(Duration.ofSeconds(5));
  }

  @Test
  void aRetryAfterBeyondTheLimitEndsTheCallAtOnce() {
    service.armFault(Map.of("status", 429, "retry_after", "120", "times", 1, "path", CHAT_PATH));

    ServiceRateLimitedException e = thrown(ServiceRateLimitedException.class,
        () -> client.chat(ChatRequest.of(SEARCH_QUERY), ADA));

    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(120));
    assertThat(e.attempts()).isEqualTo(1);
    assertThat(sleeper.waits()).isEmpty();
  }

  @Test
  void anHtml502FromTheProxyIsServiceUnavailable() {
    service.armFault(Map.of("status", 502, "body", "html", "times", 3, "path", CHAT_PATH));

    ServiceUnavailableException e = thrown(ServiceUnavailableException.class,
        () -> client.chat(ChatRequest.of(SEARCH_QUERY), ADA));

    assertThat(e.status()).isEqualTo(502);
    assertThat(e.attempts()).isEqualTo(3);
    assertThat(e).isInstanceOf(ApiException.class);
    assertThat(e.body()).contains("<h1>502 Bad Gateway</h1>");
    assertThat(e.detail()).isNull();
    assertThat(e.isRetryable()).isTrue();
  }

  @Test
  void anEmpty504IsServiceUnavailable() {
    service.armFault(Map.of("status", 504, "body", "empty", "times", 3, "path", CHAT_PATH));

    ServiceUnavailableException e = thrown(ServiceUnavailableException.class,
        () -> client.chat(ChatRequest.of(SEARCH_QUERY), ADA));

    assertThat(e.status()).isEqualTo(504);
    assertThat(e.attempts()).isEqualTo(3);
  }

  @Test
  void openingAStreamIsRetriedAfterA503() {
    String expected = client.chat(ChatRequest.of(SEARCH_QUERY), ADA).answer();
    service.armFault(Map.of("status", 503, "times", 1, "path", CHAT_STREAM_PATH));

    String streamed;
    try (ChatStream stream = client.chatStream(ChatRequest.of(SEARCH_QUERY), ADA)) {
      streamed = stream.text();
    }

    assertThat(streamed).isEqualTo(expected);
    assertThat(sleeper.waits()).hasSize(1);
  }

  @Test
  void aStreamCutBeforeItsFirstEventIsRetried() {
    String expected = client.chat(ChatRequest.of(SEARCH_QUERY), ADA).answer();
    service.armFault(Map.of("directive", "heartbeats=1,cut_at_start", "times", 1, "path", CHAT_STREAM_PATH));

    String streamed;
    try (ChatStream stream = client.chatStream(ChatRequest.of(SEARCH_QUERY), ADA)) {
      streamed = stream.text();
    }

    assertThat(streamed).isEqualTo(expected);
    assertThat(sleeper.waits()).hasSize(1);
  }
}
