package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static dev.llmgateway.TestSupport.refusingUrl;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.CircuitBreaker.State;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest extends MockServerTest {
  private final CircuitBreaker breaker =
      CircuitBreaker.builder().failureThreshold(3).openDuration(Duration.ofSeconds(30)).ticker(time).build();
  private final List<String> transitions = new CopyOnWriteArrayList<>();

  @Override
  LlmGatewayClient.Builder configure(LlmGatewayClient.Builder builder) {
    return builder.circuitBreaker(breaker).retryPolicy(RetryPolicy.none())
        .listener(new GatewayListener() {
          @Override
          public void circuitStateChanged(State from, State to) {
            transitions.add(from + "->" + to);
          }
        });
  }

  private void failTimes(int n) {
    for (int i = 0; i < n; i++) {
      server.enqueue(json(503, "{}"));
      catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));
    }
  }

  @Test
  void opensAfterConsecutiveFailuresAndFailsFastWithoutNetwork() {
    failTimes(3);
    assertThat(breaker.state()).isEqualTo(State.OPEN);
    int sent = server.getRequestCount();

    CircuitOpenException e = catchThrowableOfType(CircuitOpenException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(server.getRequestCount()).isEqualTo(sent);
    assertThat(e.attempts()).isZero();
    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(30));
    assertThat(transitions).containsExactly("CLOSED->OPEN");
  }

  @Test
  void openTimeCountsDownFromWhenTheBreakerOpenedWhateverTheTickerReads() {
    time.advance(Duration.ofHours(1));
    failTimes(3);
    time.advance(Duration.ofSeconds(10));

    CircuitOpenException e = catchThrowableOfType(CircuitOpenException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(20));
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void internalServerErrorsAndRefusedConnectionsCountAsFailures() throws Exception {
    server.enqueue(json(500, "{}"));
    catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));
    useClient(configure(clientBuilder()).baseUrl(refusingUrl()));
    for (int i = 0; i < 2; i++) {
      catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));
    }
    assertThat(breaker.state()).isEqualTo(State.OPEN);
  }

  @Test
  void clientErrorResetsTheFailureCountLikeASuccess() {
    failTimes(2);
    server.enqueue(json(404, "{\"detail\":\"nope\"}"));
    catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));
    failTimes(2);
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void streamsEndingBeforeTheirFirstEventCountAsFailures() {
    for (int i = 0; i < 3; i++) {
      server.enqueue(ChatStreamTest.sse(""));
      catchThrowable(() -> {
        try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
          stream.completion();
        }
      });
    }
    assertThat(breaker.state()).isEqualTo(State.OPEN);
  }

  @Test
  void aStreamedProbeClosedBeforeItsFirstEventFreesTheProbeWithoutClosingTheBreaker() {
    failTimes(3);
    time.advance(Duration.ofSeconds(30));
    server.enqueue(ChatStreamTest.sse("data: {\"type\":\"token\",\"content\":\"Hi\"}\n\n"));

    try (ChatStream probe = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(breaker.state()).as("open stream, no event yet: proves nothing").isEqualTo(State.HALF_OPEN);
      assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER)))
          .as("the probe is still out").isInstanceOf(CircuitOpenException.class);
      assertThat(probe.toString()).contains("finished=false");
    }

    assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
    assertThat(breaker.tryAcquire()).as("the next probe may go").isTrue();
    breaker.onIgnored();
  }

  @Test
  void aStreamedProbeClosesTheBreakerWithItsFirstEvent() {
    failTimes(3);
    time.advance(Duration.ofSeconds(30));
    server.enqueue(ChatStreamTest.sse("data: {\"type\":\"token\",\"content\":\"Hi\"}\n\n"
        + "data: {\"type\":\"done\",\"finish_reason\":\"stop\"}\n\ndata: [DONE]\n\n"));

    try (ChatStream probe = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(probe.iterator().next()).isInstanceOf(StreamEvent.Token.class);
      assertThat(breaker.state()).isEqualTo(State.CLOSED);
    }
    assertThat(transitions).containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED");
  }

  @Test
  void successResetsTheFailureCount() {
    failTimes(2);
    server.enqueue(chatOk());
    client.chat(ChatRequest.of("hi"), USER);
    failTimes(2);
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void clientErrorsDoNotCountAsFailures() {
    for (int i = 0; i < 5; i++) {
      server.enqueue(json(404, "{\"detail\":\"nope\"}"));
      catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));
    }
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void afterTheOpenPeriodOneProbeSucceedsAndCloses() {
    failTimes(3);
    time.advance(Duration.ofSeconds(30));
    assertThat(breaker.state()).isEqualTo(State.HALF_OPEN);
    server.enqueue(chatOk());

    client.chat(ChatRequest.of("hi"), USER);

    assertThat(breaker.state()).isEqualTo(State.CLOSED);
    assertThat(transitions).containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED");
  }

  @Test
  void failedProbeOpensAgain() {
    failTimes(3);
    time.advance(Duration.ofSeconds(31));
    failTimes(1);
    assertThat(breaker.state()).isEqualTo(State.OPEN);
    assertThat(breaker.remainingOpenTime()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void halfOpenLetsOnlyOneProbeThrough() {
    failTimes(3);
    time.advance(Duration.ofSeconds(30));
    assertThat(breaker.tryAcquire()).isTrue();
    assertThat(breaker.tryAcquire()).isFalse();
    breaker.onIgnored();
    assertThat(breaker.tryAcquire()).isTrue();
  }

  @Test
  void cancellationsDoNotCount() {
    for (int i = 0; i < 10; i++) {
      assertThat(breaker.tryAcquire()).isTrue();
      breaker.onIgnored();
    }
    assertThat(breaker.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void disabledBreakerNeverOpens() {
    CircuitBreaker disabled = CircuitBreaker.disabled();
    for (int i = 0; i < 100; i++) {
      assertThat(disabled.tryAcquire()).isTrue();
      disabled.onFailure();
    }
    assertThat(disabled.state()).isEqualTo(State.DISABLED);
  }

  @Test
  void openBreakerStopsRetriesMidCall() {
    useClient(clientBuilder().circuitBreaker(breaker));
    assertThat(breaker.tryAcquire()).isTrue();
    breaker.onFailure();
    server.enqueue(json(503, "{}"));
    server.enqueue(json(503, "{}"));
    server.enqueue(chatOk());
    int before = server.getRequestCount();

    CircuitOpenException e = catchThrowableOfType(CircuitOpenException.class, () -> client.chat(ChatRequest.of("hi"), USER));

    assertThat(server.getRequestCount() - before).isEqualTo(2);
    assertThat(e.getCause()).isInstanceOf(ServiceUnavailableException.class);
  }

  @Test
  void derivedClientSharesTheBreaker() {
    try (LlmGatewayClient derived = client.newBuilder().timeout(Duration.ofSeconds(5)).build()) {
      assertThat(derived.circuitBreaker()).isSameAs(client.circuitBreaker());
    }
  }
}
