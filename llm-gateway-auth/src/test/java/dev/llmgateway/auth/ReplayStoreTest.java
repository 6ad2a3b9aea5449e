package dev.llmgateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.auth.internal.InMemoryReplayStore;
import dev.llmgateway.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ReplayStoreTest {
  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final Instant inOneMinute = clock.instant().plusSeconds(60);

  @Test
  void reportsTheFirstUseOnly() {
    ReplayStore store = ReplayStore.inMemory(clock, 10);

    assertThat(store.markUsed("a", inOneMinute)).isTrue();
    assertThat(store.markUsed("a", inOneMinute)).isFalse();
  }

  @Test
  void forgetsAnIdOnceItExpires() {
    ReplayStore store = ReplayStore.inMemory(clock, 10);
    store.markUsed("a", inOneMinute);
    clock.advance(Duration.ofSeconds(60));

    assertThat(store.markUsed("a", clock.instant().plusSeconds(60))).isTrue();
  }

  @Test
  void dropsExpiredIdsWhenFull() {
    InMemoryReplayStore store = (InMemoryReplayStore) ReplayStore.inMemory(clock, 2);
    store.markUsed("a", inOneMinute);
    store.markUsed("b", inOneMinute);
    clock.advance(Duration.ofMinutes(2));

    assertThat(store.markUsed("c", clock.instant().plusSeconds(60))).isTrue();
    assertThat(store.size()).isEqualTo(1);
  }

  @Test
  void failsClosedWhenFullOfLiveIds() {
    ReplayStore store = ReplayStore.inMemory(clock, 2);
    store.markUsed("a", inOneMinute);
    store.markUsed("b", inOneMinute);

    assertThatThrownBy(() -> store.markUsed("c", inOneMinute))
        .isInstanceOf(LlmGatewayException.class)
        .hasMessageContaining("maxEntries=2")
        .hasMessageNotContaining("\"c\"");
  }

  @Test
  void stillRecognisesKnownIdsWhenFull() {
    ReplayStore store = ReplayStore.inMemory(clock, 2);
    store.markUsed("a", inOneMinute);
    store.markUsed("b", inOneMinute);

    assertThat(store.markUsed("a", inOneMinute)).isFalse();
  }

  @Test
  void evictingStoreDropsTheIdsClosestToExpiryWhenFull() {
    InMemoryReplayStore store = (InMemoryReplayStore) ReplayStore.inMemoryEvicting(clock, 2);
    store.markUsed("soon", clock.instant().plusSeconds(10));
    store.markUsed("late", clock.instant().plusSeconds(600));

    assertThat(store.markUsed("new", inOneMinute)).isTrue();
    assertThat(store.size()).isEqualTo(2);
    assertThat(store.markUsed("late", inOneMinute)).isFalse();
    assertThat(store.markUsed("soon", inOneMinute)).isTrue();
  }

  @Test
  void aFullEvictingStoreDropsOnlyAboutATenthOfItsLiveIds() {
    InMemoryReplayStore store = (InMemoryReplayStore) ReplayStore.inMemoryEvicting(clock, 100);
    for (int i = 0; i < 100; i++) {
      store.markUsed("id-" + i, clock.instant().plusSeconds(100 + i)); // id-0 expires first
    }

    assertThat(store.markUsed("new", inOneMinute)).isTrue();

    // 11 dropped, the earliest to expire; every other id is still refused as a replay.
    assertThat(store.size()).isEqualTo(90);
    for (int i = 11; i < 100; i++) {
      assertThat(store.markUsed("id-" + i, inOneMinute)).as("id-" + i).isFalse();
    }
  }

  @Test
  void forgetMakesTheNextUseAFirstUse() {
    ReplayStore store = ReplayStore.inMemory(clock, 10);
    store.markUsed("a", inOneMinute);
    store.forget("a");

    assertThat(store.markUsed("a", inOneMinute)).isTrue();
  }

  @Test
  void refusesACapacityBelowOne() {
    assertThatThrownBy(() -> ReplayStore.inMemory(clock, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
