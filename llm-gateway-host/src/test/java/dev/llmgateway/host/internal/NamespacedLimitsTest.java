package dev.llmgateway.host.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimiter.Decision;
import dev.llmgateway.host.RateLimits;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What both rate limiters (in memory, Redis) take from {@link NamespacedLimits}. */
class NamespacedLimitsTest {
  private static final RateLimits DEFAULTS = RateLimits.ofDefaults();
  private static final RateLimits IP = RateLimits.builder().calls(RateLimit.perMinute(1)).build();
  private static final RateLimits OFFICE_IP = RateLimits.builder().calls(RateLimit.perMinute(2)).build();

  @Test
  void aKeyTakesTheLimitsOfTheLongestNamespaceItStartsWithElseTheDefaults() {
    Map<String, RateLimits> namespaces = new LinkedHashMap<>();
    namespaces.put("ip:", IP); // the shorter one first: the order given must not decide
    namespaces.put("ip:10.", OFFICE_IP);

    NamespacedLimits<RateLimits> limits = new NamespacedLimits<>(DEFAULTS, namespaces, l -> l);

    assertThat(limits.forKey("ip:10.0.0.1")).isSameAs(OFFICE_IP);
    assertThat(limits.forKey("ip:192.0.2.1")).isSameAs(IP);
    assertThat(limits.forKey("user:123")).isSameAs(DEFAULTS);
    assertThat(limits.forKey("ip")).isSameAs(DEFAULTS);
    assertThat(limits.limits()).isSameAs(DEFAULTS);
    assertThat(limits.namespaceLimits()).containsExactly(Map.entry("ip:", IP), Map.entry("ip:10.", OFFICE_IP));
    assertThat(limits.toString()).startsWith(DEFAULTS.toString()).contains("namespaces=", "ip:10.");
    assertThat(new NamespacedLimits<>(DEFAULTS, Map.of(), l -> l).toString()).isEqualTo(DEFAULTS.toString());
  }

  @Test
  void theLimitsAreCompiledOncePerNamespaceAndTheMapIsACopy() {
    Map<String, RateLimits> namespaces = new LinkedHashMap<>();
    namespaces.put("ip:", IP);
    int[] compiled = {0};

    NamespacedLimits<Object> limits = new NamespacedLimits<>(DEFAULTS, namespaces, l -> {
      compiled[0]++;
      return new Object();
    });
    namespaces.put("company:", IP);

    assertThat(compiled[0]).isEqualTo(2);
    assertThat(limits.forKey("ip:1")).isSameAs(limits.forKey("ip:2")).isNotSameAs(limits.forKey("user:1"));
    assertThat(limits.namespaceLimits()).containsOnlyKeys("ip:");
    assertThatThrownBy(() -> limits.namespaceLimits().clear()).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void aNamespaceMustEndWithAColonAndHaveAName() {
    assertThat(NamespacedLimits.checkNamespace("ip:")).isEqualTo("ip:");
    assertThatThrownBy(() -> NamespacedLimits.checkNamespace(":"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("namespace");
    assertThatThrownBy(() -> NamespacedLimits.checkNamespace("ip"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("namespace");
  }

  @Test
  void theBucketThatWaitsLongerRefusesAndStreamStartsOnATie() {
    assertThat(NamespacedLimits.refusal(0, 0)).isNull();
    assertThat(NamespacedLimits.refusal(-5, 0)).isNull();
    assertThat(NamespacedLimits.refusal(7, 0)).isEqualTo(Decision.deny(RateLimits.CALLS, Duration.ofNanos(7)));
    assertThat(NamespacedLimits.refusal(0, 7)).isEqualTo(Decision.deny(RateLimits.STREAM_STARTS, Duration.ofNanos(7)));
    assertThat(NamespacedLimits.refusal(9, 7)).isEqualTo(Decision.deny(RateLimits.CALLS, Duration.ofNanos(9)));
    assertThat(NamespacedLimits.refusal(7, 7)).isEqualTo(Decision.deny(RateLimits.STREAM_STARTS, Duration.ofNanos(7)));
  }

  @Test
  void overSeveralKeysTheLongestWaitRefusesAndTheFirstOnATie() {
    Decision first = Decision.deny(RateLimits.CALLS, Duration.ofSeconds(2));
    Decision sameWait = Decision.deny(RateLimits.STREAM_STARTS, Duration.ofSeconds(2));
    Decision longer = Decision.deny(RateLimits.CALLS, Duration.ofSeconds(3));

    assertThat(NamespacedLimits.longer(null, null)).isNull();
    assertThat(NamespacedLimits.longer(null, first)).isSameAs(first);
    assertThat(NamespacedLimits.longer(first, null)).isSameAs(first);
    assertThat(NamespacedLimits.longer(first, sameWait)).isSameAs(first);
    assertThat(NamespacedLimits.longer(first, longer)).isSameAs(longer);
    assertThat(NamespacedLimits.longer(longer, first)).isSameAs(longer);
  }
}
