package dev.llmgateway.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.UserContext;
import dev.llmgateway.spi.SandboxProvider;
import dev.llmgateway.testkit.LogCapture;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How a client finds this artifact ({@link java.util.ServiceLoader}) and what it says when the
 * environment, rather than the code, turns the sandbox on.
 */
class SandboxDiscoveryTest {
  private static final UserContext ALICE = UserContext.builder().userId("alice").companyId("1").role("recruiter").build();
  private static final Function<String, @Nullable String> NO_ENV = name -> null;
  private static final Function<String, @Nullable String> SANDBOX_ENV = Map.of("LLM_GATEWAY_SANDBOX", "true")::get;

  private final LogCapture logs = new LogCapture();

  @AfterEach
  void tearDown() {
    logs.close();
  }

  @Test
  void theArtifactRegistersItsProviderForServiceLoader() {
    assertThat(ServiceLoader.load(SandboxProvider.class).stream().map(ServiceLoader.Provider::type).toList())
        .containsExactly(EmbeddedSandbox.class);
  }

  @Test
  void aSandboxClientAnswersWithoutTokenNorNetwork() {
    // .invalid never resolves: an answer can only come from the sandbox.
    try (LlmGatewayClient client = LlmGatewayClient.builder().environment(NO_ENV).sandbox(true)
        .baseUrl("http://service.invalid").auditSink(AuditSink.none()).build()) {
      ChatResponse answer = client.chat(ChatRequest.of("Find senior Rails engineers in Berlin"), ALICE);

      assertThat(client.isSandbox()).isTrue();
      assertThat(answer.answer()).contains("Find senior Rails engineers in Berlin");
    }
  }

  @Test
  void eachClientBuiltGetsItsOwnSandbox() {
    try (LlmGatewayClient first = sandboxClient(NO_ENV); LlmGatewayClient second = sandboxClient(NO_ENV)) {
      String sessionId = first.chat(ChatRequest.of("hello"), ALICE).sessionId();

      assertThat(first.sessions().get(sessionId, ALICE).sessionId()).isEqualTo(sessionId);
      assertThat(catchThrowable(() -> second.sessions().get(sessionId, ALICE))).isInstanceOf(NotFoundException.class);
    }
  }

  @Test
  void theEnvironmentTurningTheSandboxOnWarnsAtEachBuildThatAnswersAreFake() {
    try (LlmGatewayClient client = LlmGatewayClient.builder().environment(SANDBOX_ENV).auditSink(AuditSink.none()).build();
        LlmGatewayClient derived = client.newBuilder().build()) {
      assertThat(client.isSandbox()).isTrue();
      assertThat(derived.isSandbox()).isTrue();
    }

    assertThat(warnings()).hasSize(2).allSatisfy(e -> assertThat(e.getFormattedMessage())
        .contains("LLM_GATEWAY_SANDBOX")
        .contains("fake answers")
        .contains("never called"));
  }

  @Test
  void sandboxTrueOnTheBuilderDoesNotWarnEvenWhenTheEnvironmentAgrees() {
    try (LlmGatewayClient fromCode = sandboxClient(NO_ENV); LlmGatewayClient both = sandboxClient(SANDBOX_ENV)) {
      assertThat(fromCode.isSandbox()).isTrue();
      assertThat(both.isSandbox()).isTrue();
    }

    assertThat(warnings()).isEmpty();
  }

  private static LlmGatewayClient sandboxClient(Function<String, @Nullable String> environment) {
    return LlmGatewayClient.builder().environment(environment).sandbox(true).auditSink(AuditSink.none()).build();
  }

  private List<ILoggingEvent> warnings() {
    return logs.events(LlmGatewayClient.class.getName()).stream().filter(e -> e.getLevel() == Level.WARN).toList();
  }
}
