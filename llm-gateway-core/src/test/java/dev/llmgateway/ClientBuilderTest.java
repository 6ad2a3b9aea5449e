package dev.llmgateway;

import static dev.llmgateway.TestSupport.TOKEN;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What build() takes from its builder, and what built clients share. */
class ClientBuilderTest {
  private final MockWebServer server = new MockWebServer();
  private final MockWebServer other = new MockWebServer();
  private final FakeTime time = new FakeTime();

  @BeforeEach
  void setUp() throws Exception {
    server.start();
    other.start();
  }

  @AfterEach
  void tearDown() {
    server.close();
    other.close();
  }

  /** A builder for {@code server} with no breaker set (build() makes a default one) and no retries. */
  private LlmGatewayClient.Builder builder() {
    return TestSupport.clientWithDefaultBreaker(server, time).retryPolicy(RetryPolicy.none());
  }

  @Test
  void changingTheBuilderAfterBuildLeavesTheBuiltClientAsItWas() throws Exception {
    List<String> heard = new CopyOnWriteArrayList<>();
    LlmGatewayClient.Builder builder = builder().userAgent("first-agent");
    try (LlmGatewayClient client = builder.build()) {
      CircuitBreaker breaker = client.circuitBreaker();
      builder.baseUrl(other.url("/").toString())
          .serviceToken("another-token")
          .userAgent("second-agent")
          .circuitBreaker(CircuitBreaker.disabled())
          .listener(new GatewayListener() {
            @Override
            public void callStart(CallInfo info) {
              heard.add(info.requestId());
            }
          })
          .maxQueryLength(1);
      server.enqueue(chatOk());

      client.chat(ChatRequest.of("hi there"), USER);

      RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
      assertThat(request.getHeaders().get("X-Service-Token")).isEqualTo(TOKEN);
      assertThat(request.getHeaders().get("User-Agent")).isEqualTo("first-agent");
      assertThat(other.getRequestCount()).isZero();
      assertThat(heard).isEmpty();
      assertThat(client.circuitBreaker()).isSameAs(breaker);
      assertThat(client.validator().maxQueryLength()).isEqualTo(RequestValidator.DEFAULT_MAX_QUERY_LENGTH);
    }
  }

  @Test
  void newBuilderStartsFromTheClientsSettingsNotFromLaterChangesToItsBuilder() throws Exception {
    LlmGatewayClient.Builder builder = builder().userAgent("first-agent");
    try (LlmGatewayClient client = builder.build()) {
      builder.userAgent("second-agent").baseUrl(other.url("/").toString());
      server.enqueue(chatOk());
      try (LlmGatewayClient derived = client.newBuilder().build()) {
        derived.chat(ChatRequest.of("hi"), USER);
        assertThat(derived.circuitBreaker()).isSameAs(client.circuitBreaker());
      }
      assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("User-Agent")).isEqualTo("first-agent");
      assertThat(other.getRequestCount()).isZero();
    }
  }

  @Test
  void twoClientsBuiltFromOneBuilderEachGetTheirOwnDefaultBreaker() {
    LlmGatewayClient.Builder builder = builder();
    try (LlmGatewayClient first = builder.build(); LlmGatewayClient second = builder.build()) {
      for (int i = 0; i < CircuitBreaker.DEFAULT_FAILURE_THRESHOLD; i++) {
        server.enqueue(json(503, "{}"));
        catchThrowable(() -> first.chat(ChatRequest.of("hi"), USER));
      }
      int sent = server.getRequestCount();

      Throwable refused = catchThrowable(() -> first.chat(ChatRequest.of("hi"), USER));
      server.enqueue(chatOk());
      ChatResponse answered = second.chat(ChatRequest.of("hi"), USER);

      assertThat(refused).isInstanceOf(CircuitOpenException.class);
      assertThat(answered.answer()).isNotEmpty();
      assertThat(server.getRequestCount()).isEqualTo(sent + 1);
      assertThat(first.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.OPEN);
      assertThat(second.circuitBreaker().state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
  }

  @Test
  void aBreakerTheUserPassedIsSharedByEveryClientBuiltWithIt() {
    CircuitBreaker breaker = CircuitBreaker.builder().ticker(time).build();
    LlmGatewayClient.Builder builder = builder().circuitBreaker(breaker);
    try (LlmGatewayClient first = builder.build(); LlmGatewayClient second = builder.build()) {
      assertThat(first.circuitBreaker()).isSameAs(breaker);
      assertThat(second.circuitBreaker()).isSameAs(breaker);
    }
  }

  @Test
  void aClientDerivedAfterTheOriginalClosedGetsLiveThreads() throws Exception {
    LlmGatewayClient original = builder().build();
    LlmGatewayClient.Builder derivedBuilder = original.newBuilder().timeout(Duration.ofSeconds(3));
    original.close();
    server.enqueue(chatOk());

    try (LlmGatewayClient derived = derivedBuilder.build()) {
      ChatResponse answer = derived.chatAsync(ChatRequest.of("hi"), USER).get(10, TimeUnit.SECONDS);

      assertThat(answer.answer()).isNotEmpty();
    }
  }

  @Test
  void aBuildThatFailsGivesBackTheSharedPoolSoClosingTheOriginalStillReleasesIt() {
    LlmGatewayClient original = builder().build();
    CircuitBreaker refusesListeners = new CircuitBreakerContractTest.RecordingBreaker() {
      @Override
      public void addListener(StateListener listener) {
        throw new IllegalStateException("this breaker takes no listener");
      }
    };

    Throwable failure = catchThrowable(() -> original.newBuilder().circuitBreaker(refusesListeners).build());
    original.close();

    assertThat(failure).hasMessageContaining("takes no listener");
    assertThat(original.resources().dispatcherExecutor().isShutdown())
        .as("the last client's close shuts down the threads the SDK created")
        .isTrue();
  }
}
