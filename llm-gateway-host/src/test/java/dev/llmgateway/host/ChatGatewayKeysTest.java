package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What a rate limit is keyed by: the user, the company, the client's address, a host key; all must pass. */
class ChatGatewayKeysTest extends MockServerTest {
  private static final String CHAT = "{\"session_id\":\"s\",\"message_id\":\"m\",\"intent\":\"chat\",\"answer\":\"ok\","
      + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";
  private static final UserContext ANN = user("ann", "acme");
  private static final UserContext BOB = user("bob", "acme");
  private static final UserContext CAT = user("cat", "globex");
  private static final Caller HOME = Caller.ofAddress("192.0.2.1");
  private static final Caller OFFICE = Caller.ofAddress("2001:db8::7");
  private static final RateLimits UNLIMITED = RateLimits.builder().calls(null).streamStarts(null).build();
  private static final RateLimits ONE_CALL = RateLimits.builder().calls(RateLimit.perMinute(1)).streamStarts(null).build();
  private static final RateLimits TWO_CALLS = RateLimits.builder().calls(RateLimit.perMinute(2)).streamStarts(null).build();

  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private final List<Settlement> settlements = new CopyOnWriteArrayList<>();

  private static UserContext user(String id, String company) {
    return UserContext.builder().userId(id).companyId(company).role("recruiter").build();
  }

  @BeforeEach
  void answerEveryChat() {
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return new MockResponse.Builder().code(200).body(CHAT).build();
      }
    });
    for (UserContext u : List.of(ANN, BOB, CAT)) {
      ledger.deposit(u.userId(), 1_000);
    }
  }

  /** A gateway whose limiter never refills (its clock stands still) and gives each namespace its own limits. */
  private ChatGateway gateway(RateLimitKeys keys, InMemoryRateLimiter.Builder limiter) {
    return ChatGateway.builder().client(client).ledger(ledger).rateLimitKeys(keys)
        .rateLimiter(limiter.ticker(new FakeTicker()).build())
        .settlementListener(e -> settlements.add(e.settlement()))
        .build();
  }

  private static InMemoryRateLimiter.Builder limits(RateLimits users) {
    return InMemoryRateLimiter.builder().limits(users);
  }

  @Test
  void perAddressLimitCountsTwoUsersFromOneAddressTogether() {
    ChatGateway gateway = gateway(RateLimitKeys.perUser().and(RateLimitKeys.perClientAddress()),
        limits(UNLIMITED).limits(RateLimitKeys.CLIENT_ADDRESS, ONE_CALL));

    gateway.chat(ANN, ChatRequest.of("hi"), HOME);
    Throwable refused = catchThrowable(() -> gateway.chat(BOB, ChatRequest.of("hi"), HOME));
    gateway.chat(BOB, ChatRequest.of("hi"), OFFICE);

    assertThat(refused).isInstanceOf(RateLimitExceededException.class);
    assertThat(ErrorMapper.ofDefaults().toResponse(refused).status()).isEqualTo(429);
    assertThat(server.getRequestCount()).isEqualTo(2);
    assertThat(settlements).containsExactly(Settlement.COMMITTED, Settlement.COMMITTED);
  }

  @Test
  void perUserLimitCountsOneUserFromTwoAddressesTogether() {
    ChatGateway gateway = gateway(RateLimitKeys.perUser().and(RateLimitKeys.perClientAddress()),
        limits(ONE_CALL).limits(RateLimitKeys.CLIENT_ADDRESS, UNLIMITED));

    gateway.chat(ANN, ChatRequest.of("hi"), HOME);
    Throwable refused = catchThrowable(() -> gateway.chat(ANN, ChatRequest.of("hi"), OFFICE));
    gateway.chat(BOB, ChatRequest.of("hi"), OFFICE);

    assertThat(refused).isInstanceOf(RateLimitExceededException.class);
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void perCompanyLimitCountsTheCompanysUsersTogether() {
    ChatGateway gateway = gateway(RateLimitKeys.perUser().and(RateLimitKeys.perCompany()),
        limits(UNLIMITED).limits(RateLimitKeys.COMPANY, TWO_CALLS));

    gateway.chat(ANN, ChatRequest.of("hi"));
    gateway.chat(BOB, ChatRequest.of("hi"));
    Throwable refused = catchThrowable(() -> gateway.chat(ANN, ChatRequest.of("hi")));
    gateway.chat(CAT, ChatRequest.of("hi")); // another company

    assertThat(refused).isInstanceOf(RateLimitExceededException.class);
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void perCallerKeyLimitCountsTheHostsOwnKey() {
    ChatGateway gateway = gateway(RateLimitKeys.perCallerKey("tenant"),
        limits(UNLIMITED).limits("tenant:", ONE_CALL));

    gateway.chat(ANN, ChatRequest.of("hi"), HOME.withKey("tenant", "t1"));
    Throwable refused = catchThrowable(() -> gateway.chat(CAT, ChatRequest.of("hi"), OFFICE.withKey("tenant", "t1")));
    gateway.chat(CAT, ChatRequest.of("hi"), OFFICE.withKey("tenant", "t2"));

    assertThat(refused).isInstanceOf(RateLimitExceededException.class);
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void byDefaultEveryCallIsCountedAgainstItsUserOnly() {
    List<String> keys = new CopyOnWriteArrayList<>();
    InMemoryRateLimiter limiter = InMemoryRateLimiter.builder().limits(ONE_CALL).ticker(new FakeTicker()).build();
    RateLimiter recording = (key, operation) -> {
      keys.add(key);
      return limiter.tryAcquire(key, operation);
    };
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger).rateLimiter(recording).build();

    gateway.chat(ANN, ChatRequest.of("hi"));
    gateway.chat(BOB, ChatRequest.of("hi"), HOME); // same company, the address is not a key by default
    Throwable refused = catchThrowable(() -> gateway.chat(ANN, ChatRequest.of("hi"), OFFICE));

    assertThat(refused).isInstanceOf(RateLimitExceededException.class);
    assertThat(keys).containsExactly("user:ann", "user:bob", "user:ann");
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void aCallRefusedByItsUserTakesNothingFromTheAddressItShares() {
    // The address comes first: a limiter deciding key by key would spend the address's permit
    // on every refused call of the user who is over their own limit.
    ChatGateway gateway = gateway(RateLimitKeys.perClientAddress().and(RateLimitKeys.perUser()),
        limits(ONE_CALL).limits(RateLimitKeys.CLIENT_ADDRESS, TWO_CALLS));

    gateway.chat(ANN, ChatRequest.of("hi"), HOME);
    List<Throwable> refusals = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      refusals.add(catchThrowable(() -> gateway.chat(ANN, ChatRequest.of("hi"), HOME)));
    }
    gateway.chat(BOB, ChatRequest.of("hi"), HOME);

    assertThat(refusals).allSatisfy(e -> assertThat(e).isInstanceOf(RateLimitExceededException.class));
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void streamStartsPerAddressLeaveOtherCallsOfThatAddressAlone() {
    ChatGateway gateway = gateway(
        RateLimitKeys.perUser().and(RateLimitKeys.perClientAddress().onlyFor(Operation.CHAT_STREAM)),
        limits(UNLIMITED).limits(RateLimitKeys.CLIENT_ADDRESS, ONE_CALL));
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return request.getUrl().encodedPath().endsWith("/stream")
            ? RelayFixtures.sse(RelayFixtures.FULL)
            : new MockResponse.Builder().code(200).body(CHAT).build();
      }
    });

    gateway.stream(ANN, ChatRequest.of("hi"), HOME, headers -> java.io.OutputStream.nullOutputStream());
    Throwable refused = catchThrowable(
        () -> gateway.stream(BOB, ChatRequest.of("hi"), HOME, headers -> java.io.OutputStream.nullOutputStream()));
    gateway.chat(BOB, ChatRequest.of("hi"), HOME);

    assertThat(refused).isInstanceOf(RateLimitExceededException.class);
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void perAddressLimitsWithoutAnAddressAreAHostErrorBeforeAnythingIsReserved() {
    ChatGateway gateway = gateway(RateLimitKeys.perClientAddress(), limits(ONE_CALL));

    Throwable thrown = catchThrowable(() -> gateway.chat(ANN, ChatRequest.of("hi")));

    assertThat(thrown).isInstanceOf(IllegalStateException.class).hasMessageContaining("Caller");
    assertThat(server.getRequestCount()).isZero();
    assertThat(settlements).isEmpty();
    assertThat(ledger.balance("ann")).isEqualTo(1_000);
  }

  @Test
  void aBadClientAddressIsRefusedWith422BeforeAnythingIsReservedOrSent() {
    ChatGateway gateway = gateway(RateLimitKeys.perClientAddress(), limits(ONE_CALL));

    Throwable thrown = catchThrowable(() -> gateway.chat(ANN, ChatRequest.of("hi"), Caller.ofAddress("192.0.2.1\r\nX: y")));

    assertThat(thrown).isInstanceOfSatisfying(ValidationException.class,
        e -> assertThat(e.violations()).extracting(ValidationException.Violation::field)
            .containsExactly(Caller.ADDRESS_FIELD));
    ErrorResponse response = ErrorMapper.ofDefaults().toResponse(thrown);
    assertThat(response.status()).isEqualTo(422);
    assertThat(response.toJson()).doesNotContain("192.0.2.1");
    assertThat(server.getRequestCount()).isZero();
    assertThat(settlements).isEmpty();
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void aBadUserOfASessionCallIsRefusedBeforeItBecomesALimiterKey() {
    List<String> keys = new CopyOnWriteArrayList<>();
    InMemoryRateLimiter limiter = InMemoryRateLimiter.create();
    RateLimiter recording = (key, operation) -> {
      keys.add(key);
      return limiter.tryAcquire(key, operation);
    };
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger).rateLimiter(recording).build();
    UserContext huge = user("u".repeat(10_000), "acme");

    List<Throwable> refused = List.of(
        catchThrowable(() -> gateway.listSessions(huge, 10, null)),
        catchThrowable(() -> gateway.getSession(huge, "s")),
        catchThrowable(() -> gateway.deleteSession(huge, "s", HOME)));

    assertThat(refused).allSatisfy(e -> assertThat(e).isInstanceOf(ValidationException.class));
    assertThat(keys).isEmpty();
    assertThat(limiter.size()).isZero();
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void perNetworkLimitCountsEveryAddressOfAnIpv6SlashSixtyFourTogether() {
    ChatGateway gateway = gateway(RateLimitKeys.perClientNetwork(32, 64),
        limits(UNLIMITED).limits(RateLimitKeys.CLIENT_ADDRESS, ONE_CALL));

    gateway.chat(ANN, ChatRequest.of("hi"), Caller.ofAddress("2001:db8:0:7::1"));
    Throwable refused = catchThrowable(
        () -> gateway.chat(BOB, ChatRequest.of("hi"), Caller.ofAddress("2001:db8:0:7:ffff:ffff:ffff:fffe")));
    gateway.chat(BOB, ChatRequest.of("hi"), Caller.ofAddress("2001:db8:0:8::1"));
    gateway.chat(BOB, ChatRequest.of("hi"), Caller.ofAddress("192.0.2.1"));
    gateway.chat(CAT, ChatRequest.of("hi"), Caller.ofAddress("192.0.2.2"));

    assertThat(refused).isInstanceOf(RateLimitExceededException.class);
    assertThat(server.getRequestCount()).isEqualTo(4);
  }

  @Test
  void networkKeysKeepThePrefixBitsOnly() {
    RateLimitKeys keys = RateLimitKeys.perClientNetwork(24, 48);

    assertThat(keys.keys(ANN, Caller.ofAddress("198.51.100.77"), Operation.CHAT)).containsExactly("ip:198.51.100.0/24");
    assertThat(keys.keys(ANN, Caller.ofAddress("2001:db8:abcd:12ff::1%eth0"), Operation.CHAT))
        .containsExactly("ip:2001:db8:abcd:0:0:0:0:0/48");
    assertThat(RateLimitKeys.perClientNetwork(31, 127).keys(ANN, Caller.ofAddress("::ffff:192.0.2.255"), Operation.CHAT))
        .containsExactly("ip:192.0.2.254/31");
    assertThat(RateLimitKeys.perClientNetwork(0, 0).keys(ANN, Caller.ofAddress("2001:db8::1"), Operation.CHAT))
        .containsExactly("ip:0:0:0:0:0:0:0:0/0");
    assertThat(catchThrowable(() -> keys.keys(ANN, Caller.unknown(), Operation.CHAT)))
        .isInstanceOf(IllegalStateException.class);
    assertThat(catchThrowable(() -> RateLimitKeys.perClientNetwork(33, 64))).isInstanceOf(IllegalArgumentException.class);
    assertThat(catchThrowable(() -> RateLimitKeys.perClientNetwork(32, 129))).isInstanceOf(IllegalArgumentException.class);
  }
}
