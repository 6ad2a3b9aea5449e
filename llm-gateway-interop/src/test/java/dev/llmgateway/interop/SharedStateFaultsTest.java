package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ch.qos.logback.classic.Level;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.auth.TokenVerificationException;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.ChatGateway.WebhookOutcome;
import dev.llmgateway.host.ErrorKind;
import dev.llmgateway.host.ErrorMapper;
import dev.llmgateway.host.ErrorResponse;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimitExceededException;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.jdbc.CreditStoreException;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.redis.RedisRateLimiter.FailurePolicy;
import dev.llmgateway.testkit.LogCapture;
import dev.llmgateway.testkit.PostgresServer;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import mockwebserver3.Dispatcher;
import org.junit.jupiter.api.Test;

/**
 * Faults of the shared stores seen through host instances (issue 14, "What the tests must show"
 * 4), where the module tests of llm-gateway-redis and llm-gateway-jdbc do not already show them at
 * the gateway level. Every test ends by closing its instances and asserting that no thread,
 * database connection or Redis connection was left behind.
 */
class SharedStateFaultsTest extends SystemTest {
  private static final UserContext ADA = UserContext.builder().userId("ada").companyId("c1").role("recruiter").build();
  private static final ErrorMapper ERRORS = ErrorMapper.ofDefaults();
  private static final long PRICE = HostInstance.PRICE;

  private final CountDownLatch requestArrived = new CountDownLatch(1);
  private final CountDownLatch answer = new CountDownLatch(1);

  @Override
  Dispatcher upstreamDispatcher() {
    return Upstream.dispatching(request -> {
      requestArrived.countDown();
      answer.await(30, TimeUnit.SECONDS); // held only where a test waits for it to arrive
      return Upstream.chat();
    });
  }

  @Override
  void beforeClosing() {
    answer.countDown();
  }

  @Test
  void redisDownLetsCallsThroughByDefaultCountingEachAndTheSharedLimitHoldsAgainAfterItsRestart() {
    answer.countDown();
    stores.deposit("ada", 1_000);
    RateLimits limits = RateLimits.builder().calls(RateLimit.of(3, Duration.ofDays(1))).streamStarts(null).build();
    List<HostInstance> hosts = stores.instances(2, url(), s -> s.limits = limits);

    redis().stop();
    for (int i = 0; i < 4; i++) {
      hosts.get(i % 2).gateway.chat(ADA, ChatRequest.of("hi"));
    }
    assertThat(hosts).allSatisfy(h -> assertThat(h.limiter.failOpenCount()).as("decided without Redis").isEqualTo(2));
    assertThat(upstream.getRequestCount()).isEqualTo(4);

    redis().start(); // empty: no bucket, no script
    hosts.forEach(HostInstance::awaitRedisReconnected);
    List<Object> outcomes = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      HostInstance host = hosts.get(i % 2);
      outcomes.add(outcome(() -> host.gateway.chat(ADA, ChatRequest.of("hi"))));
    }

    assertThat(outcomes).filteredOn(ChatResponse.class::isInstance).hasSize(3);
    assertThat(outcomes).filteredOn(RateLimitExceededException.class::isInstance).hasSize(1);
    assertThat(hosts).allSatisfy(h -> assertThat(h.limiter.failOpenCount()).isEqualTo(2));
    assertThat(stores.available("ada")).isEqualTo(1_000 - 7 * PRICE);
  }

  @Test
  void redisDownWithRateLimitsFailingClosedRefusesEveryPaidCallWith503AndSendsAndHoldsNothing() {
    stores.deposit("ada", 100);
    HostInstance host = stores.instance(url(), s -> s.failurePolicy = FailurePolicy.FAIL_CLOSED);

    redis().stop();

    List<Throwable> refusals = List.of(
        catchThrowable(() -> host.gateway.chat(ADA, ChatRequest.of("hi"))),
        catchThrowable(() -> host.gateway.stream(ADA, ChatRequest.of("hi"), headers -> OutputStream.nullOutputStream())),
        catchThrowable(() -> host.gateway.initDirectStream(ADA, ChatRequest.of("hi"))));
    assertThat(refusals).allSatisfy(e -> {
      assertThat(e).isInstanceOfSatisfying(LlmGatewayException.class, x -> assertThat(x.isRetryable()).isTrue());
      ErrorResponse response = ERRORS.toResponse(e);
      assertThat(response.status()).isEqualTo(503);
      assertThat(response.kind()).isEqualTo(ErrorKind.SERVICE_UNAVAILABLE);
      assertThat(response.envelope().success()).isFalse();
    });
    assertThat(upstream.getRequestCount()).isZero();
    assertThat(stores.available("ada")).isEqualTo(100);
    assertThat(stores.rows()).as("no reservation made").hasSize(1);
    assertThat(host.limiter.failOpenCount()).isZero();
  }

  @Test
  void replayStoresFailClosedWhenRedisIsDownAndTheRetriedFirstUseSucceedsOnceItIsBack() {
    stores.deposit("ada", 100);
    List<HostInstance> hosts = stores.instances(2, url(), s -> { });
    StreamToken token = hosts.get(0).gateway.initDirectStream(ADA, ChatRequest.of("hi"));
    byte[] webhook = HostInstance.completion(token.requestId(), "completed", "ada");

    redis().stop();

    Throwable tokenRefused = catchThrowable(() -> hosts.get(1).streamTokens.verify(token.token()));
    assertThat(tokenRefused).isInstanceOf(LlmGatewayException.class).isNotInstanceOf(TokenVerificationException.class);
    assertThat(((LlmGatewayException) tokenRefused).isRetryable()).isTrue();
    assertThat(ERRORS.toResponse(tokenRefused).status()).isEqualTo(503);
    Throwable webhookRefused = catchThrowable(() -> hosts.get(1).deliver("msg_1", webhook));
    assertThat(webhookRefused).isInstanceOf(LlmGatewayException.class);
    assertThat(((LlmGatewayException) webhookRefused).isRetryable()).isTrue();
    assertThat(ERRORS.toResponse(webhookRefused).status()).as("the status the service redelivers on").isEqualTo(503);
    assertThat(stores.held("ada")).as("nothing charged").isEqualTo(PRICE);
    assertThat(stores.reservations("PENDING")).isEqualTo(1);

    redis().start();
    hosts.forEach(HostInstance::awaitRedisReconnected);

    assertThat(hosts.get(0).streamTokens.verify(token.token()).requestId()).isEqualTo(token.requestId());
    assertThat(catchThrowable(() -> hosts.get(1).streamTokens.verify(token.token())))
        .isInstanceOf(TokenVerificationException.class);
    assertThat(hosts.get(0).deliver("msg_1", webhook)).isEqualTo(WebhookOutcome.COMMITTED);
    assertThat(hosts.get(1).deliver("msg_1", webhook)).isEqualTo(WebhookOutcome.DUPLICATE);
    assertThat(stores.available("ada")).isEqualTo(100 - PRICE);
    assertThat(stores.held("ada")).isZero();
  }

  @Test
  void postgresDownRefusesEveryPaidCallWith503SendsNothingAndAWebhookIsRedeliveredNotLost() {
    stores.deposit("ada", 100);
    List<HostInstance> hosts = stores.instances(2, url(), s -> s.connectionTimeout = Duration.ofMillis(250));
    StreamToken token = hosts.get(0).gateway.initDirectStream(ADA, ChatRequest.of("hi"));
    byte[] webhook = HostInstance.completion(token.requestId(), "completed", "ada");

    postgres().stop();

    List<Throwable> refusals = List.of(
        catchThrowable(() -> hosts.get(0).gateway.chat(ADA, ChatRequest.of("hi"))),
        catchThrowable(() -> hosts.get(1).gateway.stream(ADA, ChatRequest.of("hi"),
            headers -> OutputStream.nullOutputStream())),
        catchThrowable(() -> hosts.get(1).gateway.initDirectStream(ADA, ChatRequest.of("hi"))),
        catchThrowable(() -> hosts.get(1).deliver("msg_1", webhook)));
    assertThat(refusals).allSatisfy(e -> {
      assertThat(e).isInstanceOfSatisfying(CreditStoreException.class, x -> assertThat(x.isRetryable()).isTrue());
      ErrorResponse response = ERRORS.toResponse(e);
      assertThat(response.status()).isEqualTo(503);
      assertThat(response.headers()).containsKey(ErrorResponse.RETRY_AFTER);
      assertThat(response.toJson()).doesNotContain("SQLState", "127.0.0.1", PostgresServer.USER);
    });
    assertThat(upstream.getRequestCount()).isZero();

    postgres().start();

    assertThat(stores.available("ada")).isEqualTo(100 - PRICE);
    assertThat(stores.reservations("PENDING")).as("only the direct stream's").isEqualTo(1);
    // The failed delivery's id was forgotten, so the service's redelivery settles it, once. The
    // service redelivers on every 503 (the instances' pools reconnect after their back-off).
    List<Object> redeliveries = redeliverUntilAcknowledged(hosts.get(0), "msg_1", webhook);
    assertThat(redeliveries.get(redeliveries.size() - 1)).isEqualTo(WebhookOutcome.COMMITTED);
    assertThat(redeliveries.subList(0, redeliveries.size() - 1)).allSatisfy(
        e -> assertThat(e).isInstanceOf(CreditStoreException.class));
    assertThat(redeliverUntilAcknowledged(hosts.get(1), "msg_1", webhook)).last()
        .isEqualTo(WebhookOutcome.DUPLICATE);
    assertThat(stores.available("ada")).isEqualTo(100 - PRICE);
    assertThat(stores.held("ada")).isZero();
  }

  @Test
  void connectionsCutWhileTheServiceAnswersAreReplacedAndTheChatIsChargedOnce() throws Exception {
    stores.deposit("ada", 100);
    HostInstance host = stores.instance(url(), s -> { });
    CompletableFuture<ChatResponse> chat = CompletableFuture.supplyAsync(
        () -> host.gateway.chat(ADA, ChatRequest.of("hi")));
    assertThat(requestArrived.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(stores.held("ada")).as("reserved before the call").isEqualTo(PRICE);

    assertThat(stores.cutDatabaseConnections()).as("the instance's connections cut").isPositive();
    answer.countDown();

    assertThat(chat.get(30, TimeUnit.SECONDS).answer()).isEqualTo("ok");
    assertThat(stores.available("ada")).isEqualTo(100 - PRICE);
    assertThat(stores.held("ada")).isZero();
    assertThat(stores.reservations("COMMITTED")).isEqualTo(1);
    assertThat(host.gateway.abandonedSettlements()).isZero();
  }

  @Test
  void aSettlementThatHitTheStatementTimeoutIsRetriedOffTheRequestAndChargedOnce() throws Exception {
    stores.deposit("ada", 100);
    ManualScheduler retries = new ManualScheduler();
    try (LogCapture logs = new LogCapture()) {
      HostInstance host = stores.instance(url(), s -> {
        s.statementTimeout = Duration.ofSeconds(1);
        s.settlementScheduler = retries;
      });
      CompletableFuture<ChatResponse> chat = CompletableFuture.supplyAsync(
          () -> host.gateway.chat(ADA, ChatRequest.of("hi")));
      assertThat(requestArrived.await(30, TimeUnit.SECONDS)).isTrue();
      try (Connection locker = stores.connect()) {
        locker.setAutoCommit(false);
        try (PreparedStatement lock = locker.prepareStatement(
            "SELECT available FROM " + JdbcCreditLedger.ACCOUNTS_TABLE + " WHERE account = ? FOR UPDATE")) {
          lock.setString(1, "ada");
          try (ResultSet rs = lock.executeQuery()) {
            assertThat(rs.next()).isTrue();
          }
        }
        answer.countDown();

        // The commit waits for the locked row until its statement timeout; the user gets the answer.
        assertThat(chat.get(30, TimeUnit.SECONDS).answer()).isEqualTo("ok");
        assertThat(retries.tasks).as("retries scheduled").hasSize(1);
        // The typed failure, as the gateway logged it: the ledger's CreditStoreException, timed out.
        assertThat(logs.events(ChatGateway.class.getName())).filteredOn(e -> e.getLevel() == Level.ERROR)
            .singleElement().satisfies(e -> assertThat(e.getFormattedMessage()).contains("commit failed", "SQLState 57014", "statement timeout",
              "retrying off the request thread"));
        locker.rollback();
      }
      assertThat(stores.held("ada")).as("still reserved, not charged").isEqualTo(PRICE);

      retries.runAll();

      assertThat(retries.tasks).as("no further retry").isEmpty();
      assertThat(stores.available("ada")).isEqualTo(100 - PRICE);
      assertThat(stores.held("ada")).isZero();
      assertThat(stores.reservations("COMMITTED")).isEqualTo(1);
      assertThat(host.gateway.abandonedSettlements()).isZero();
    } finally {
      retries.shutdownNow();
      retries.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Delivers a webhook to an instance as the service does: again after each retryable refusal,
   * within a generous bound. Returns every answer, the acknowledgement last.
   */
  private static List<Object> redeliverUntilAcknowledged(HostInstance host, String webhookId, byte[] body) {
    List<Object> answers = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        answers.add(host.deliver(webhookId, body));
        return answers;
      } catch (LlmGatewayException e) {
        answers.add(e);
        if (!e.isRetryable() || System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
  }

  private static Object outcome(Supplier<Object> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      return e;
    }
  }

  /** Holds the tasks scheduled on it until the test runs them: retries without waiting. */
  private static final class ManualScheduler extends ScheduledThreadPoolExecutor {
    final List<Runnable> tasks = new CopyOnWriteArrayList<>();

    ManualScheduler() {
      super(1);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      tasks.add(command);
      return super.schedule(() -> { }, 1, TimeUnit.DAYS);
    }

    /** Runs the tasks held so far on the calling thread (the ones they schedule wait for the next call). */
    void runAll() {
      List<Runnable> due = new ArrayList<>(tasks);
      tasks.clear();
      due.forEach(Runnable::run);
    }
  }
}
