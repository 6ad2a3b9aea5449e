package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * An Error while an answer is handled (a NoSuchMethodError when the host's Jackson is older than the
 * SDK needs, simulated here by a listener) still ends the call: the async future fails instead of
 * never completing, and the call's slot is freed for the next call.
 */
class ErrorInTheResponsePathTest extends MockServerTest {
  private final AtomicBoolean thrown = new AtomicBoolean();

  @Override
  LlmGatewayClient.Builder configure(LlmGatewayClient.Builder builder) {
    return builder.maxConcurrentRequests(1).maxQueueWait(Duration.ofMillis(100)).listener(new GatewayListener() {
      @Override
      public void attemptEnd(
          CallInfo call, int attempt, int status, Duration latency, @Nullable LlmGatewayException failure) {
        if (thrown.compareAndSet(false, true)) {
          throw new NoSuchMethodError("simulated: a library older than the SDK needs");
        }
      }
    });
  }

  @Test
  void chatAsyncFailsWithTheErrorAndFreesItsSlot() throws Exception {
    server.enqueue(chatOk());
    server.enqueue(chatOk());

    Throwable failed = catchThrowable(() -> client.chatAsync(ChatRequest.of("hi"), USER).get(10, TimeUnit.SECONDS));
    ChatResponse next = client.chatAsync(ChatRequest.of("hi"), USER).get(10, TimeUnit.SECONDS);

    assertThat(failed).isInstanceOf(ExecutionException.class).cause().isInstanceOf(NoSuchMethodError.class);
    assertThat(next.answer()).isEqualTo("I found 3 candidates");
    assertThat(audit.events).extracting(AuditEvent::outcome)
        .containsExactly(AuditEvent.Outcome.FAILURE, AuditEvent.Outcome.SUCCESS);
  }

  @Test
  void chatThrowsTheErrorAndFreesItsSlot() {
    server.enqueue(chatOk());
    server.enqueue(chatOk());

    Throwable failed = catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER));
    ChatResponse next = client.chat(ChatRequest.of("hi"), USER);

    assertThat(failed).isInstanceOf(NoSuchMethodError.class);
    assertThat(next.answer()).isEqualTo("I found 3 candidates");
    assertThat(audit.events).extracting(AuditEvent::outcome)
        .containsExactly(AuditEvent.Outcome.FAILURE, AuditEvent.Outcome.SUCCESS);
  }
}
