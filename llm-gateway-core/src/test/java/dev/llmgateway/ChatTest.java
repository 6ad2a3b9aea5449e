package dev.llmgateway;

import static dev.llmgateway.TestSupport.TOKEN;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.MDC;

class ChatTest extends MockServerTest {


  @Test
  void chatSendsContractPathHeadersAndBody() throws Exception {
    server.enqueue(chatOk());
    ChatRequest request = ChatRequest.builder()
        .query("Find senior Rails engineers in Berlin")
        .sessionId("sess_8f14e45f")
        .userIntent(Intent.SEARCH)
        .profileId("id_1a2b3c4d")
        .putMetadata("source", "web")
        .build();

    client.chat(request, USER);

    RecordedRequest recorded = server.takeRequest();
    assertThat(recorded.getMethod()).isEqualTo("POST");
    assertThat(recorded.getUrl().encodedPath()).isEqualTo("/api/v1/llm-chat/recruiter/chat");
    assertThat(recorded.getHeaders().get("X-Service-Token")).isEqualTo(TOKEN);
    assertThat(recorded.getHeaders().get("X-User-Id")).isEqualTo("123");
    assertThat(recorded.getHeaders().get("X-Company-Id")).isEqualTo("456");
    assertThat(recorded.getHeaders().get("X-User-Role")).isEqualTo("recruiter");
    assertThat(recorded.getHeaders().get("X-Company-Role")).isEqualTo("owner");
    assertThat(recorded.getHeaders().get("X-Request-Id")).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    assertThat(recorded.getHeaders().get("Idempotency-Key")).isNotBlank();
    assertThat(recorded.getHeaders().get("User-Agent")).startsWith("llm-gateway-java/");
    assertThat(recorded.getHeaders().get("Content-Type")).startsWith("application/json");
    JsonNode body = new ObjectMapper().readTree(recorded.getBody().utf8());
    assertThat(body).isEqualTo(new ObjectMapper().readTree(
        "{\"query\":\"Find senior Rails engineers in Berlin\",\"session_id\":\"sess_8f14e45f\","
            + "\"user_intent\":\"search\",\"profile_id\":\"id_1a2b3c4d\",\"metadata\":{\"source\":\"web\"}}"));
  }

  @Test
  void optionalFieldsAreLeftOutOfTheBody() throws Exception {
    server.enqueue(chatOk());
    client.chat(ChatRequest.of("hello"), UserContext.builder().userId("1").companyId("2").role("client").build());

    RecordedRequest recorded = server.takeRequest();
    assertThat(recorded.getBody().utf8()).isEqualTo("{\"query\":\"hello\"}");
    assertThat(recorded.getHeaders().get("X-Company-Role")).isNull();
  }

  @Test
  void chatResponseIsTyped() {
    server.enqueue(chatOk());
    ChatResponse response = client.chat(ChatRequest.of("Find Rails engineers"), USER);

    assertThat(response.sessionId()).isEqualTo("sess_8f14e45f");
    assertThat(response.messageId()).isEqualTo("msg_01");
    assertThat(response.intent()).isEqualTo(Intent.SEARCH);
    assertThat(response.answer()).isEqualTo("I found 3 candidates");
    assertThat(response.candidates()).containsExactly(
        new Candidate("id_1a2b3c4d", "Ada L.", "Senior Rails Engineer", 0.92, Map.of()));
    assertThat(response.actions()).isEmpty();
    assertThat(response.usage()).isEqualTo(new Usage(120, 48, 168));
    assertThat(response.model()).isEqualTo("recruiter-v3");
    assertThat(response.extra()).isEmpty();
  }

  @Test
  void unknownFieldsAndIntentsAreKeptNotRejected() {
    server.enqueue(json(200, "{\"session_id\":\"s1\",\"message_id\":\"m1\",\"intent\":\"summarize\","
        + "\"answer\":\"ok\",\"confidence\":0.5,\"trace\":{\"spans\":[1,2]},"
        + "\"candidates\":[{\"profile_id\":\"id_00000000\",\"badge\":\"new\"}],"
        + "\"actions\":[{\"type\":\"shortlist\",\"profile_id\":\"id_00000000\"}]}"));

    ChatResponse response = client.chat(ChatRequest.of("hi"), USER);

    assertThat(response.intent()).isEqualTo(Intent.UNKNOWN);
    assertThat(response.rawIntent()).isEqualTo("summarize");
    assertThat(response.extra()).containsEntry("confidence", 0.5)
        .containsEntry("trace", Map.of("spans", List.of(1, 2)));
    assertThat(response.candidates().get(0).extra()).containsEntry("badge", "new");
    assertThat(response.candidates().get(0).score()).isNull();
    assertThat(response.actions()).containsExactly(
        new Action("shortlist", Map.of("type", "shortlist", "profile_id", "id_00000000")));
    assertThat(response.usage()).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"prompt_tokens\":0,\"completion_tokens\":2}",
      "{\"prompt_tokens\":0,\"completion_tokens\":2,\"total_tokens\":null}"})
  void missingTotalTokensIsTheSumAndZeroCountsAreValid(String usage) {
    server.enqueue(json(200, withUsage(usage)));
    assertThat(client.chat(ChatRequest.of("hi"), USER).usage()).isEqualTo(new Usage(0, 2, 2));
  }

  @Test
  void tokenCountsWhoseSumIsBeyondALongAreRefused() {
    server.enqueue(json(200, withUsage("{\"prompt_tokens\":" + (Long.MAX_VALUE - 1) + ",\"completion_tokens\":1}")));
    assertThat(client.chat(ChatRequest.of("hi"), USER).usage().totalTokens()).isEqualTo(Long.MAX_VALUE);

    server.enqueue(json(200, withUsage("{\"prompt_tokens\":" + Long.MAX_VALUE + ",\"completion_tokens\":1}")));
    assertThat(catchThrowable(() -> client.chat(ChatRequest.of("hi"), USER))).isInstanceOf(InvalidResponseException.class);
  }

  private static String withUsage(String usage) {
    return TestSupport.CHAT_JSON.replace("{\"prompt_tokens\":120,\"completion_tokens\":48,\"total_tokens\":168}", usage);
  }

  @Test
  void absentCandidatesAndActionsAreEmptyLists() {
    server.enqueue(json(200, "{\"session_id\":\"s1\",\"message_id\":\"m1\",\"intent\":\"chat\",\"answer\":\"ok\"}"));

    ChatResponse response = client.chat(ChatRequest.of("hi"), USER);

    assertThat(response.candidates()).isEmpty();
    assertThat(response.actions()).isEmpty();
    assertThat(response.intent()).isEqualTo(Intent.CHAT);
  }

  @Test
  void responseCarriesTheRequestIdSent() throws Exception {
    server.enqueue(chatOk());
    ChatResponse response = client.chat(ChatRequest.of("hi"), USER);

    assertThat(response.requestId()).isEqualTo(server.takeRequest().getHeaders().get("X-Request-Id"));
  }

  @Test
  void callerChoosesRequestIdAndIdempotencyKey() throws Exception {
    server.enqueue(chatOk());
    ChatResponse response = client.chat(ChatRequest.of("hi"), USER,
        CallOptions.builder().requestId("trace-42").idempotencyKey("idem-42").build());

    RecordedRequest recorded = server.takeRequest();
    assertThat(recorded.getHeaders().get("X-Request-Id")).isEqualTo("trace-42");
    assertThat(recorded.getHeaders().get("Idempotency-Key")).isEqualTo("idem-42");
    assertThat(response.requestId()).isEqualTo("trace-42");
  }

  @Test
  void requestIdIsTakenFromTheConfiguredMdcKey() throws Exception {
    useClient(clientBuilder().requestIdMdcKey("traceId"));
    server.enqueue(chatOk());
    MDC.put("traceId", "from-host-filter");
    try {
      client.chat(ChatRequest.of("hi"), USER);
    } finally {
      MDC.remove("traceId");
    }

    assertThat(server.takeRequest().getHeaders().get("X-Request-Id")).isEqualTo("from-host-filter");
  }

  @Test
  void eachLogicalCallGetsItsOwnIds() throws Exception {
    server.enqueue(chatOk());
    server.enqueue(chatOk());
    client.chat(ChatRequest.of("one"), USER);
    client.chat(ChatRequest.of("two"), USER);

    RecordedRequest first = server.takeRequest();
    RecordedRequest second = server.takeRequest();
    assertThat(first.getHeaders().get("X-Request-Id")).isNotEqualTo(second.getHeaders().get("X-Request-Id"));
    assertThat(first.getHeaders().get("Idempotency-Key")).isNotEqualTo(second.getHeaders().get("Idempotency-Key"));
  }

  @Test
  void baseUrlPathPrefixIsKept() throws Exception {
    useClient(clientBuilder().baseUrl(server.url("/llm/").toString()));
    server.enqueue(chatOk());
    client.chat(ChatRequest.of("hi"), USER);

    assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/llm/api/v1/llm-chat/recruiter/chat");
  }

  @Test
  void mdcIsRestoredAfterTheCall() {
    server.enqueue(chatOk());
    MDC.put(LlmGatewayClient.DEFAULT_MDC_KEY, "outer");
    try {
      client.chat(ChatRequest.of("hi"), USER, CallOptions.withRequestId("inner"));
      assertThat(MDC.get(LlmGatewayClient.DEFAULT_MDC_KEY)).isEqualTo("outer");
    } finally {
      MDC.clear();
    }
  }
}
