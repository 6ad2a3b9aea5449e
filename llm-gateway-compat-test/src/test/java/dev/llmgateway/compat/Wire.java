package dev.llmgateway.compat;

import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.UserContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;

/** The canned service answers of the contract the tests send, and a client wired to a MockWebServer. */
final class Wire {
  static final String SERVICE_TOKEN = "svc-token-compat-SECRET";
  static final UserContext USER =
      UserContext.builder().userId("123").companyId("456").role("recruiter").companyRole("owner").build();
  static final String CHAT = "{\"session_id\":\"sess_1\",\"message_id\":\"msg_1\",\"intent\":\"search\","
      + "\"answer\":\"I found 1 candidate\",\"candidates\":[{\"profile_id\":\"id_1a2b3c4d\",\"name\":\"Ada L.\","
      + "\"headline\":\"Senior Rails Engineer\",\"score\":0.92}],\"actions\":[],"
      + "\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":48,\"total_tokens\":168},\"model\":\"recruiter-v3\"}";
  /** A whole streamed answer: session, intent, a heartbeat, two tokens, done with usage, end. */
  static final String STREAM = "data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_2\"}\n\n"
      + "data: {\"type\":\"intent\",\"intent\":\"search\"}\n\n"
      + ": ping\n\n"
      + "data: {\"type\":\"token\",\"content\":\"Hello\"}\n\n"
      + "data: {\"type\":\"token\",\"content\":\" world\"}\n\n"
      + "data: {\"type\":\"done\",\"finish_reason\":\"stop\","
      + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n"
      + "data: [DONE]\n\n";

  private Wire() {}

  static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
  }

  /** The stream in chunks of 7 bytes, so events and lines arrive split. */
  static MockResponse eventStream(String body) {
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "text/event-stream")
        .chunkedBody(body, 7).build();
  }

  /** A client for {@code server} whose retries record their waits in {@code sleeps} instead of sleeping. */
  static LlmGatewayClient.Builder client(MockWebServer server, List<Duration> sleeps) {
    return LlmGatewayClient.builder()
        .baseUrl(server.url("/").toString())
        .serviceToken(SERVICE_TOKEN)
        .environment(name -> null)
        .sleeper(sleeps::add)
        .retryPolicy(RetryPolicy.builder().jitter(0).build())
        .circuitBreaker(CircuitBreaker.disabled());
  }

  static List<Duration> sleeps() {
    return new CopyOnWriteArrayList<>();
  }
}
