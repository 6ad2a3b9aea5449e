package dev.llmgateway.sandbox.internal;

import static dev.llmgateway.sandbox.internal.SandboxFixture.BASE;
import static dev.llmgateway.sandbox.internal.SandboxFixture.CHAT;
import static dev.llmgateway.sandbox.internal.SandboxFixture.fieldNames;
import static dev.llmgateway.sandbox.internal.SandboxFixture.parse;
import static dev.llmgateway.sandbox.internal.SandboxFixture.SESSIONS;
import static dev.llmgateway.sandbox.internal.SandboxFixture.as;
import static dev.llmgateway.sandbox.internal.SandboxFixture.bearer;
import static dev.llmgateway.sandbox.internal.SandboxFixture.body;
import static dev.llmgateway.sandbox.internal.SandboxFixture.chatBody;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.sandbox.internal.SandboxFixture.Result;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import okhttp3.Request;
import org.junit.jupiter.api.Test;

class SandboxServiceTest {
  private final SandboxFixture sandbox = new SandboxFixture();

  @Test
  void healthAnswersOkWithoutCredentials() {
    Result result = sandbox.call(new Request.Builder().url(BASE + "/health").build());

    assertThat(result.code()).isEqualTo(200);
    assertThat(result.message()).isEqualTo("OK");
    assertThat(result.body()).isEqualTo("{\"status\":\"ok\"}");
    assertThat(result.header("Content-Type")).isEqualTo("application/json");
    assertThat(result.header("Content-Length")).isEqualTo(Integer.toString(result.body().length()));
    assertThat(result.contentLength()).isEqualTo(result.body().length());
    assertThat(result.header("Date")).isEqualTo("Fri, 20 Nov 2026 10:00:00 GMT");
  }

  @Test
  void routesMatchBehindABasePathPrefix() {
    assertThat(sandbox.call(new Request.Builder().url(BASE + "/gateway/health").build()).code())
        .isEqualTo(200);
    Result list = sandbox.get("u1", BASE + "/gateway/api/v1/llm-chat/recruiter/sessions");
    assertThat(list.code()).isEqualTo(200);
  }

  @Test
  void unknownPathIsNotFound() {
    for (String path :
        List.of("/", "/api/v1/llm-chat/recruiter", "/api/v1/llm-chat/recruiter/chats", "/api/v1/other/chat",
            "/api/v1/llm-chat/recruiter/sessions/a/b")) {
      Result result = sandbox.get("u1", BASE + path);
      assertThat(result.code()).as(path).isEqualTo(404);
      assertThat(result.body()).as(path).isEqualTo("{\"detail\":\"Not Found\"}");
    }
  }

  @Test
  void wrongMethodOnKnownPathIsMethodNotAllowed() {
    Result getChat = sandbox.get("u1", CHAT);
    Result postSessions = sandbox.call(as("u1").url(SESSIONS).post(body("{}")).build());
    Result postHealth = sandbox.call(new Request.Builder().url(BASE + "/health").post(body("{}")).build());
    Result putSession = sandbox.call(as("u1").url(SESSIONS + "/sess_1").put(body("{}")).build());

    for (Result r : List.of(getChat, postSessions, postHealth, putSession)) {
      assertThat(r.code()).isEqualTo(405);
      assertThat(r.message()).isEqualTo("Method Not Allowed");
      assertThat(r.body()).isEqualTo("{\"detail\":\"Method Not Allowed\"}");
    }
    assertThat(getChat.header("Allow")).isEqualTo("POST");
    assertThat(putSession.header("Allow")).isEqualTo("GET, DELETE");
  }

  @Test
  void missingCredentialsAreUnauthorized() {
    Request.Builder partial =
        new Request.Builder().header("X-Service-Token", "t").header("X-User-Id", "u1").header("X-Company-Id", "c");
    List<Request> requests =
        List.of(
            new Request.Builder().url(CHAT).post(body(chatBody("hi"))).build(),
            new Request.Builder().url(SESSIONS).build(),
            new Request.Builder().url(SESSIONS + "/sess_00000000").build(),
            new Request.Builder().url(SESSIONS + "/sess_00000000").delete().build(),
            partial.url(SESSIONS).build(),
            as("u1").header("X-Service-Token", "").url(SESSIONS).build(),
            new Request.Builder().header("Authorization", "Bearer ").url(SESSIONS).build(),
            new Request.Builder().header("Authorization", "Basic dTpw").url(SESSIONS).build());

    for (Request request : requests) {
      Result result = sandbox.call(request);
      assertThat(result.code()).as(request.toString()).isEqualTo(401);
      assertThat(result.body()).isEqualTo("{\"detail\":\"Not authenticated\"}");
      assertThat(result.header("WWW-Authenticate")).isEqualTo("Bearer");
    }
  }

  @Test
  void bearerTokenSubjectOwnsTheSession() {
    Request viaJwt =
        new Request.Builder()
            .url(CHAT)
            .header("Authorization", bearer("{\"sub\":\"123\",\"company_id\":\"456\"}"))
            .post(body(chatBody("hello")))
            .build();
    String sessionId = sandbox.call(viaJwt).json().get("session_id").asText();

    assertThat(sandbox.get("123", SESSIONS + "/" + sessionId).code()).isEqualTo(200);
    assertThat(sandbox.get("456", SESSIONS + "/" + sessionId).code()).isEqualTo(403);
  }

  @Test
  void opaqueBearerTokenActsAsTheSandboxUser() {
    Request request =
        new Request.Builder().url(CHAT).header("Authorization", "Bearer not-a-jwt").post(body(chatBody("hi"))).build();
    String sessionId = sandbox.call(request).json().get("session_id").asText();

    Result asSandboxUser = sandbox.get(SandboxService.DEFAULT_BEARER_USER, SESSIONS + "/" + sessionId);
    assertThat(asSandboxUser.code()).isEqualTo(200);
  }

  @Test
  void bearerScopesAreEnforcedWhenPresent() {
    String readOnly = bearer("{\"sub\":\"7\",\"scopes\":[\"llm:chat:read\"]}");

    Result chat =
        sandbox.call(new Request.Builder().url(CHAT).header("Authorization", readOnly).post(body(chatBody("hi"))).build());
    Result list = sandbox.call(new Request.Builder().url(SESSIONS).header("Authorization", readOnly).build());
    Result delete =
        sandbox.call(
            new Request.Builder().url(SESSIONS + "/sess_x").header("Authorization", readOnly).delete().build());

    assertThat(chat.code()).isEqualTo(403);
    assertThat(chat.body()).isEqualTo("{\"detail\":\"Missing scope: llm:chat:send\"}");
    assertThat(list.code()).isEqualTo(200);
    assertThat(delete.code()).isEqualTo(403);
    assertThat(delete.json().get("detail").asText()).isEqualTo("Missing scope: llm:chat:delete");
  }

  @Test
  void chatResponseHasTheContractShape() {
    String query = "Find senior Rails engineers in Berlin";
    Result result = sandbox.call(as("u1").url(CHAT).header("X-Request-Id", "req-42").post(body(chatBody(query))).build());

    assertThat(result.code()).isEqualTo(200);
    assertThat(result.header("Content-Type")).isEqualTo("application/json");
    assertThat(result.header("Content-Length"))
        .isEqualTo(Integer.toString(result.body().getBytes(StandardCharsets.UTF_8).length));
    assertThat(result.header("X-Request-Id")).isEqualTo("req-42");
    JsonNode json = result.json();
    assertThat(fieldNames(json))
        .containsExactly(
            "session_id", "message_id", "intent", "answer", "candidates", "actions", "usage", "model");
    assertThat(json.get("session_id").asText()).matches("sess_[0-9a-f]{8}");
    assertThat(json.get("message_id").asText()).matches("msg_[0-9a-f]{8}");
    assertThat(json.get("intent").asText()).isEqualTo("search");
    assertThat(json.get("answer").asText()).startsWith("I found 3 candidates for \"" + query + "\"");
    assertThat(json.get("model").asText()).isEqualTo("sandbox-1");
    assertThat(json.get("actions").isArray()).isTrue();
    assertThat(json.get("actions")).isEmpty();

    JsonNode candidates = json.get("candidates");
    assertThat(candidates).hasSize(3);
    double previous = 1.0;
    for (JsonNode candidate : candidates) {
      assertThat(fieldNames(candidate)).containsExactly("profile_id", "name", "headline", "score");
      assertThat(candidate.get("profile_id").asText()).matches("id_[0-9a-f]{8}");
      assertThat(candidate.get("name").asText()).isNotBlank();
      assertThat(candidate.get("headline").asText()).contains("Rails Engineer, Berlin");
      assertThat(candidate.get("score").isDouble()).isTrue();
      assertThat(candidate.get("score").asDouble()).isLessThan(previous).isGreaterThan(0);
      previous = candidate.get("score").asDouble();
    }

    JsonNode usage = json.get("usage");
    assertThat(fieldNames(usage)).containsExactly("prompt_tokens", "completion_tokens", "total_tokens");
    int answerWords = json.get("answer").asText().trim().split("\\s+").length;
    assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(6 + 20);
    assertThat(usage.get("completion_tokens").asInt()).isEqualTo(answerWords);
    assertThat(usage.get("total_tokens").asInt()).isEqualTo(26 + answerWords);
  }

  @Test
  void intentFollowsKeywordsUnlessTheCallerGivesOne() {
    assertThat(intentOf(chatBody("Search for React developers"))).isEqualTo("search");
    assertThat(intentOf(chatBody("who is LOOKING FOR a job?"))).isEqualTo("search");
    assertThat(intentOf(chatBody("Shortlist the second one"))).isEqualTo("user_action");
    assertThat(intentOf(chatBody("Invite the top candidate"))).isEqualTo("user_action");
    assertThat(intentOf(chatBody("please add Ada to the pipeline"))).isEqualTo("user_action");
    assertThat(intentOf(chatBody("What does a CTO do?"))).isEqualTo("chat");
    assertThat(intentOf(chatBody("Find engineers", "user_intent", "chat"))).isEqualTo("chat");
  }

  @Test
  void userActionReturnsOneActionForTheGivenProfile() {
    JsonNode json = sandbox.chat("u1", chatBody("Shortlist her please", "profile_id", "id_1a2b3c4d")).json();

    assertThat(json.get("intent").asText()).isEqualTo("user_action");
    assertThat(json.get("candidates")).isEmpty();
    assertThat(json.get("actions").toString()).isEqualTo("[{\"type\":\"shortlist\",\"profile_id\":\"id_1a2b3c4d\"}]");
    assertThat(json.get("answer").asText()).contains("id_1a2b3c4d").contains("Shortlist her please");
  }

  @Test
  void chatAnswerQuotesAPrefixOfALongQuery() {
    String query = "Tell me " + "about hiring ".repeat(20);
    String answer = sandbox.chat("u1", chatBody(query)).json().get("answer").asText();

    assertThat(answer).contains("\"Tell me about hiring").contains("\u2026\"");
    assertThat(answer.length()).isLessThan(query.length() + 150);
  }

  @Test
  void invalidChatBodiesGetFastApiValidationErrors() {
    assertThat(validationError("{}")).isEqualTo(
        "[{\"loc\":[\"body\",\"query\"],\"msg\":\"Field required\",\"type\":\"missing\"}]");
    assertThat(validationError("{\"query\":\"   \"}")).isEqualTo(
        "[{\"loc\":[\"body\",\"query\"],\"msg\":\"Value error, query must not be blank\",\"type\":\"value_error\"}]");
    assertThat(validationError("{\"query\":42}")).isEqualTo(
        "[{\"loc\":[\"body\",\"query\"],\"msg\":\"Input should be a valid string\",\"type\":\"string_type\"}]");
    assertThat(validationError("")).isEqualTo(
        "[{\"loc\":[\"body\"],\"msg\":\"Field required\",\"type\":\"missing\"}]");
    assertThat(validationError("[1]")).contains("\"loc\":[\"body\"]", "\"type\":\"model_attributes_type\"");
    assertThat(parse(validationError("{\"query\": nope}")).get(0).get("loc").toString())
        .matches("\\[\"body\",\\d+]");
    assertThat(validationError("{\"query\":\"" + "x".repeat(2001) + "\"}")).contains("\"type\":\"string_too_long\"");

    String several =
        validationError(
            "{\"query\":\"hi\",\"session_id\":\"bad id!\",\"user_intent\":\"dance\",\"profile_id\":\"42\",\"metadata\":[]}");
    JsonNode errors = parse(several);
    List<String> locs = new ArrayList<>();
    errors.forEach(e -> locs.add(e.get("loc").get(1).asText() + ":" + e.get("type").asText()));
    assertThat(locs)
        .containsExactly(
            "session_id:string_pattern_mismatch",
            "user_intent:literal_error",
            "profile_id:string_pattern_mismatch",
            "metadata:dict_type");
  }

  @Test
  void validationComesAfterAuthentication() {
    Result result = sandbox.call(new Request.Builder().url(CHAT).post(body("{}")).build());

    assertThat(result.code()).isEqualTo(401);
  }

  @Test
  void twoFreshSandboxesGiveIdenticalAnswers() {
    assertThat(script(new SandboxFixture())).isEqualTo(script(new SandboxFixture()));
  }

  @Test
  void idempotencyKeyReplaysTheFirstAnswerWithoutNewMessages() {
    Request first = as("u1").url(CHAT).header("Idempotency-Key", "k-1").post(body(chatBody("Find Java developers"))).build();
    Result a = sandbox.call(first);
    Result b = sandbox.call(first.newBuilder().header("X-Request-Id", "retry-2").build());

    assertThat(b.code()).isEqualTo(200);
    assertThat(b.body()).isEqualTo(a.body());
    assertThat(b.header("X-Request-Id")).isEqualTo("retry-2");
    JsonNode list = sandbox.get("u1", SESSIONS).json().get("sessions");
    assertThat(list).hasSize(1);
    assertThat(list.get(0).get("message_count").asInt()).isEqualTo(2);
  }

  @Test
  void idempotencyKeysArePerUser() {
    String sessionA = sandbox.call(as("u1").url(CHAT).header("Idempotency-Key", "same").post(body(chatBody("hi"))).build())
        .json().get("session_id").asText();
    String sessionB = sandbox.call(as("u2").url(CHAT).header("Idempotency-Key", "same").post(body(chatBody("hi"))).build())
        .json().get("session_id").asText();

    assertThat(sessionB).isNotEqualTo(sessionA);
  }

  @Test
  void continuingASessionAppendsMessagesAndMovesLastActivity() {
    JsonNode first = sandbox.chat("u1", chatBody("Find Go developers")).json();
    String sessionId = first.get("session_id").asText();
    sandbox.clock.advance(java.time.Duration.ofMinutes(5));
    JsonNode second = sandbox.chat("u1", chatBody("Shortlist the first", "session_id", sessionId)).json();

    assertThat(second.get("session_id").asText()).isEqualTo(sessionId);
    JsonNode session = sandbox.get("u1", SESSIONS + "/" + sessionId).json();
    assertThat(fieldNames(session))
        .containsExactly("session_id", "title", "created_at", "last_activity_at", "message_count", "messages");
    assertThat(session.get("title").asText()).isEqualTo("Find Go developers");
    assertThat(session.get("created_at").asText()).isEqualTo("2026-11-20T10:00:00Z");
    assertThat(session.get("last_activity_at").asText()).isEqualTo("2026-11-20T10:05:00Z");
    assertThat(session.get("message_count").asInt()).isEqualTo(4);
    JsonNode messages = session.get("messages");
    assertThat(messages).hasSize(4);
    assertThat(fieldNames(messages.get(0))).containsExactly("message_id", "role", "content", "created_at");
    List<String> roles = new ArrayList<>();
    messages.forEach(m -> roles.add(m.get("role").asText()));
    assertThat(roles).containsExactly("user", "assistant", "user", "assistant");
    assertThat(messages.get(2).get("content").asText()).isEqualTo("Shortlist the first");
    assertThat(messages.get(3).get("content").asText()).isEqualTo(second.get("answer").asText());
    assertThat(messages.get(3).get("message_id").asText()).isEqualTo(second.get("message_id").asText());
    assertThat(messages.get(3).get("created_at").asText()).isEqualTo("2026-11-20T10:05:00Z");
  }

  @Test
  void chatOnUnknownSessionIsNotFoundAndOnAnotherUsersIsForbidden() {
    String sessionId = sandbox.chat("owner", chatBody("hi")).json().get("session_id").asText();

    Result unknown = sandbox.chat("owner", chatBody("hi", "session_id", "sess_doesnotexist"));
    Result foreign = sandbox.chat("intruder", chatBody("hi", "session_id", sessionId));

    assertThat(unknown.code()).isEqualTo(404);
    assertThat(unknown.body()).isEqualTo("{\"detail\":\"Session not found\"}");
    assertThat(foreign.code()).isEqualTo(403);
    assertThat(foreign.json().get("detail").isTextual()).isTrue();
    assertThat(sandbox.get("owner", SESSIONS + "/" + sessionId).json().get("message_count").asInt()).isEqualTo(2);
  }

  @Test
  void getSessionIsNotFoundWhenUnknownAndForbiddenForAnotherUser() {
    String sessionId = sandbox.chat("owner", chatBody("hi")).json().get("session_id").asText();

    assertThat(sandbox.get("owner", SESSIONS + "/sess_unknown").code()).isEqualTo(404);
    assertThat(sandbox.get("owner", SESSIONS + "/sess_unknown").body()).isEqualTo("{\"detail\":\"Session not found\"}");
    assertThat(sandbox.get("intruder", SESSIONS + "/" + sessionId).code()).isEqualTo(403);
  }

  @Test
  void deleteAnswersNoContentOnceThenNotFound() {
    String sessionId = sandbox.chat("owner", chatBody("hi")).json().get("session_id").asText();

    Result foreign = sandbox.delete("intruder", sessionId);
    Result first = sandbox.delete("owner", sessionId);
    Result second = sandbox.delete("owner", sessionId);

    assertThat(foreign.code()).isEqualTo(403);
    assertThat(first.code()).isEqualTo(204);
    assertThat(first.message()).isEqualTo("No Content");
    assertThat(first.body()).isEmpty();
    assertThat(first.header("Content-Type")).isNull();
    assertThat(second.code()).isEqualTo(404);
    assertThat(sandbox.get("owner", SESSIONS + "/" + sessionId).code()).isEqualTo(404);
    assertThat(sandbox.get("owner", SESSIONS).json().get("sessions")).isEmpty();
  }

  @Test
  void listingShowsOnlyTheUsersSessionsMostRecentlyActiveFirst() {
    String a = sandbox.chat("u1", chatBody("first")).json().get("session_id").asText();
    String b = sandbox.chat("u1", chatBody("second")).json().get("session_id").asText();
    sandbox.chat("u2", chatBody("not mine"));
    sandbox.clock.advance(java.time.Duration.ofSeconds(30));
    sandbox.chat("u1", chatBody("again", "session_id", a));

    JsonNode json = sandbox.get("u1", SESSIONS).json();

    assertThat(fieldNames(json)).containsExactly("sessions", "next_cursor");
    assertThat(json.get("next_cursor").isNull()).isTrue();
    JsonNode sessions = json.get("sessions");
    assertThat(sessions).hasSize(2);
    assertThat(sessions.get(0).get("session_id").asText()).isEqualTo(a);
    assertThat(sessions.get(1).get("session_id").asText()).isEqualTo(b);
    assertThat(fieldNames(sessions.get(0)))
        .containsExactly("session_id", "title", "created_at", "last_activity_at", "message_count");
    assertThat(sessions.get(0).get("message_count").asInt()).isEqualTo(4);
    assertThat(sessions.get(0).get("last_activity_at").asText()).isEqualTo("2026-11-20T10:00:30Z");
  }

  @Test
  void titleIsTheFirstQueryCutToFortyCharacters() {
    String sessionId =
        sandbox.chat("u1", chatBody("Find senior Rails engineers in Berlin who know Kafka and Postgres"))
            .json().get("session_id").asText();

    String title = sandbox.get("u1", SESSIONS + "/" + sessionId).json().get("title").asText();

    assertThat(title).isEqualTo("Find senior Rails engineers in Berlin wh\u2026");
  }

  @Test
  void paginationWalksEverySessionOnceWithCursors() {
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      created.add(sandbox.chat("u1", chatBody("query " + i)).json().get("session_id").asText());
    }
    List<String> expected = new ArrayList<>(created);
    java.util.Collections.reverse(expected);

    List<String> seen = new ArrayList<>();
    List<Integer> pageSizes = new ArrayList<>();
    String url = SESSIONS + "?limit=10";
    while (true) {
      JsonNode page = sandbox.get("u1", url).json();
      pageSizes.add(page.get("sessions").size());
      page.get("sessions").forEach(s -> seen.add(s.get("session_id").asText()));
      if (page.get("next_cursor").isNull()) {
        break;
      }
      url = SESSIONS + "?limit=10&cursor=" + page.get("next_cursor").asText();
    }

    assertThat(pageSizes).containsExactly(10, 10, 5);
    assertThat(seen).isEqualTo(expected);
  }

  @Test
  void exactlyFullLastPageHasNoNextCursor() {
    for (int i = 0; i < 4; i++) {
      sandbox.chat("u1", chatBody("q" + i));
    }

    JsonNode page = sandbox.get("u1", SESSIONS + "?limit=4").json();

    assertThat(page.get("sessions")).hasSize(4);
    assertThat(page.get("next_cursor").isNull()).isTrue();
  }

  @Test
  void defaultPageSizeIsTen() {
    for (int i = 0; i < 12; i++) {
      sandbox.chat("u1", chatBody("q" + i));
    }

    JsonNode page = sandbox.get("u1", SESSIONS).json();

    assertThat(page.get("sessions")).hasSize(10);
    assertThat(page.get("next_cursor").asText()).isNotBlank();
  }

  @Test
  void outOfRangeLimitOrBadCursorIsAValidationError() {
    assertThat(listError("?limit=0")).isEqualTo(
        "[{\"loc\":[\"query\",\"limit\"],\"msg\":\"Input should be greater than or equal to 1\",\"type\":\"greater_than_equal\"}]");
    assertThat(listError("?limit=101")).isEqualTo(
        "[{\"loc\":[\"query\",\"limit\"],\"msg\":\"Input should be less than or equal to 100\",\"type\":\"less_than_equal\"}]");
    assertThat(listError("?limit=ten")).contains("\"type\":\"int_parsing\"");
    assertThat(listError("?cursor=%%%")).contains("\"loc\":[\"query\",\"cursor\"]");
    assertThat(listError("?cursor=bm9wZQ")).contains("\"loc\":[\"query\",\"cursor\"]");
    assertThat(sandbox.get("u1", SESSIONS + "?limit=100").code()).isEqualTo(200);
    assertThat(sandbox.get("u1", SESSIONS + "?limit=1").code()).isEqualTo(200);
  }

  // ------------------------------------------------------------------------------------ helpers

  private String intentOf(String json) {
    return sandbox.chat("u1", json).json().get("intent").asText();
  }

  private String validationError(String rawBody) {
    Result result = sandbox.chat("u1", rawBody);
    assertThat(result.code()).as(rawBody).isEqualTo(422);
    assertThat(result.message()).isEqualTo("Unprocessable Entity");
    JsonNode json = result.json();
    assertThat(fieldNames(json)).containsExactly("detail");
    assertThat(json.get("detail").isArray()).isTrue();
    return json.get("detail").toString();
  }

  private String listError(String query) {
    Result result = sandbox.get("u1", SESSIONS + query);
    assertThat(result.code()).as(query).isEqualTo(422);
    return result.json().get("detail").toString();
  }

  /** Runs a fixed sequence of calls and records every raw answer. */
  private static List<String> script(SandboxFixture box) {
    List<String> out = new ArrayList<>();
    Result first = box.chat("u1", chatBody("Find senior Rails engineers in Berlin"));
    String sessionId = first.json().get("session_id").asText();
    out.add(first.body());
    out.add(box.chat("u1", chatBody("Shortlist the first one", "session_id", sessionId)).body());
    out.add(box.chat("u2", chatBody("How are you?")).body());
    out.add(box.stream("u1", chatBody("Find Python developers")).body());
    out.add(box.get("u1", SESSIONS).body());
    out.add(box.get("u1", SESSIONS + "/" + sessionId).body());
    return out;
  }
}
