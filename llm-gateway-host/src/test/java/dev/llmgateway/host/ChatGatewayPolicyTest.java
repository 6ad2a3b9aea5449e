package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditEvent;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Operation;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.host.ChatPolicy.Action;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway asks its {@link ChatPolicy} before anything else on every entry point a user calls:
 * a refusal is a 403 with nothing sent, nothing reserved, no rate limit permit taken, audited once
 * as FORBIDDEN and told to the shared listener.
 */
class ChatGatewayPolicyTest extends MockServerTest {
  private static final UserContext RECRUITER = ChatGatewayTest.USER;
  private static final UserContext CANDIDATE = RECRUITER.toBuilder().role("candidate").build();
  private static final JwtKeySet KEYS = JwtKeySet.of("k1", "stream-token-secret-of-32-bytes-at-least");
  private static final ChatPolicy RECRUITERS_ONLY =
      ChatPolicy.denyByDefault().allowRoles(Set.of("recruiter", "admin"), Action.ALL);

  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private final List<String> asked = new CopyOnWriteArrayList<>();

  @Override
  LlmGatewayClient.Builder clientBuilder() {
    return super.clientBuilder().retryPolicy(RetryPolicy.none());
  }

  @BeforeEach
  void deposit() {
    ledger.deposit("u1", 100);
  }

  /** A gateway with {@code policy}, one call and one stream start per minute, and direct streams. */
  private ChatGateway gateway(ChatPolicy policy) {
    return ChatGateway.builder().client(client).ledger(ledger).policy(policy)
        .rateLimiter(InMemoryRateLimiter.create(RateLimits.builder().calls(RateLimit.perMinute(1))
            .streamStarts(RateLimit.perMinute(1)).build()))
        .streamTokens(StreamTokenIssuer.builder().keys(KEYS).serviceBaseUrl("http://service.test")
            .environment(n -> null).build())
        .build();
  }

  /** The policy, recording what it was asked. */
  private ChatPolicy recording(ChatPolicy policy) {
    return (user, action, sessionId) -> {
      asked.add(action + " " + sessionId);
      return policy.allows(user, action, sessionId);
    };
  }

  private static final ChatRequest NEW_CHAT = ChatRequest.of("hello");
  private static final ChatRequest CONTINUED = ChatRequest.builder().query("hello").sessionId("s-7").build();

  private void assertRefusedWithNothingSpent(Throwable refused, Action action, Operation operation) {
    assertThat(refused).isInstanceOf(ForbiddenException.class);
    assertThat(((ForbiddenException) refused).action()).isEqualTo(action);
    assertThat(((ForbiddenException) refused).attempts()).isZero();
    assertThat(server.getRequestCount()).isZero();
    assertThat(ledger.balance("u1")).isEqualTo(100);
    assertThat(ledger.reserved("u1")).isZero();
    assertThat(ledger.pendingCount()).isZero();
    assertThat(audit).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.FORBIDDEN);
      assertThat(event.status()).isEqualTo(403);
      assertThat(event.action()).isEqualTo(operation);
      assertThat(event.userId()).isEqualTo("u1");
      assertThat(event.errorType()).isEqualTo("ForbiddenException");
    });
    assertThat(refusals).containsExactly(operation + " ForbiddenException");
    assertThat(ErrorMapper.ofDefaults().toResponse(refused).status()).isEqualTo(403);
  }

  @Test
  void aRefusedChatSendsNothingReservesNothingAndIsAuditedAsForbidden() {
    ChatGateway gateway = gateway(recording(RECRUITERS_ONLY));

    Throwable refused = catchThrowable(() -> gateway.chat(CANDIDATE, CONTINUED));

    assertRefusedWithNothingSpent(refused, Action.CHAT, Operation.CHAT);
    assertThat(asked).containsExactly("CHAT s-7");
  }

  @Test
  void aRefusedStreamNeverStartsTheResponseAndSpendsNothing() {
    ChatGateway gateway = gateway(recording(RECRUITERS_ONLY));
    AtomicBoolean started = new AtomicBoolean();

    Throwable refused = catchThrowable(() -> gateway.stream(CANDIDATE, NEW_CHAT, headers -> {
      started.set(true);
      return new ByteArrayOutputStream();
    }));

    assertRefusedWithNothingSpent(refused, Action.STREAM, Operation.CHAT_STREAM);
    assertThat(started).isFalse();
    assertThat(asked).containsExactly("STREAM null");
  }

  @Test
  void aRefusedDirectStreamIssuesNoTokenAndIsAuditedAsItsStart() {
    ChatGateway gateway = gateway(recording(RECRUITERS_ONLY));

    Throwable refused = catchThrowable(() -> gateway.initDirectStream(CANDIDATE, NEW_CHAT));

    assertRefusedWithNothingSpent(refused, Action.DIRECT_STREAM_INIT, Operation.CHAT_STREAM);
    assertThat(audit.get(0).kind()).isEqualTo(AuditEvent.Kind.DIRECT_STREAM_INIT);
    assertThat(asked).containsExactly("DIRECT_STREAM_INIT null");
  }

  @Test
  void refusedSessionCallsNeverReachTheServiceAndNameTheirSession() {
    ChatGateway gateway = gateway(recording(RECRUITERS_ONLY));

    assertRefusedWithNothingSpent(catchThrowable(() -> gateway.listSessions(CANDIDATE, 10, null)),
        Action.LIST_SESSIONS, Operation.LIST_SESSIONS);
    reset();
    assertRefusedWithNothingSpent(catchThrowable(() -> gateway.getSession(CANDIDATE, "s-1")),
        Action.GET_SESSION, Operation.GET_SESSION);
    reset();
    assertRefusedWithNothingSpent(catchThrowable(() -> gateway.deleteSession(CANDIDATE, "s-2")),
        Action.DELETE_SESSION, Operation.DELETE_SESSION);

    assertThat(asked).containsExactly("LIST_SESSIONS null", "GET_SESSION s-1", "DELETE_SESSION s-2");
  }

  private void reset() {
    audit.clear();
    refusals.clear();
  }

  @Test
  void aRefusalTakesNoRateLimitPermit() {
    AtomicBoolean open = new AtomicBoolean(false);
    ChatGateway gateway = gateway((user, action, sessionId) -> open.get());
    assertThat(catchThrowable(() -> gateway.chat(RECRUITER, NEW_CHAT))).isInstanceOf(ForbiddenException.class);
    assertThat(catchThrowable(() -> gateway.listSessions(RECRUITER, 10, null)))
        .isInstanceOf(ForbiddenException.class);

    open.set(true);
    server.enqueue(new MockResponse.Builder().code(200).body(ChatGatewayTest.CHAT).build());

    // One call per minute: the refusals before took none of it.
    assertThat(gateway.chat(RECRUITER, NEW_CHAT).answer()).isEqualTo("ok");
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void thePolicyIsAskedBeforeValidationSoAForbiddenUserLearnsNothingOfTheInput() {
    ChatGateway gateway = gateway(RECRUITERS_ONLY);

    Throwable refused = catchThrowable(() -> gateway.chat(CANDIDATE, ChatRequest.of("")));

    assertThat(refused).isInstanceOf(ForbiddenException.class);
    assertThat(audit).singleElement().extracting(AuditEvent::outcome).isEqualTo(AuditEvent.Outcome.FORBIDDEN);
  }

  @Test
  void aPolicyThatThrowsRefusesWithAFailureAndSpendsNothing() {
    ChatGateway gateway = gateway((user, action, sessionId) -> {
      throw new IllegalStateException("flag store down");
    });

    Throwable failed = catchThrowable(() -> gateway.chat(RECRUITER, NEW_CHAT));

    assertThat(failed).isInstanceOf(IllegalStateException.class);
    assertThat(server.getRequestCount()).isZero();
    assertThat(ledger.pendingCount()).isZero();
    assertThat(audit).singleElement().satisfies(event -> {
      assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.FAILURE);
      assertThat(event.status()).isEqualTo(500);
    });
  }

  @Test
  void anAllowedUserPassesThroughEveryEntryPoint() throws IOException {
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger).policy(RECRUITERS_ONLY)
        .streamTokens(StreamTokenIssuer.builder().keys(KEYS).serviceBaseUrl("http://service.test")
            .environment(n -> null).build())
        .build();
    server.enqueue(new MockResponse.Builder().code(200).body(ChatGatewayTest.CHAT).build());
    server.enqueue(new MockResponse.Builder().code(200).body("{\"sessions\":[],\"next_cursor\":null}").build());
    server.enqueue(new MockResponse.Builder().code(204).build());

    assertThat(gateway.chat(RECRUITER, NEW_CHAT).answer()).isEqualTo("ok");
    assertThat(gateway.initDirectStream(RECRUITER, NEW_CHAT).requestId()).isNotEmpty();
    assertThat(gateway.listSessions(RECRUITER, 10, null).sessions()).isEmpty();
    gateway.deleteSession(RECRUITER, "s-1");

    assertThat(server.getRequestCount()).isEqualTo(3);
    assertThat(audit).extracting(AuditEvent::outcome).doesNotContain(AuditEvent.Outcome.FORBIDDEN);
  }

  @Test
  void withoutAPolicyEveryRoleIsAllowedAsBefore() {
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger).build();
    server.enqueue(new MockResponse.Builder().code(200).body(ChatGatewayTest.CHAT).build());

    assertThat(gateway.chat(CANDIDATE, NEW_CHAT).answer()).isEqualTo("ok");
  }

  // --- the policies ChatPolicy builds ---

  private static final UserContext ADMIN_OF_ACME = RECRUITER.toBuilder().role("admin").companyId("acme").build();

  @Test
  void denyByDefaultWithoutRulesRefusesEverything() {
    for (Action action : Action.values()) {
      assertThat(ChatPolicy.denyByDefault().allows(RECRUITER, action, null)).as(action.name()).isFalse();
    }
  }

  @Test
  void rulesAllowOnlyTheirRolesAndActions() {
    ChatPolicy policy = ChatPolicy.denyByDefault()
        .allowRoles(Set.of("recruiter"), Action.MESSAGES)
        .allow(Action.SESSIONS, user -> user.companyRole() == null);

    assertThat(policy.allows(RECRUITER, Action.CHAT, null)).isTrue();
    assertThat(policy.allows(CANDIDATE, Action.CHAT, null)).isFalse();
    assertThat(policy.allows(CANDIDATE, Action.LIST_SESSIONS, null)).isTrue();
    assertThat(policy.allows(CANDIDATE.toBuilder().companyRole("owner").build(), Action.GET_SESSION, "s"))
        .isFalse();
  }

  @Test
  void addingARuleLeavesTheRuleSetItCameFromUnchanged() {
    ChatPolicy.Rules none = ChatPolicy.denyByDefault();
    ChatPolicy.Rules some = none.allowRoles(Set.of("recruiter"), Action.ALL);

    assertThat(none.allows(RECRUITER, Action.CHAT, null)).isFalse();
    assertThat(some.allows(RECRUITER, Action.CHAT, null)).isTrue();
    assertThat(some.toString()).contains("recruiter");
  }

  @Test
  void disabledCompaniesTurnTheAssistantOffForThemOnly() {
    ChatPolicy policy = RECRUITERS_ONLY.and(ChatPolicy.disabledCompanies(Set.of("acme")));

    for (Action action : Action.values()) {
      assertThat(policy.allows(ADMIN_OF_ACME, action, null)).as(action.name()).isFalse();
      assertThat(policy.allows(RECRUITER, action, null)).as(action.name()).isTrue();
    }
  }

  @Test
  void rulesRefuseEmptyOrBlankSettingsByName() {
    assertThat(catchThrowable(() -> ChatPolicy.denyByDefault().allowRoles(Set.of(), Action.ALL)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("roles");
    assertThat(catchThrowable(() -> ChatPolicy.denyByDefault().allowRoles(Set.of(" "), Action.ALL)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("roles");
    assertThat(catchThrowable(() -> ChatPolicy.denyByDefault().allowRoles(Set.of("admin"), Set.of())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("actions");
    assertThat(catchThrowable(() -> ChatPolicy.denyByDefault().allow(Set.of(), user -> true)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("actions");
    assertThat(catchThrowable(() -> ChatGateway.builder().policy(null)))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("policy");
  }

  @Test
  void theForbiddenEnvelopeSaysNothingOfThePolicy() {
    ErrorResponse response = ErrorMapper.ofDefaults().toResponse(new ForbiddenException(Action.CHAT, "r-1"));

    assertThat(response.kind()).isEqualTo(ErrorKind.FORBIDDEN);
    assertThat(response.envelope().toJson()).contains("\"error_code\":\"forbidden\"").contains("r-1")
        .doesNotContain("policy");
  }
}
