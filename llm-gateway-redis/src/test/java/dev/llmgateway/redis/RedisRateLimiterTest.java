package dev.llmgateway.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.llmgateway.Operation;
import dev.llmgateway.TransportException;
import dev.llmgateway.host.ErrorMapper;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.RateLimiter.Decision;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.redis.RedisRateLimiter.FailurePolicy;
import dev.llmgateway.testkit.LogCapture;
import dev.llmgateway.testkit.RedisServerExtension;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RedisRateLimiterTest {
  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final Duration SHORT = Duration.ofMillis(300);

  private RedisConnections connections;
  private String user;

  @BeforeEach
  void connect() {
    connections = new RedisConnections(REDIS);
    user = "user-" + UUID.randomUUID();
  }

  @AfterEach
  void close() {
    connections.close();
  }

  @Test
  void ofConcurrentDecisionsExactlyTheBurstPassAndTheRestGetTheWait() throws Exception {
    RateLimit limit = RateLimit.of(20, Duration.ofHours(1)); // burst 20, one permit per 3 min: no refill meanwhile
    RedisRateLimiter limiter = RedisRateLimiter.create(connections.connect(), RateLimits.builder()
        .calls(limit).streamStarts(null).build());

    List<Decision> decisions = concurrently(30, () -> limiter.tryAcquire(user, Operation.CHAT));

    assertThat(decisions).filteredOn(Decision::allowed).hasSize(20);
    List<Decision> refused = decisions.stream().filter(d -> !d.allowed()).toList();
    assertThat(refused).hasSize(10).allSatisfy(d -> {
      assertThat(d.limit()).isEqualTo(RateLimits.CALLS);
      assertThat(d.retryAfter()).isPositive().isLessThanOrEqualTo(limit.interval());
    });
  }

  @Test
  void twoInstancesOnTheirOwnConnectionsShareOneBucket() throws Exception {
    RateLimits limits = RateLimits.builder().calls(RateLimit.of(10, Duration.ofHours(1))).streamStarts(null).build();
    RedisRateLimiter a = RedisRateLimiter.create(connections.connect(), limits);
    RedisRateLimiter b = RedisRateLimiter.create(connections.connect(), limits);

    List<Decision> decisions = concurrently(16, i -> (i % 2 == 0 ? a : b).tryAcquire(user, Operation.CHAT));

    assertThat(decisions).filteredOn(Decision::allowed).hasSize(10);
  }

  @Test
  void decidesAsTheInMemoryLimiterDoes() {
    RateLimits limits = RateLimits.builder()
        .calls(RateLimit.of(5, Duration.ofHours(1)))
        .streamStarts(RateLimit.of(6, Duration.ofHours(1)).withBurst(2))
        .build();
    RateLimiter memory = InMemoryRateLimiter.create(limits);
    RateLimiter redis = RedisRateLimiter.create(connections.connect(), limits);
    Operation[] sequence = {
      Operation.CHAT_STREAM, Operation.CHAT, Operation.CHAT_STREAM, Operation.CHAT_STREAM,
      Operation.CHAT, Operation.LIST_SESSIONS, Operation.CHAT, Operation.CHAT_STREAM
    };

    for (Operation operation : sequence) {
      Decision expected = memory.tryAcquire(user, operation);
      Decision actual = redis.tryAcquire(user, operation);
      assertThat(actual.allowed()).as("%s", operation).isEqualTo(expected.allowed());
      assertThat(actual.limit()).as("%s", operation).isEqualTo(expected.limit());
      // Two clocks read a moment apart: the waits agree within a generous bound.
      assertThat(actual.retryAfter()).as("%s", operation)
          .isBetween(expected.retryAfter().minusSeconds(1), expected.retryAfter().plusSeconds(1));
    }
  }

  @Test
  void aStreamStartRefusedByItsOwnLimitTakesNoCallPermit() {
    RedisRateLimiter limiter = RedisRateLimiter.create(connections.connect(), RateLimits.builder()
        .calls(RateLimit.of(10, Duration.ofHours(1))).streamStarts(RateLimit.of(2, Duration.ofHours(1))).build());

    assertThat(limiter.tryAcquire(user, Operation.CHAT_STREAM).allowed()).isTrue();
    assertThat(limiter.tryAcquire(user, Operation.CHAT_STREAM).allowed()).isTrue();
    Decision third = limiter.tryAcquire(user, Operation.CHAT_STREAM);
    assertThat(third.allowed()).isFalse();
    assertThat(third.limit()).isEqualTo(RateLimits.STREAM_STARTS);
    assertThat(third.retryAfter()).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(30));

    for (int i = 0; i < 8; i++) {
      assertThat(limiter.tryAcquire(user, Operation.CHAT).allowed()).as("call %d", i).isTrue();
    }
    assertThat(limiter.tryAcquire(user, Operation.CHAT).limit()).isEqualTo(RateLimits.CALLS);
  }

  @Test
  void keysAreNamespacedAndExpireWhenTheBucketIsFullAgain() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .limits(RateLimits.builder().calls(RateLimit.perMinute(6)).streamStarts(RateLimit.of(2, Duration.ofHours(1)))
            .build())
        .keyPrefix("test:rl:")
        .build();

    assertThat(limiter.tryAcquire(user, Operation.CHAT_STREAM).allowed()).isTrue();

    long callsTtl = Long.parseLong(REDIS.command("PTTL test:rl:{" + user + "}:calls").substring(1));
    long streamsTtl = Long.parseLong(REDIS.command("PTTL test:rl:{" + user + "}:stream_starts").substring(1));
    assertThat(callsTtl).isPositive().isLessThanOrEqualTo(10_000); // one interval: 10 s
    assertThat(streamsTtl).isGreaterThan(10_000).isLessThanOrEqualTo(1_800_000); // 30 min
    assertThat(REDIS.command("EXISTS llm-gateway:rl:{" + user + "}:calls")).isEqualTo(":0");
  }

  @Test
  void theScriptIsLoadedAgainWhenRedisForgotIt() {
    RedisRateLimiter limiter = RedisRateLimiter.create(connections.connect(), RateLimits.builder()
        .calls(RateLimit.of(3, Duration.ofHours(1))).streamStarts(null).build());
    assertThat(limiter.tryAcquire(user, Operation.CHAT).allowed()).isTrue();

    REDIS.command("SCRIPT FLUSH");

    assertThat(limiter.tryAcquire(user, Operation.CHAT).allowed()).isTrue();
    assertThat(limiter.tryAcquire(user, Operation.CHAT).allowed()).isTrue();
    assertThat(limiter.tryAcquire(user, Operation.CHAT).allowed()).isFalse();
    assertThat(limiter.failureCount()).isZero();
  }

  @Test
  void failsOpenByDefaultWhenRedisIsDownCountingAndWarningAtMostOncePerInterval() {
    AtomicLong ticker = new AtomicLong();
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .timeout(SHORT)
        .warnInterval(Duration.ofMinutes(1))
        .ticker(ticker::get)
        .build();
    assertThat(limiter.failurePolicy()).isEqualTo(FailurePolicy.FAIL_OPEN);
    REDIS.stop();

    try (LogCapture logs = new LogCapture()) {
      for (int i = 0; i < 3; i++) {
        assertThat(limiter.tryAcquire(user, Operation.CHAT).allowed()).isTrue();
      }
      assertThat(limiter.failOpenCount()).isEqualTo(3);
      assertThat(warnings(logs)).hasSize(1);

      ticker.addAndGet(Duration.ofMinutes(1).toNanos());
      assertThat(limiter.tryAcquire(user, Operation.CHAT).allowed()).isTrue();

      List<ILoggingEvent> warnings = warnings(logs);
      assertThat(warnings).hasSize(2);
      assertThat(warnings.get(1).getFormattedMessage()).contains("4 in all, 3 since the last line");
      assertThat(limiter.failOpenCount()).isEqualTo(4);
    }
  }

  @Test
  void failsClosedWithARetryable503WhenConfigured() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .timeout(SHORT)
        .failurePolicy(FailurePolicy.FAIL_CLOSED)
        .build();
    REDIS.stop();

    assertThatThrownBy(() -> limiter.tryAcquire(user, Operation.CHAT))
        .isInstanceOfSatisfying(TransportException.class, e -> {
          assertThat(e.isRetryable()).isTrue();
          assertThat(ErrorMapper.ofDefaults().toResponse(e).status()).isEqualTo(503);
        });
    assertThat(limiter.failOpenCount()).isZero();
    assertThat(limiter.failureCount()).isEqualTo(1);
  }

  @Test
  void aHungRedisIsAFailureAfterTheTimeout() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .timeout(SHORT)
        .failurePolicy(FailurePolicy.FAIL_CLOSED)
        .build();
    REDIS.freeze();
    try {
      assertThatThrownBy(() -> limiter.tryAcquire(user, Operation.CHAT))
          .isInstanceOf(TransportException.class)
          .hasMessageContaining("did not answer within");
    } finally {
      REDIS.thaw();
    }
  }

  @Test
  void recoversAfterARestartWithoutLeakingConnections() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .limits(RateLimits.builder().calls(RateLimit.perMinute(100)).streamStarts(null).build())
        .timeout(SHORT)
        .failurePolicy(FailurePolicy.FAIL_CLOSED)
        .build();
    assertThat(limiter.tryAcquire(user, Operation.CHAT).allowed()).isTrue();

    REDIS.stop();
    assertThatThrownBy(() -> limiter.tryAcquire(user, Operation.CHAT)).isInstanceOf(TransportException.class);
    REDIS.start(); // empty: no script, no bucket

    assertThat(firstAnswer(limiter).allowed()).isTrue();
    // The test's one connection, reconnected: the limiter opened none of its own and leaked none.
    assertThat(REDIS.clientCount()).isEqualTo(1);
  }

  @Test
  void aDecisionThatTimedOutIsNotAppliedLaterWhenRedisComesBack() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connections.connect())
        .limits(RateLimits.builder().calls(RateLimit.perMinute(1)).streamStarts(null).build())
        .timeout(SHORT)
        .failurePolicy(FailurePolicy.FAIL_CLOSED)
        .build();
    REDIS.stop();
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> limiter.tryAcquire(user, Operation.CHAT)).isInstanceOf(TransportException.class);
      assertThat(limiter.tryAcquireAsync(user, Operation.CHAT).toCompletableFuture())
          .failsWithin(Duration.ofSeconds(10));
    }
    REDIS.start(); // empty: the user's one permit is free

    // Refused calls consume nothing: the timed-out scripts must not run once Lettuce reconnects.
    assertThat(firstAnswer(limiter).allowed()).isTrue();
  }

  @Test
  void theAsyncDecisionDecidesAndAppliesThePolicyWithinTheTimeout() throws Exception {
    RateLimits limits = RateLimits.builder().calls(RateLimit.perMinute(1)).streamStarts(null).build();
    RedisRateLimiter open = RedisRateLimiter.builder(connections.connect()).limits(limits).timeout(SHORT).build();
    RedisRateLimiter closed = RedisRateLimiter.builder(connections.connect()).limits(limits).timeout(SHORT)
        .failurePolicy(FailurePolicy.FAIL_CLOSED).build();
    assertThat(open.tryAcquireAsync(user, Operation.CHAT).toCompletableFuture().get(10, TimeUnit.SECONDS).allowed())
        .isTrue();
    assertThat(closed.tryAcquireAsync(user, Operation.CHAT).toCompletableFuture().get(10, TimeUnit.SECONDS).limit())
        .isEqualTo(RateLimits.CALLS);

    REDIS.stop();

    assertThat(open.tryAcquireAsync(user, Operation.CHAT).toCompletableFuture().get(10, TimeUnit.SECONDS).allowed())
        .isTrue();
    assertThat(open.failOpenCount()).isEqualTo(1);
    assertThat(closed.tryAcquireAsync(user, Operation.CHAT).toCompletableFuture())
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOf(TransportException.class)
        .withMessageContaining("did not answer within");
  }

  @Test
  void settingsAreCheckedAndNamed() {
    StatefulRedisConnection<String, String> connection = connections.connect();
    assertThatThrownBy(() -> RedisRateLimiter.builder(connection).keyPrefix(""))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyPrefix");
    assertThatThrownBy(() -> RedisRateLimiter.builder(connection).timeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout");
    assertThatThrownBy(() -> RedisRateLimiter.builder(connection).warnInterval(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("warnInterval");
    assertThatThrownBy(() -> RedisRateLimiter.create(connection, RateLimits.ofDefaults()).tryAcquire(null, Operation.CHAT))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("key");
  }

  /** Decides until Redis answers (Lettuce reconnects by itself); each try waits at most the timeout. */
  private Decision firstAnswer(RedisRateLimiter limiter) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        return limiter.tryAcquire(user, Operation.CHAT);
      } catch (TransportException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
  }

  private static List<ILoggingEvent> warnings(LogCapture logs) {
    return logs.events(RedisRateLimiter.class.getName()).stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .toList();
  }

  private interface Call {
    Decision call(int index);
  }

  private static List<Decision> concurrently(int n, java.util.function.Supplier<Decision> call) throws Exception {
    return concurrently(n, i -> call.get());
  }

  private static List<Decision> concurrently(int n, Call call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Decision>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int index = i;
        futures.add(pool.submit(() -> {
          start.await();
          return call.call(index);
        }));
      }
      start.countDown();
      List<Decision> decisions = new ArrayList<>();
      for (Future<Decision> future : futures) {
        decisions.add(future.get(30, TimeUnit.SECONDS));
      }
      return decisions;
    } finally {
      pool.shutdownNow();
    }
  }
}
