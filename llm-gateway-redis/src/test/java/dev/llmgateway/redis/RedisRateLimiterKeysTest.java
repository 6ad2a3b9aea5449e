package dev.llmgateway.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.Operation;
import dev.llmgateway.TransportException;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimiter.Decision;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.redis.RedisRateLimiter.FailurePolicy;
import dev.llmgateway.testkit.RedisServerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Calls counted against several keys ({@code tryAcquireAll}) and per-namespace limits, on a real Redis. */
class RedisRateLimiterKeysTest {
  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final Duration HOUR = Duration.ofHours(1);

  private RedisConnections connections;
  private String run;

  @BeforeEach
  void connect() {
    connections = new RedisConnections(REDIS);
    run = UUID.randomUUID().toString();
  }

  @AfterEach
  void close() {
    connections.close();
  }

  private static RateLimits calls(int perHour) {
    return RateLimits.builder().calls(RateLimit.of(perHour, HOUR)).streamStarts(null).build();
  }

  @Test
  void aCallRefusedByOneKeyTakesNothingFromTheOthers() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .limits(calls(2))                       // user:…
        .limits("ip:", calls(5))
        .build();
    String ip = "ip:" + run;

    List<Decision> greedy = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      greedy.add(limiter.tryAcquireAll(List.of(ip, "user:a-" + run), Operation.CHAT));
    }
    assertThat(greedy).filteredOn(Decision::allowed).hasSize(2);

    // The address gave only the two permits of the calls that passed: 3 are left for another user.
    int passed = 0;
    for (int i = 0; i < 10; i++) {
      passed += limiter.tryAcquireAll(List.of(ip, "user:b-" + run), Operation.CHAT).allowed() ? 1 : 0;
    }
    assertThat(passed).isEqualTo(2);
    assertThat(limiter.tryAcquire(ip, Operation.CHAT).allowed()).isTrue();
    assertThat(limiter.tryAcquire(ip, Operation.CHAT).allowed()).isFalse();
    assertThat(limiter.failureCount()).isZero();
  }

  @Test
  void theRefusalNamesTheLimitWithTheLongestWaitOverAllKeys() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .limits(RateLimits.builder().calls(RateLimit.of(1, HOUR)).streamStarts(null).build())
        .limits("ip:", RateLimits.builder().calls(null).streamStarts(RateLimit.of(1, Duration.ofMinutes(1))).build())
        .build();
    List<String> keys = List.of("ip:" + run, "user:" + run);
    assertThat(limiter.tryAcquireAll(keys, Operation.CHAT_STREAM).allowed()).isTrue();

    Decision refused = limiter.tryAcquireAll(keys, Operation.CHAT_STREAM);

    assertThat(refused.allowed()).isFalse();
    assertThat(refused.limit()).isEqualTo(RateLimits.CALLS);
    assertThat(refused.retryAfter()).isGreaterThan(Duration.ofMinutes(59)).isLessThanOrEqualTo(HOUR);
  }

  @Test
  void ofSixteenThreadsOnTwoInstancesOverSharedKeysExactlyTheLimitPassesAndRefusalsTakeNothing() throws Exception {
    // One shared address (30 an hour) and four users (20 an hour each, 80 in all).
    RedisRateLimiter a = RedisRateLimiter.builder(connections.connect()).limits(calls(20)).limits("ip:", calls(30)).build();
    RedisRateLimiter b = RedisRateLimiter.builder(connections.connect()).limits(calls(20)).limits("ip:", calls(30)).build();
    String ip = "ip:" + run;
    AtomicInteger passed = new AtomicInteger();

    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        RedisRateLimiter limiter = t % 2 == 0 ? a : b;
        List<String> keys = List.of("user:" + (t % 4) + "-" + run, ip);
        done.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < 10; i++) {
            if (limiter.tryAcquireAll(keys, Operation.CHAT).allowed()) {
              passed.incrementAndGet();
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(passed.get()).isEqualTo(30);
    int left = 0;
    for (int u = 0; u < 4; u++) {
      while (a.tryAcquire("user:" + u + "-" + run, Operation.CHAT).allowed()) {
        left++;
      }
    }
    assertThat(left).isEqualTo(80 - 30);
    assertThat(a.failureCount() + b.failureCount()).isZero();
  }

  @Test
  void eachNamespaceHasItsOwnLimitsTheLongestMatchingWins() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .limits(calls(2))
        .limits("company:", calls(3))
        .limits("company:vip:", calls(5))
        .limits("ip:", RateLimits.builder().calls(null).streamStarts(RateLimit.of(1, HOUR)).build())
        .build();

    assertThat(permits(limiter, "user:" + run, Operation.CHAT)).isEqualTo(2);
    assertThat(permits(limiter, "company:" + run, Operation.CHAT)).isEqualTo(3);
    assertThat(permits(limiter, "company:vip:" + run, Operation.CHAT)).isEqualTo(5);
    assertThat(permits(limiter, "other:" + run, Operation.CHAT)).isEqualTo(2);
    // No call limit for addresses: only stream starts count there.
    assertThat(permits(limiter, "ip:" + run, Operation.CHAT)).isEqualTo(50);
    assertThat(permits(limiter, "ip:" + run, Operation.CHAT_STREAM)).isEqualTo(1);
    assertThat(limiter.namespaceLimits()).containsOnlyKeys("company:", "company:vip:", "ip:");
    assertThatThrownBy(() -> RedisRateLimiter.builder(connections.connect()).limits("ip", calls(1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("namespace");
  }

  /** Permits taken one by one until the first refusal, at most 50. */
  private static int permits(RedisRateLimiter limiter, String key, Operation operation) {
    int n = 0;
    while (n < 50 && limiter.tryAcquireAll(List.of(key), operation).allowed()) {
      n++;
    }
    return n;
  }

  @Test
  void decidesSeveralKeysAsTheInMemoryLimiterDoes() {
    RateLimits users = RateLimits.builder().calls(RateLimit.of(6, HOUR)).streamStarts(RateLimit.of(3, HOUR)).build();
    RateLimits ips = RateLimits.builder().calls(RateLimit.of(9, Duration.ofHours(2))).streamStarts(RateLimit.of(4, Duration.ofHours(3))).build();
    RateLimits companies = calls(12);
    RedisRateLimiter redis = RedisRateLimiter.builder(connections.connect())
        .limits(users).limits("ip:", ips).limits("company:", companies).build();
    InMemoryRateLimiter memory = InMemoryRateLimiter.builder()
        .limits(users).limits("ip:", ips).limits("company:", companies).ticker(() -> 0L).build();
    List<String> keys = List.of("user:1-" + run, "user:2-" + run, "ip:" + run, "company:" + run);
    Operation[] ops = {Operation.CHAT, Operation.CHAT_STREAM, Operation.LIST_SESSIONS};
    Random random = new Random(14);

    for (int i = 0; i < 60; i++) {
      List<String> call = new ArrayList<>();
      for (String key : keys) {
        if (random.nextInt(3) > 0) {
          call.add(key);
        }
      }
      if (random.nextInt(5) == 0 && !call.isEmpty()) {
        call.add(call.get(0)); // a duplicate counts once
      }
      Operation op = ops[random.nextInt(ops.length)];
      Decision expected = memory.tryAcquireAll(call, op);
      Decision actual = redis.tryAcquireAll(call, op);
      String what = "call " + i + " " + call + " " + op;
      assertThat(actual.allowed()).as(what).isEqualTo(expected.allowed());
      assertThat(actual.limit()).as(what).isEqualTo(expected.limit());
      // Redis's clock moved on a little while the test ran; the in-memory one stood still.
      assertThat(actual.retryAfter()).as(what)
          .isLessThanOrEqualTo(expected.retryAfter())
          .isGreaterThanOrEqualTo(expected.retryAfter().minusSeconds(30));
    }
    assertThat(redis.failureCount()).isZero();
  }

  @Test
  void severalKeysFailOpenAsOneDecisionWhenRedisIsDown() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .timeout(Duration.ofMillis(300))
        .build();
    REDIS.stop();

    assertThat(limiter.tryAcquireAll(List.of("user:" + run, "ip:" + run), Operation.CHAT).allowed()).isTrue();

    assertThat(limiter.failOpenCount()).isEqualTo(1);
    assertThat(limiter.failureCount()).isEqualTo(1);
  }

  @Test
  void severalKeysFailClosedWithOneRetryableErrorWhenConfigured() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .timeout(Duration.ofMillis(300))
        .failurePolicy(FailurePolicy.FAIL_CLOSED)
        .build();
    REDIS.stop();

    assertThatThrownBy(() -> limiter.tryAcquireAll(List.of("user:" + run, "ip:" + run), Operation.CHAT))
        .isInstanceOfSatisfying(TransportException.class, e -> assertThat(e.isRetryable()).isTrue());
    assertThat(limiter.failOpenCount()).isZero();
    assertThat(limiter.failureCount()).isEqualTo(1);
  }
}
