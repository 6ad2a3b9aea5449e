package dev.llmgateway.host;

import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.UserContext;
import dev.llmgateway.testkit.SseResponses;
import java.util.concurrent.CountDownLatch;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;

/** The relay tests' fixtures: a user, a whole streamed answer in pieces, a client for a MockWebServer. */
final class RelayFixtures {
  static final UserContext USER =
      UserContext.builder().userId("123").companyId("456").role("recruiter").companyRole("owner").build();

  static final String SESSION = "data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_2\"}\n\n";
  static final String INTENT = "data: {\"type\":\"intent\",\"intent\":\"search\"}\n\n";
  static final String HELLO = "data: {\"type\":\"token\",\"content\":\"Hello\"}\n\n";
  static final String WORLD = "data: {\"type\":\"token\",\"content\":\" world\"}\n\n";
  static final String CANDIDATES = "data: {\"type\":\"candidates\",\"candidates\":[{\"profile_id\":\"id_1a2b3c4d\",\"name\":\"Ada L.\"}]}\n\n";
  static final String ACTION = "data: {\"type\":\"action\",\"action\":{\"type\":\"shortlist\",\"profile_id\":\"id_1a2b3c4d\"}}\n\n";
  static final String DONE = "data: {\"type\":\"done\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n";
  static final String END = "data: [DONE]\n\n";
  /** Seven events (a heartbeat among them), done, end: "Hello world". */
  static final String FULL = SESSION + INTENT + ": ping\n\n" + HELLO + WORLD + CANDIDATES + ACTION + DONE + END;

  private RelayFixtures() {}

  static MockResponse sse(String body) {
    return SseResponses.sse(body, 7);
  }

  /** A body that sends {@code first}, then waits for {@code release} before sending {@code rest} 1000 times. */
  static MockResponse paused(String first, CountDownLatch release, String rest, CountDownLatch serverSawClose) {
    return SseResponses.paused(first, release, rest, 1000, serverSawClose);
  }

  /** A client for {@code server} with fake time (retries do not wait), no jitter. */
  static LlmGatewayClient.Builder client(MockWebServer server) {
    FakeTicker time = new FakeTicker();
    return LlmGatewayClient.builder()
        .baseUrl(server.url("/").toString())
        .serviceToken("svc-token")
        .environment(name -> null)
        .ticker(time)
        .sleeper(time::advance)
        .retryPolicy(RetryPolicy.builder().jitter(0).build())
        .circuitBreaker(CircuitBreaker.builder().ticker(time).build());
  }
}
