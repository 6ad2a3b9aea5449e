package dev.llmgateway;

import static dev.llmgateway.TestSupport.TOKEN;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ClientLifecycleTest {
  private final MockWebServer server = new MockWebServer();
  private final FakeTime time = new FakeTime();

  @BeforeEach
  void setUp() throws Exception {
    server.start();
  }

  @AfterEach
  void tearDown() {
    server.close();
  }

  @Test
  void defaultsComeFromTheEnvironment() throws Exception {
    Map<String, String> env = Map.of("LLM_SERVICE_BASE_URL", server.url("/").toString(), "LLM_SERVICE_TOKEN", "from-env");
    server.enqueue(chatOk());
    try (LlmGatewayClient client = LlmGatewayClient.builder().environment(env::get).build()) {
      client.chat(ChatRequest.of("hi"), USER);
    }
    assertThat(server.takeRequest().getHeaders().get("X-Service-Token")).isEqualTo("from-env");
  }

  @Test
  void baseUrlDefaultsToLocalhost8000() {
    try (LlmGatewayClient client = LlmGatewayClient.builder().environment(n -> null).serviceToken(TOKEN).build()) {
      assertThat(client.baseUrl().toString()).isEqualTo("http://localhost:8000/");
    }
  }

  // The sandbox is the artifact llm-gateway-sandbox, which this module's tests do not have; its own
  // tests cover a client that finds it.
  @Test
  void sandboxWithoutItsArtifactOnTheClasspathIsRefusedNamingTheDependency() {
    assertThatThrownBy(() -> LlmGatewayClient.builder().environment(n -> null).sandbox(true).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sandbox(true)")
        .hasMessageContaining("dev.llmgateway:llm-gateway-sandbox");
  }

  @Test
  void sandboxFromTheEnvironmentWithoutItsArtifactIsRefusedNamingTheVariableAndTheDependency() {
    Map<String, String> env = Map.of("LLM_GATEWAY_SANDBOX", "TRUE", "LLM_SERVICE_TOKEN", TOKEN);
    assertThatThrownBy(() -> LlmGatewayClient.builder().environment(env::get).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("LLM_GATEWAY_SANDBOX=true")
        .hasMessageContaining("dev.llmgateway:llm-gateway-sandbox");
  }

  @Test
  void sandboxFalseOnTheBuilderWinsOverTheEnvironment() {
    Map<String, String> env = Map.of("LLM_GATEWAY_SANDBOX", "true", "LLM_SERVICE_TOKEN", TOKEN);
    try (LlmGatewayClient client = LlmGatewayClient.builder().environment(env::get).sandbox(false).build()) {
      assertThat(client.isSandbox()).isFalse();
    }
  }

  @Test
  void customAuthNeedsNoToken() {
    try (LlmGatewayClient client = LlmGatewayClient.builder().environment(n -> null)
        .auth((request, user, operation) -> request.header("Authorization", "Bearer x")).build()) {
      assertThat(client.isSandbox()).isFalse();
    }
  }

  @Test
  void customAuthStrategyGetsTheOperation() throws Exception {
    List<Operation> seen = new CopyOnWriteArrayList<>();
    server.enqueue(chatOk());
    try (LlmGatewayClient client = TestSupport.client(server, time)
        .auth((request, user, operation) -> {
          seen.add(operation);
          request.header("Authorization", "Bearer token-for-" + operation.scope());
        }).build()) {
      client.chat(ChatRequest.of("hi"), USER);
    }
    assertThat(seen).containsExactly(Operation.CHAT);
    assertThat(server.takeRequest().getHeaders().get("Authorization")).isEqualTo("Bearer token-for-llm:chat:send");
  }

  @Test
  void settersRejectBadValuesAtOnce() {
    LlmGatewayClient.Builder builder = LlmGatewayClient.builder();
    assertThatThrownBy(() -> builder.timeout(Duration.ZERO)).hasMessageContaining("timeout");
    assertThatThrownBy(() -> builder.connectTimeout(Duration.ofSeconds(-1))).hasMessageContaining("connectTimeout");
    assertThatThrownBy(() -> builder.maxConcurrentRequests(0)).hasMessageContaining("maxConcurrentRequests");
    assertThatThrownBy(() -> builder.baseUrl("ftp://x")).hasMessageContaining("baseUrl");
    assertThatThrownBy(() -> builder.userAgent("a\nb")).hasMessageContaining("userAgent");
    assertThatThrownBy(() -> RetryPolicy.builder().maxRetries(-1)).hasMessageContaining("maxRetries");
    assertThatThrownBy(() -> RetryPolicy.builder().jitter(2)).hasMessageContaining("jitter");
    assertThatThrownBy(() -> CircuitBreaker.builder().failureThreshold(0)).hasMessageContaining("failureThreshold");
  }

  @Test
  void closedClientRefusesCalls() {
    LlmGatewayClient client = TestSupport.client(server, time).build();
    client.close();
    client.close();
    assertThatThrownBy(() -> client.chat(ChatRequest.of("hi"), USER))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }

  @Test
  void closingNeverShutsDownTheHostsOkHttpClient() throws Exception {
    OkHttpClient host = new OkHttpClient();
    server.enqueue(chatOk());
    try (LlmGatewayClient client = TestSupport.client(server, time).okHttpClient(host).build()) {
      client.chat(ChatRequest.of("hi"), USER);
    }
    server.enqueue(chatOk());
    try (Response response = host.newCall(new Request.Builder().url(server.url("/x")).build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
    }
    assertThat(host.dispatcher().executorService().isShutdown()).isFalse();
  }

  @Test
  void derivedClientKeepsWorkingAfterTheOriginalCloses() {
    LlmGatewayClient original = TestSupport.client(server, time).build();
    LlmGatewayClient derived = original.newBuilder().timeout(Duration.ofSeconds(3)).build();
    original.close();
    server.enqueue(chatOk());
    try (derived) {
      assertThat(derived.chat(ChatRequest.of("hi"), USER).answer()).isNotEmpty();
    }
  }

  @Test
  void manyConcurrentCallsAreNotThrottledToFivePerHost() throws Exception {
    // Hold 20 calls open at the server at once; OkHttp's default per-host limit would allow 5.
    java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(20);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    server.setDispatcher(new mockwebserver3.Dispatcher() {
      @Override
      public mockwebserver3.MockResponse dispatch(mockwebserver3.RecordedRequest request) throws InterruptedException {
        arrived.countDown();
        release.await();
        return chatOk();
      }
    });
    try (LlmGatewayClient client = TestSupport.client(server, time).build()) {
      List<java.util.concurrent.CompletableFuture<ChatResponse>> futures = new java.util.ArrayList<>();
      for (int i = 0; i < 20; i++) {
        futures.add(client.chatAsync(ChatRequest.of("hi " + i), USER));
      }
      assertThat(arrived.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      release.countDown();
      for (var f : futures) {
        assertThat(f.get(20, java.util.concurrent.TimeUnit.SECONDS).answer()).isNotEmpty();
      }
    } finally {
      release.countDown();
    }
  }
}
