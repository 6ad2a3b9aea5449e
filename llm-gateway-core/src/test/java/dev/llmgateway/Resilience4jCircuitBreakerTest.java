package dev.llmgateway;

import static dev.llmgateway.ChatStreamTest.DONE;
import static dev.llmgateway.ChatStreamTest.END;
import static dev.llmgateway.ChatStreamTest.HELLO;
import static dev.llmgateway.ChatStreamTest.sse;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.testkit.SseResponses;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerOnStateTransitionEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A host's resilience4j breaker plugged in behind {@link CircuitBreaker}, driven through a real
 * client against MockWebServer.
 */
class Resilience4jCircuitBreakerTest extends MockServerTest {
  private static final int WINDOW = 4;
  private static final Duration WAIT_IN_OPEN = Duration.ofSeconds(30);

  private final MutableClock clock = MutableClock.at("2026-01-01T00:00:00Z");
  private final io.github.resilience4j.circuitbreaker.CircuitBreaker r4j =
      io.github.resilience4j.circuitbreaker.CircuitBreaker.of("llm-service", CircuitBreakerConfig.custom()
          .slidingWindow(WINDOW, WINDOW, SlidingWindowType.COUNT_BASED)
          .failureRateThreshold(50)
          .waitDurationInOpenState(WAIT_IN_OPEN)
          .permittedNumberOfCallsInHalfOpenState(1)
          .clock(clock)
          .build());
  private final Resilience4jBreaker breaker = new Resilience4jBreaker(r4j, clock);
  private final List<String> transitions = new CopyOnWriteArrayList<>();

  /**
   * The adapter a host writes: permits, outcomes and state from resilience4j. The SDK's calls carry
   * no attempt identity or duration, so outcomes are recorded with a zero duration (resilience4j's
   * slow-call rate does not apply; the SDK's own time limits bound slow attempts).
   */
  static final class Resilience4jBreaker implements CircuitBreaker {
    private static final Exception FAILED_ATTEMPT =
        new Exception("An LLM service attempt failed (connection failure, timeout or 5xx)", null, false, false) {};

    private final io.github.resilience4j.circuitbreaker.CircuitBreaker r4j;
    private final Clock clock;
    private final List<StateListener> listeners = new CopyOnWriteArrayList<>();
    private volatile Instant openedAt = Instant.MIN;

    Resilience4jBreaker(io.github.resilience4j.circuitbreaker.CircuitBreaker r4j, Clock clock) {
      this.r4j = r4j;
      this.clock = clock;
      r4j.getEventPublisher().onStateTransition(this::changed);
    }

    @Override
    public boolean tryAcquire() {
      return r4j.tryAcquirePermission();
    }

    @Override
    public void onSuccess() {
      r4j.onSuccess(0, TimeUnit.NANOSECONDS);
    }

    @Override
    public void onFailure() {
      r4j.onError(0, TimeUnit.NANOSECONDS, FAILED_ATTEMPT);
    }

    @Override
    public void onIgnored() {
      r4j.releasePermission();
    }

    @Override
    public State state() {
      return map(r4j.getState());
    }

    @Override
    public Duration remainingOpenTime() {
      if (state() != State.OPEN) {
        return Duration.ZERO;
      }
      long waitMillis = r4j.getCircuitBreakerConfig().getWaitIntervalFunctionInOpenState().apply(1);
      Duration left = Duration.ofMillis(waitMillis).minus(Duration.between(openedAt, clock.instant()));
      return left.isNegative() ? Duration.ZERO : left;
    }

    @Override
    public void addListener(StateListener listener) {
      listeners.add(listener);
    }

    @Override
    public void removeListener(StateListener listener) {
      listeners.remove(listener);
    }

    private void changed(CircuitBreakerOnStateTransitionEvent event) {
      State from = map(event.getStateTransition().getFromState());
      State to = map(event.getStateTransition().getToState());
      if (to == State.OPEN) {
        openedAt = clock.instant();
      }
      if (from == to) {
        return;
      }
      for (StateListener listener : listeners) {
        try {
          listener.onStateChange(from, to);
        } catch (RuntimeException ignored) {
          // A listener must not break the attempt that changed the state.
        }
      }
    }

    private static State map(io.github.resilience4j.circuitbreaker.CircuitBreaker.State state) {
      switch (state) {
        case CLOSED:
          return State.CLOSED;
        case HALF_OPEN:
          return State.HALF_OPEN;
        case OPEN:
        case FORCED_OPEN:
          return State.OPEN;
        default:
          return State.DISABLED;
      }
    }
  }

  @Override
  LlmGatewayClient.Builder configure(LlmGatewayClient.Builder builder) {
    return builder.circuitBreaker(breaker).retryPolicy(RetryPolicy.none())
        .listener(new GatewayListener() {
          @Override
          public void circuitStateChanged(CircuitBreaker.State from, CircuitBreaker.State to) {
            transitions.add(from + "->" + to);
          }
        });
  }

  private void failWindow() {
    for (int i = 0; i < WINDOW; i++) {
      server.enqueue(json(503, "{}"));
      assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER)))
          .isInstanceOf(ServiceUnavailableException.class);
    }
  }

  @Test
  void afterAWindowOfServiceUnavailableAnswersResilience4jOpensAndTheClientFailsFastWithoutARequest() {
    failWindow();
    assertThat(r4j.getState()).isEqualTo(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN);
    clock.advance(Duration.ofSeconds(10));

    CircuitOpenException chat = catchThrowableOfType(CircuitOpenException.class, () -> client.chat(ChatRequest.of("hi"), USER));
    CircuitOpenException stream = catchThrowableOfType(CircuitOpenException.class, () -> client.chatStream(ChatRequest.of("hi"), USER));

    assertThat(server.getRequestCount()).isEqualTo(WINDOW);
    assertThat(chat.attempts()).isZero();
    assertThat(chat.retryAfter()).isEqualTo(Duration.ofSeconds(20));
    assertThat(stream).isNotNull();
    assertThat(client.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(transitions).containsExactly("CLOSED->OPEN");
    assertThat(r4j.getMetrics().getNumberOfNotPermittedCalls()).isEqualTo(2);
  }

  @Test
  void answersOtherThanFailuresKeepResilience4jClosed() {
    for (int i = 0; i < 2 * WINDOW; i++) {
      server.enqueue(i % 2 == 0 ? json(404, "{\"detail\":\"nope\"}") : chatOk());
      catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));
    }
    assertThat(r4j.getMetrics().getNumberOfSuccessfulCalls()).isEqualTo(WINDOW);
    assertThat(r4j.getMetrics().getNumberOfFailedCalls()).isZero();
    assertThat(client.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  @Test
  void aStreamedProbeCancelledBeforeItsFirstEventGivesItsPermitBackAndTheNextProbeClosesWithItsFirstEvent() {
    failWindow();
    clock.advance(WAIT_IN_OPEN.plusMillis(1));
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(SseResponses.stalled(": nothing yet\n\n", release));
    try (ChatStream probe = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(client.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
      assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER)))
          .as("the probe holds resilience4j's only half-open permit").isInstanceOf(CircuitOpenException.class);
    } finally {
      release.countDown();
    }
    assertThat(client.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);

    server.enqueue(sse(HELLO + DONE + END));
    try (ChatStream probe = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(probe.iterator().next()).isInstanceOf(StreamEvent.Token.class);
      assertThat(client.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
    assertThat(transitions).containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED");
  }
}
