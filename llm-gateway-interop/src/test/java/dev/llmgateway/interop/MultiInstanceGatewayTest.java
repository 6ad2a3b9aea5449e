package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.auth.TokenVerificationException;
import dev.llmgateway.host.ChatGateway.WebhookOutcome;
import dev.llmgateway.host.ErrorMapper;
import dev.llmgateway.host.ErrorResponse;
import dev.llmgateway.host.InsufficientCreditsException;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimitExceededException;
import dev.llmgateway.host.RateLimits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Several host instances ({@link HostInstance}: each its own gateway, pool, Redis connection and
 * ledger) sharing one Redis and one PostgreSQL: one user's limits, stream tokens, webhooks and
 * credits are one truth across them (issue 14, "What the tests must show" 1 and 5).
 */
class MultiInstanceGatewayTest extends SystemTest {
  private static final UserContext ADA = UserContext.builder().userId("ada").companyId("c1").role("recruiter").build();
  private static final ErrorMapper ERRORS = ErrorMapper.ofDefaults();


  @Test
  void ofOneHundredFiftyChatsOfOneUserAcrossFourInstancesExactlyTheLimitPassAndTheRestGet429WithRetryAfter()
      throws Exception {
    stores.deposit("ada", 10_000);
    // A burst of 100, as 100 a minute has, refilled once an hour rather than every 600 ms, so that
    // a slow run on a busy machine cannot earn a 101st permit and the count is exact.
    RateLimits limits = RateLimits.builder().calls(RateLimit.of(100, Duration.ofHours(1))).streamStarts(null).build();
    List<HostInstance> hosts = stores.instances(4, url(), s -> s.limits = limits);
    List<Callable<?>> chats = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      HostInstance host = hosts.get(i % hosts.size());
      chats.add(() -> host.gateway.chat(ADA, ChatRequest.of("hi")));
    }

    List<Object> results = Upstream.concurrently(chats);

    assertThat(results).filteredOn(ChatResponse.class::isInstance).hasSize(100);
    List<Object> refused = results.stream().filter(r -> !(r instanceof ChatResponse)).toList();
    assertThat(refused).hasSize(50).allSatisfy(r -> {
      assertThat(r).isInstanceOf(RateLimitExceededException.class);
      ErrorResponse answer = ERRORS.toResponse((Throwable) r);
      assertThat(answer.status()).isEqualTo(429);
      assertThat(Long.parseLong(answer.headers().get(ErrorResponse.RETRY_AFTER))).isPositive();
    });
    assertThat(upstream.getRequestCount()).isEqualTo(100);
    assertThat(stores.available("ada")).isEqualTo(10_000 - 100 * HostInstance.PRICE);
    assertThat(hosts).allSatisfy(h -> assertThat(h.limiter.failOpenCount()).as("decided without Redis").isZero());
  }

  @Test
  void aStreamTokenAcceptedOnOneInstanceIsRefusedByEveryOther() {
    stores.deposit("ada", 100);
    List<HostInstance> hosts = stores.instances(4, url(), s -> { });
    StreamToken token = hosts.get(0).gateway.initDirectStream(ADA, ChatRequest.of("hi"));

    assertThat(hosts.get(1).streamTokens.verify(token.token()).requestId()).isEqualTo(token.requestId());

    for (HostInstance other : List.of(hosts.get(0), hosts.get(2), hosts.get(3), hosts.get(1))) {
      assertThatThrownBy(() -> other.streamTokens.verify(token.token()))
          .isInstanceOfSatisfying(TokenVerificationException.class,
              e -> assertThat(e.reason()).isEqualTo(TokenVerificationException.Reason.REPLAYED));
    }
  }

  @Test
  void aWebhookForAReservationMadeOnOneInstanceIsChargedOnceWhereverItAndItsRedeliveriesArrive() throws Exception {
    stores.deposit("ada", 100);
    List<HostInstance> hosts = stores.instances(4, url(), s -> { });
    StreamToken token = hosts.get(0).gateway.initDirectStream(ADA, ChatRequest.of("hi"));
    assertThat(stores.held("ada")).isEqualTo(HostInstance.PRICE);
    byte[] body = HostInstance.completion(token.requestId(), "completed", "ada");

    assertThat(hosts.get(1).deliver("msg_1", body)).isEqualTo(WebhookOutcome.COMMITTED);

    List<Callable<?>> redeliveries = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      HostInstance host = hosts.get(i % hosts.size());
      redeliveries.add(() -> host.deliver("msg_1", body));
    }
    assertThat(Upstream.concurrently(redeliveries)).containsOnly(WebhookOutcome.DUPLICATE);
    // Another webhook id for the same request (the service's second report of it): settled already.
    assertThat(hosts.get(2).deliver("msg_2", body)).isEqualTo(WebhookOutcome.ALREADY_SETTLED);
    assertThat(stores.available("ada")).isEqualTo(100 - HostInstance.PRICE);
    assertThat(stores.held("ada")).isZero();
    assertThat(stores.reservations("COMMITTED")).isEqualTo(1);
    assertThat(stores.reservations("PENDING")).isZero();
  }

  @Test
  void ofTwoHundredConcurrentChatsOnABalanceOfFiftyExactlyFiftySucceedAndTheBalanceNeverGoesBelowZero()
      throws Exception {
    stores.deposit("ada", 500);
    List<HostInstance> hosts = stores.instances(4, url(), s -> { });
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong lowest = new AtomicLong(Long.MAX_VALUE);
    AtomicLong samples = new AtomicLong();
    Thread sampler = new Thread(() -> {
      while (running.get()) {
        lowest.accumulateAndGet(stores.available("ada"), Math::min);
        samples.incrementAndGet();
      }
    }, "balance-sampler");
    sampler.start();
    List<Callable<?>> chats = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      HostInstance host = hosts.get(i % hosts.size());
      chats.add(() -> host.gateway.chat(ADA, ChatRequest.of("hi")));
    }

    List<Object> results;
    try {
      results = Upstream.concurrently(chats);
    } finally {
      running.set(false);
      sampler.join(10_000);
    }

    assertThat(results).filteredOn(ChatResponse.class::isInstance).hasSize(50);
    assertThat(results.stream().filter(r -> !(r instanceof ChatResponse)).toList()).hasSize(150).allSatisfy(r -> {
      assertThat(r).isInstanceOf(InsufficientCreditsException.class);
      assertThat(ERRORS.toResponse((Throwable) r).status()).isEqualTo(402);
    });
    assertThat(samples.get()).as("balance samples taken during the run").isPositive();
    assertThat(lowest.get()).as("lowest balance seen during the run").isGreaterThanOrEqualTo(0);
    assertThat(stores.available("ada")).isZero();
    assertThat(stores.held("ada")).isZero();
    assertThat(upstream.getRequestCount()).isEqualTo(50);
  }

  /**
   * 8 threads on each of 4 instances, 16 chats each, one after another: the limiter and the ledger
   * both bind somewhere, and the counts are exact either way.
   */
  @ParameterizedTest(name = "limit {0}, deposit {1}")
  @CsvSource({"120, 2000", "300, 1500"})
  void eightThreadsOnEachOfFourInstancesHammeringOneUserGetExactResults(int limit, long deposit) throws Exception {
    stores.deposit("ada", deposit);
    RateLimits limits = RateLimits.builder().calls(RateLimit.of(limit, Duration.ofDays(1))).streamStarts(null).build();
    List<HostInstance> hosts = stores.instances(4, url(), s -> s.limits = limits);
    int threadsPerInstance = 8;
    int chatsPerThread = 16;
    List<Callable<?>> threads = new ArrayList<>();
    for (HostInstance host : hosts) {
      for (int t = 0; t < threadsPerInstance; t++) {
        threads.add(() -> {
          List<Object> outcomes = new ArrayList<>();
          for (int i = 0; i < chatsPerThread; i++) {
            try {
              outcomes.add(host.gateway.chat(ADA, ChatRequest.of("hi")));
            } catch (RateLimitExceededException | InsufficientCreditsException e) {
              outcomes.add(e);
            }
          }
          return outcomes;
        });
      }
    }

    List<Object> outcomes = new ArrayList<>();
    for (Object perThread : Upstream.concurrently(threads)) {
      assertThat(perThread).as("a thread's outcomes (not an unexpected exception)").isInstanceOf(List.class);
      outcomes.addAll((List<?>) perThread);
    }

    int attempts = hosts.size() * threadsPerInstance * chatsPerThread;
    long passes = Math.min(limit, deposit / HostInstance.PRICE);
    assertThat(outcomes).hasSize(attempts);
    assertThat(outcomes).filteredOn(ChatResponse.class::isInstance).hasSize((int) passes);
    assertThat(outcomes).filteredOn(RateLimitExceededException.class::isInstance).hasSize(attempts - limit);
    assertThat(outcomes).filteredOn(InsufficientCreditsException.class::isInstance).hasSize((int) (limit - passes));
    assertThat(stores.available("ada")).isEqualTo(deposit - HostInstance.PRICE * passes);
    assertThat(stores.held("ada")).isZero();
    assertThat(upstream.getRequestCount()).isEqualTo((int) passes);
  }
}
