package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.Operation;
import dev.llmgateway.testkit.Concurrently;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/** Several keys per call decided at once, and limits per namespace. */
class InMemoryRateLimiterKeysTest {
  private static final RateLimits TEN = RateLimits.builder().calls(RateLimit.perMinute(10)).streamStarts(null).build();
  private static final RateLimits THIRTY = RateLimits.builder().calls(RateLimit.perMinute(30)).streamStarts(null).build();
  private final FakeTicker ticker = new FakeTicker();
  private final InMemoryRateLimiter limiter = InMemoryRateLimiter.builder().ticker(ticker)
      .limits(TEN).limits(RateLimitKeys.CLIENT_ADDRESS, THIRTY).build();

  private int acquireAllUntilRefused(List<String> keys, int max) {
    for (int i = 0; i < max; i++) {
      if (!limiter.tryAcquireAll(keys, Operation.CHAT).allowed()) {
        return i;
      }
    }
    return max;
  }

  @Test
  void eachNamespaceHasItsOwnLimitsAndOthersTheDefaults() {
    assertThat(acquireAllUntilRefused(List.of("ip:192.0.2.1"), 100)).isEqualTo(30);
    assertThat(acquireAllUntilRefused(List.of("user:ann"), 100)).isEqualTo(10);
    assertThat(acquireAllUntilRefused(List.of("company:acme"), 100)).isEqualTo(10);
    assertThat(limiter.namespaceLimits()).isEqualTo(Map.of(RateLimitKeys.CLIENT_ADDRESS, THIRTY));
  }

  @Test
  void aCallPassesOnlyWhenEveryKeyAllowsItAndARefusalTakesNothing() {
    assertThat(acquireAllUntilRefused(List.of("ip:192.0.2.1", "user:ann"), 100)).isEqualTo(10);
    // Ann's refused calls took none of the address's 30: Bob gets the 20 left.
    assertThat(acquireAllUntilRefused(List.of("ip:192.0.2.1", "user:ann"), 50)).isZero();
    assertThat(acquireAllUntilRefused(List.of("ip:192.0.2.1", "user:bob"), 100)).isEqualTo(10);
    assertThat(acquireAllUntilRefused(List.of("ip:192.0.2.1", "user:cat"), 100)).isEqualTo(10);
    assertThat(acquireAllUntilRefused(List.of("ip:192.0.2.1", "user:dan"), 100)).isZero();
  }

  @Test
  void aRefusalNamesTheLongestWaitOfAllTheKeys() {
    InMemoryRateLimiter tight = InMemoryRateLimiter.builder().ticker(ticker)
        .limits(RateLimits.builder().calls(RateLimit.perMinute(1)).streamStarts(null).build())
        .limits(RateLimitKeys.CLIENT_ADDRESS, RateLimits.builder().calls(RateLimit.perMinute(2).withBurst(1))
            .streamStarts(RateLimit.perMinute(1)).build())
        .build();
    assertThat(tight.tryAcquireAll(List.of("ip:a", "user:u"), Operation.CHAT_STREAM).allowed()).isTrue();

    RateLimiter.Decision refused = tight.tryAcquireAll(List.of("ip:a", "user:u"), Operation.CHAT_STREAM);

    assertThat(refused.allowed()).isFalse();
    assertThat(refused.retryAfter()).isEqualTo(Duration.ofMinutes(1));
    ticker.advance(Duration.ofSeconds(30)); // the address's calls have refilled, nothing else
    assertThat(tight.tryAcquireAll(List.of("ip:a", "user:u"), Operation.CHAT).retryAfter())
        .isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void repeatedKeysCountOnceAndNoKeysAllow() {
    assertThat(acquireAllUntilRefused(List.of("user:ann", "user:ann"), 100)).isEqualTo(10);
    assertThat(limiter.tryAcquireAll(List.of(), Operation.CHAT).allowed()).isTrue();
  }

  @Test
  void concurrentCallsOverSharedKeysPassExactlyAsOften() throws Exception {
    // 8 users behind one address of 30: each user may pass 10, the address 30 in all.
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (int t = 0; t < 16; t++) {
      String user = "user:u" + (t % 8);
      tasks.add(() -> {
        int allowed = 0;
        for (int i = 0; i < 20; i++) {
          if (limiter.tryAcquireAll(List.of("ip:198.51.100.1", user), Operation.CHAT).allowed()) {
            allowed++;
          }
        }
        return allowed;
      });
    }

    int allowed = Concurrently.run(tasks).stream().mapToInt(Integer::intValue).sum();

    assertThat(allowed).isEqualTo(30);
    assertThat(acquireAllUntilRefused(List.of("ip:198.51.100.1", "user:fresh"), 100)).isZero();
    int usersLeft = 0;
    for (int u = 0; u < 8; u++) {
      usersLeft += acquireAllUntilRefused(List.of("ip:203.0.113." + u, "user:u" + u), 100);
    }
    assertThat(usersLeft).as("the users' permits taken are exactly those of the calls that passed").isEqualTo(80 - 30);
  }

  @Test
  void aNamespaceMustEndWithAColon() {
    assertThatThrownBy(() -> InMemoryRateLimiter.builder().limits("ip", TEN)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> InMemoryRateLimiter.builder().limits(":", TEN)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theDefaultDecidesKeyByKeyAndStopsAtTheFirstRefusal() {
    List<String> asked = new ArrayList<>();
    RateLimiter oneByOne = (key, operation) -> {
      asked.add(key);
      return key.startsWith("user:") ? RateLimiter.Decision.deny("calls", Duration.ofSeconds(1))
          : RateLimiter.Decision.allow();
    };

    assertThat(oneByOne.tryAcquireAll(List.of("ip:a", "user:u", "company:c"), Operation.CHAT).allowed()).isFalse();
    assertThat(asked).containsExactly("ip:a", "user:u");
  }
}
