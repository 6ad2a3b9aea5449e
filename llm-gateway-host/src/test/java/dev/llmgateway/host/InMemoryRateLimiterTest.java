package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.Operation;
import dev.llmgateway.testkit.Concurrently;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

class InMemoryRateLimiterTest {
  private final FakeTicker ticker = new FakeTicker();
  private final InMemoryRateLimiter limiter = InMemoryRateLimiter.builder().ticker(ticker).build();

  private int acquireUntilRefused(String key, Operation operation, int max) {
    for (int i = 0; i < max; i++) {
      if (!limiter.tryAcquire(key, operation).allowed()) {
        return i;
      }
    }
    return max;
  }

  @Test
  void defaultsAreAHundredCallsAndTenStreamStartsPerMinute() {
    assertThat(RateLimits.ofDefaults().calls()).isEqualTo(new RateLimit(100, Duration.ofMinutes(1), 100));
    assertThat(RateLimits.ofDefaults().streamStarts()).isEqualTo(new RateLimit(10, Duration.ofMinutes(1), 10));
    assertThat(limiter.limits()).isEqualTo(RateLimits.ofDefaults());
  }

  @Test
  void burstOfAHundredCallsThenRefusedWithTheWaitForOnePermit() {
    assertThat(acquireUntilRefused("123", Operation.CHAT, 200)).isEqualTo(100);

    RateLimiter.Decision refused = limiter.tryAcquire("123", Operation.LIST_SESSIONS);

    assertThat(refused.allowed()).isFalse();
    assertThat(refused.limit()).isEqualTo(RateLimits.CALLS);
    assertThat(refused.retryAfter()).isEqualTo(Duration.ofMillis(600));
  }

  @Test
  void permitsRefillEvenlyWithTime() {
    acquireUntilRefused("123", Operation.CHAT, 200);

    ticker.advance(Duration.ofMillis(599));
    RateLimiter.Decision early = limiter.tryAcquire("123", Operation.CHAT);
    assertThat(early.allowed()).isFalse();
    assertThat(early.retryAfter()).isEqualTo(Duration.ofMillis(1));

    ticker.advance(Duration.ofMillis(1));
    assertThat(limiter.tryAcquire("123", Operation.CHAT).allowed()).isTrue();
    assertThat(limiter.tryAcquire("123", Operation.CHAT).allowed()).isFalse();

    ticker.advance(Duration.ofSeconds(6));
    assertThat(acquireUntilRefused("123", Operation.CHAT, 200)).isEqualTo(10);

    ticker.advance(Duration.ofHours(1)); // refills to the burst, never beyond
    assertThat(acquireUntilRefused("123", Operation.CHAT, 200)).isEqualTo(100);
  }

  @Test
  void usersAreLimitedApart() {
    acquireUntilRefused("123", Operation.CHAT, 200);
    acquireUntilRefused("123", Operation.CHAT_STREAM, 200);

    assertThat(limiter.tryAcquire("123", Operation.CHAT).allowed()).isFalse();
    assertThat(acquireUntilRefused("456", Operation.CHAT_STREAM, 200)).isEqualTo(10);
    assertThat(acquireUntilRefused("456", Operation.CHAT, 200)).isEqualTo(90);
  }

  @Test
  void tenStreamStartsThenRefusedByTheStreamLimitWhileOtherCallsGoOn() {
    assertThat(acquireUntilRefused("123", Operation.CHAT_STREAM, 50)).isEqualTo(10);

    RateLimiter.Decision refused = limiter.tryAcquire("123", Operation.CHAT_STREAM);
    assertThat(refused.limit()).isEqualTo(RateLimits.STREAM_STARTS);
    assertThat(refused.retryAfter()).isEqualTo(Duration.ofSeconds(6));
    assertThat(acquireUntilRefused("123", Operation.CHAT, 200)).isEqualTo(90);
  }

  @Test
  void streamStartRefusedByTheStreamLimitDoesNotConsumeACallPermit() {
    acquireUntilRefused("123", Operation.CHAT_STREAM, 50); // 10 streams: 10 of 100 calls used

    for (int i = 0; i < 500; i++) {
      assertThat(limiter.tryAcquire("123", Operation.CHAT_STREAM).allowed()).isFalse();
    }

    assertThat(acquireUntilRefused("123", Operation.CHAT, 200)).isEqualTo(90);
  }

  @Test
  void streamStartRefusedByTheCallLimitDoesNotConsumeAStreamPermit() {
    acquireUntilRefused("123", Operation.CHAT, 200);

    for (int i = 0; i < 50; i++) {
      RateLimiter.Decision refused = limiter.tryAcquire("123", Operation.CHAT_STREAM);
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.limit()).isEqualTo(RateLimits.CALLS);
    }
    ticker.advance(Duration.ofSeconds(6)); // 10 call permits back; the stream bucket was never touched

    assertThat(acquireUntilRefused("123", Operation.CHAT_STREAM, 50)).isEqualTo(10);
  }

  @Test
  void refusalReportsTheLongestWaitOfTheBucketsThatRefused() {
    InMemoryRateLimiter tight = InMemoryRateLimiter.builder().ticker(ticker)
        .limits(RateLimits.builder().calls(RateLimit.perMinute(2)).streamStarts(RateLimit.perMinute(1)).build())
        .build();
    tight.tryAcquire("123", Operation.CHAT_STREAM);
    tight.tryAcquire("123", Operation.CHAT);

    RateLimiter.Decision refused = tight.tryAcquire("123", Operation.CHAT_STREAM);

    assertThat(refused.limit()).isEqualTo(RateLimits.STREAM_STARTS);
    assertThat(refused.retryAfter()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void burstSmallerThanTheRate() {
    InMemoryRateLimiter smooth = InMemoryRateLimiter.builder().ticker(ticker)
        .limits(RateLimits.builder().calls(RateLimit.perMinute(60).withBurst(3)).streamStarts(null).build())
        .build();

    assertThat(acquire(smooth, 10)).isEqualTo(3);
    ticker.advance(Duration.ofSeconds(1));
    assertThat(acquire(smooth, 10)).isEqualTo(1);
  }

  private static int acquire(RateLimiter limiter, int max) {
    for (int i = 0; i < max; i++) {
      if (!limiter.tryAcquire("k", Operation.CHAT_STREAM).allowed()) {
        return i;
      }
    }
    return max;
  }

  @Test
  void noLimitsAllowEverything() {
    InMemoryRateLimiter open = InMemoryRateLimiter.builder().ticker(ticker)
        .limits(RateLimits.builder().calls(null).streamStarts(null).build()).build();

    assertThat(acquire(open, 10_000)).isEqualTo(10_000);
    assertThat(open.size()).isZero();
  }

  @Test
  void acquireThrowsWithTheWaitAndConsumesNothing() {
    acquireUntilRefused("123", Operation.CHAT_STREAM, 50);

    assertThatThrownBy(() -> limiter.acquire("123", Operation.CHAT_STREAM, "req-9"))
        .isInstanceOfSatisfying(RateLimitExceededException.class, e -> {
          assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(6));
          assertThat(e.limit()).isEqualTo(RateLimits.STREAM_STARTS);
          assertThat(e.requestId()).isEqualTo("req-9");
          assertThat(e.attempts()).isZero();
        });
    limiter.acquire("123", Operation.CHAT, "req-10");
  }

  @Test
  void concurrentCallersGetExactlyTheBurst() throws Exception {
    List<Callable<int[]>> tasks = new ArrayList<>();
    for (int t = 0; t < 32; t++) {
      tasks.add(() -> {
        int[] allowed = new int[2];
        for (int i = 0; i < 10; i++) {
          boolean stream = i % 2 == 0;
          if (limiter.tryAcquire("123", stream ? Operation.CHAT_STREAM : Operation.CHAT).allowed()) {
            allowed[stream ? 1 : 0]++;
          }
        }
        return allowed;
      });
    }

    List<int[]> results = Concurrently.run(tasks);

    int calls = results.stream().mapToInt(r -> r[0]).sum();
    int streams = results.stream().mapToInt(r -> r[1]).sum();
    assertThat(calls + streams).isEqualTo(100); // the clock stood still: exactly the burst
    assertThat(streams).isBetween(1, 10);
    assertThat(limiter.tryAcquire("123", Operation.CHAT).allowed()).isFalse();
  }

  @Test
  void concurrentRefusedStreamStartsLeakNoCallPermit() throws Exception {
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (int t = 0; t < 32; t++) {
      tasks.add(() -> acquireUntilRefused("123", Operation.CHAT_STREAM, 10) > 0 ? 1 : 0);
    }

    Concurrently.run(tasks);

    assertThat(acquireUntilRefused("123", Operation.CHAT, 200)).isEqualTo(90);
  }

  @Test
  void evictIdleDropsOnlyFullyRefilledKeys() {
    limiter.tryAcquire("a", Operation.CHAT);
    limiter.tryAcquire("b", Operation.CHAT_STREAM);
    assertThat(limiter.evictIdle()).as("both refilling").isZero();
    ticker.advance(Duration.ofMillis(599));
    assertThat(limiter.evictIdle()).as("a's call bucket 1 ns short of full").isZero();
    ticker.advance(Duration.ofMillis(1)); // a's call bucket is full again; b's stream bucket is not

    assertThat(limiter.evictIdle()).isEqualTo(1);
    assertThat(limiter.size()).isEqualTo(1);

    ticker.advance(Duration.ofMillis(5400));
    assertThat(limiter.evictIdle()).isEqualTo(1);
    assertThat(limiter.size()).isZero();
  }

  @Test
  void evictedKeyIsDecidedAsIfItHadBeenKept() {
    acquireUntilRefused("123", Operation.CHAT_STREAM, 50);
    ticker.advance(Duration.ofMinutes(1));
    limiter.evictIdle();

    assertThat(acquireUntilRefused("123", Operation.CHAT_STREAM, 50)).isEqualTo(10);
  }

  @Test
  void mapStaysBoundedByDroppingIdleKeysFirst() {
    InMemoryRateLimiter bounded = InMemoryRateLimiter.builder().ticker(ticker).maxKeys(100).build();
    for (int i = 0; i < 100; i++) {
      bounded.tryAcquire("idle-" + i, Operation.CHAT);
    }
    ticker.advance(Duration.ofSeconds(1));
    for (int i = 0; i < 10; i++) {
      assertThat(acquireKey(bounded, "busy", 1)).isEqualTo(1);
    }

    for (int i = 0; i < 50; i++) {
      bounded.tryAcquire("new-" + i, Operation.CHAT);
    }

    assertThat(bounded.size()).isLessThanOrEqualTo(100);
    // The busy key survived the sweep: its 10 used permits are still counted.
    assertThat(acquireKey(bounded, "busy", 200)).isEqualTo(90);
  }

  @Test
  void aFullMapOfActiveKeysDropsTheKeysNearestToFullFirst() {
    InMemoryRateLimiter bounded = InMemoryRateLimiter.builder().ticker(ticker).maxKeys(10).build();
    for (int i = 0; i < 5; i++) {
      assertThat(acquireKey(bounded, "heavy-" + i, 50)).isEqualTo(50); // 30 s from full
      bounded.tryAcquire("light-" + i, Operation.CHAT); // 0.6 s from full
    }

    for (int i = 0; i < 40; i++) {
      ticker.advance(Duration.ofMillis(10));
      bounded.tryAcquire("new-" + i, Operation.CHAT);
      assertThat(bounded.size()).isLessThanOrEqualTo(10);
    }

    // Every sweep dropped light keys: the heavy keys' 50 used permits (0.4 s refill none) still count.
    for (int i = 0; i < 5; i++) {
      assertThat(acquireKey(bounded, "heavy-" + i, 100)).as("heavy-" + i).isEqualTo(50);
    }
  }

  @Test
  void mapStaysBoundedEvenWhenEveryKeyIsActive() {
    InMemoryRateLimiter bounded = InMemoryRateLimiter.builder().ticker(ticker).maxKeys(50).build();

    for (int i = 0; i < 1_000; i++) {
      assertThat(bounded.tryAcquire("user-" + i, Operation.CHAT).allowed()).isTrue();
    }

    assertThat(bounded.size()).isLessThanOrEqualTo(50);
  }

  private static int acquireKey(RateLimiter limiter, String key, int max) {
    for (int i = 0; i < max; i++) {
      if (!limiter.tryAcquire(key, Operation.CHAT).allowed()) {
        return i;
      }
    }
    return max;
  }

  @Test
  void limitsAndDecisionsCheckTheirArguments() {
    assertThatThrownBy(() -> RateLimit.perMinute(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimit.perMinute(5).withBurst(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimit.of(5, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> InMemoryRateLimiter.builder().maxKeys(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new RateLimiter.Decision(true, Duration.ofSeconds(1), null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimiter.Decision.deny("calls", Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(RateLimit.perMinute(100).interval()).isEqualTo(Duration.ofMillis(600));
  }
}
