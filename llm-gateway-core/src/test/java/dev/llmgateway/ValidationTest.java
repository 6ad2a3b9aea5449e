package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.ValidationException.Violation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValidationTest extends MockServerTest {

  @AfterEach
  void nothingReachedTheService() {
    // The point of every test here.
    assertThat(server.getRequestCount()).isZero();
  }

  private List<Violation> violationsOf(Runnable call) {
    return catchThrowableOfType(ValidationException.class, call::run).violations();
  }

  @Test
  void everyViolationIsListedNotJustTheFirst() {
    ChatRequest request = ChatRequest.builder()
        .query("  ")
        .sessionId("bad id!")
        .userIntent("shout")
        .profileId("id_XYZ")
        .build();
    UserContext user = UserContext.builder().userId("").companyId("4\r\n56").role("client").build();

    List<Violation> violations = violationsOf(() -> client.chat(request, user));

    assertThat(violations).extracting(Violation::field).containsExactly(
        "query", "session_id", "user_intent", "profile_id", "user.user_id", "user.company_id");
  }

  @Test
  void queryMustNotBeBlank() {
    assertThat(violationsOf(() -> client.chat(ChatRequest.of("\t\n "), USER)))
        .containsExactly(new Violation("query", "must not be blank"));
  }

  @Test
  void queryLengthCountsCodePointsNotChars() {
    RequestValidator validator = RequestValidator.ofDefaults();
    String emoji = "\uD83D\uDE00";
    validator.validate(ChatRequest.of(emoji.repeat(2000)), USER);
    assertThatThrownBy(() -> validator.validate(ChatRequest.of(emoji.repeat(2001)), USER))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("was 2001");
  }

  @Test
  void queryOverTheLimitIsRefused() {
    assertThat(violationsOf(() -> client.chat(ChatRequest.of("x".repeat(2001)), USER)))
        .extracting(Violation::reason).containsExactly("must be at most 2000 characters, was 2001");
  }

  @Test
  void queryLimitIsConfigurable() {
    useClient(clientBuilder().maxQueryLength(10));
    assertThat(violationsOf(() -> client.chat(ChatRequest.of("x".repeat(11)), USER)))
        .extracting(Violation::field).containsExactly("query");
  }

  @ParameterizedTest
  @ValueSource(strings = {"id_1a2b3c4", "id_1A2B3C4D", "1a2b3c4d", "0123456789abcdef0123456", "id_1a2b3c4d5", "x"})
  void profileIdMustMatchEitherForm(String profileId) {
    assertThat(violationsOf(() -> client.chat(ChatRequest.builder().query("q").profileId(profileId).build(), USER)))
        .extracting(Violation::field).containsExactly("profile_id");
  }

  @Test
  void validProfileIdsPass() {
    RequestValidator validator = RequestValidator.ofDefaults();
    validator.validate(ChatRequest.builder().query("q").profileId("id_0a1b2c3d").build(), USER);
    validator.validate(ChatRequest.builder().query("q").profileId("0123456789abcdef01234567").build(), USER);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "sess 1", "sess/1", "sess\n1", "s\u00e9ss"})
  void sessionIdMustBeSafe(String sessionId) {
    assertThat(violationsOf(() -> client.chat(ChatRequest.builder().query("q").sessionId(sessionId).build(), USER)))
        .extracting(Violation::field).containsExactly("session_id");
  }

  @Test
  void sessionIdLongerThan128IsRefused() {
    assertThat(violationsOf(() -> client.sessions().get("a".repeat(129), USER)))
        .containsExactly(new Violation("session_id", "must be at most 128 characters"));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, 101})
  void listLimitMustBeOneToHundred(int limit) {
    assertThat(violationsOf(() -> client.sessions().list(USER, limit, null)))
        .extracting(Violation::field).containsExactly("limit");
  }

  @Test
  void limitsIncludeTheirBounds() {
    RequestValidator validator = RequestValidator.ofDefaults();
    List<Violation> violations = new ArrayList<>();
    validator.checkSessionId("session_id", "a".repeat(128), violations);
    validator.checkListLimit(1, violations);
    validator.checkListLimit(100, violations);
    validator.checkHeaderValue("request_id", "a".repeat(256), violations);
    assertThat(violations).isEmpty();

    validator.checkHeaderValue("request_id", "a".repeat(257), violations);
    assertThat(violations).containsExactly(new Violation("request_id", "must be at most 256 characters"));
  }

  @Test
  void headerInjectionThroughUserContextIsRefused() {
    UserContext evil = UserContext.builder()
        .userId("123\r\nX-Service-Token: forged")
        .companyId("456")
        .role("client\u0000")
        .companyRole("owner\n")
        .build();

    assertThat(violationsOf(() -> client.chat(ChatRequest.of("q"), evil)))
        .extracting(Violation::field).containsExactly("user.user_id", "user.role", "user.company_role");
  }

  @Test
  void headerInjectionThroughRequestIdIsRefused() {
    assertThat(violationsOf(() -> client.chat(ChatRequest.of("q"), USER,
        CallOptions.builder().requestId("id\r\nX-Evil: 1").idempotencyKey("k\n").build())))
        .extracting(Violation::field).containsExactly("request_id", "idempotency_key");
  }

  @Test
  void violationMessagesDoNotEchoTheRefusedHeaderValue() {
    UserContext evil = UserContext.builder().userId("secret\nvalue").companyId("456").role("client").build();
    ValidationException e = catchThrowableOfType(ValidationException.class, () -> client.chat(ChatRequest.of("q"), evil));
    assertThat(e.getMessage()).doesNotContain("secret");
  }

  @Test
  void metadataThatIsNotJsonIsRefused() {
    ChatRequest request = ChatRequest.builder().query("q").putMetadata("thread", new Object()).build();
    assertThat(violationsOf(() -> client.chat(request, USER))).extracting(Violation::field).containsExactly("metadata");
  }

  @Test
  void asyncValidationFailsTheFutureWithoutSending() {
    CompletableFuture<ChatResponse> future = client.chatAsync(ChatRequest.of(" "), USER);
    assertThatThrownBy(future::get).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ValidationException.class);
  }

  @Test
  void refusedCallsAreAuditedAsRejected() {
    catchThrowableOfType(ValidationException.class, () -> client.chat(ChatRequest.of(""), USER));
    assertThat(audit.events).singleElement().satisfies(e -> {
      assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.REJECTED);
      assertThat(e.attempts()).isZero();
      assertThat(e.errorType()).isEqualTo("ValidationException");
    });
  }

  @Test
  void validationExceptionHasNoAttemptsAndARequestId() {
    ValidationException e = catchThrowableOfType(ValidationException.class, () -> client.chat(ChatRequest.of(""), USER));
    assertThat(e.attempts()).isZero();
    assertThat(e.requestId()).isNotBlank();
  }
}
