package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.UserContext;
import dev.llmgateway.examples.gateway.ChatEventHub.Subscription;
import dev.llmgateway.examples.gateway.ChatEventHub.Subscription.Reason;
import dev.llmgateway.host.ChatEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** The example hosts' in-memory push channel, without a server. */
class ChatEventHubTest {
  private static final UserContext ANN = DemoGateway.demoUser();
  /** Bob has Ann's user id in another company: another user. */
  private static final UserContext BOB = ANN.toBuilder().companyId("789").build();

  @Test
  void eachUsersEventsReachOnlyThatUsersSubscriptionsInOrder() throws Exception {
    ChatEventHub hub = ChatEventHub.create();
    Subscription annsTab = hub.subscribe(ANN);
    Subscription annsOtherTab = hub.subscribe(ANN);
    Subscription bobsTab = hub.subscribe(BOB);
    List<ChatEvent> anns = List.of(new ChatEvent.Started("c1", "123", "456"),
        new ChatEvent.Token("c1", "123", "456", "Hel"), new ChatEvent.Token("c1", "123", "456", "lo"),
        new ChatEvent.Completed("c1", "123", "456", "sess_1", "Hello", 3));
    ChatEvent bobs = new ChatEvent.Token("c2", "123", "789", "Bob's");

    hub.publish(anns.get(0));
    hub.publish(bobs);
    anns.subList(1, anns.size()).forEach(hub::publish);

    assertThat(drain(annsTab)).containsExactlyElementsOf(anns);
    assertThat(drain(annsOtherTab)).containsExactlyElementsOf(anns);
    assertThat(drain(bobsTab)).containsExactly(bobs);
    assertThat(List.of(annsTab, annsOtherTab, bobsTab)).allSatisfy(s -> assertThat(s.isOpen()).isTrue());
  }

  @Test
  void anEventForAUserWithoutSubscriptionsGoesNowhere() throws Exception {
    ChatEventHub hub = ChatEventHub.create();
    hub.publish(new ChatEvent.Started("c1", "123", "456"));

    Subscription later = hub.subscribe(ANN);

    assertThat(later.poll(Duration.ZERO)).isNull();
    assertThat(later.isOpen()).isTrue();
  }

  @Test
  void aSubscriptionWhoseBrowserReadsTooSlowlyIsClosedAloneAndPublishingNeverWaits() throws Exception {
    ChatEventHub hub = ChatEventHub.builder().queueCapacity(2).build();
    Subscription slow = hub.subscribe(ANN);
    Subscription reading = hub.subscribe(ANN);
    List<ChatEvent> read = new ArrayList<>();

    for (int i = 0; i < 5; i++) {
      hub.publish(new ChatEvent.Token("c1", "123", "456", "t" + i)); // returns although slow reads nothing
      read.add(reading.poll(Duration.ZERO));
    }

    assertThat(slow.closed()).isCompletedWithValue(Reason.TOO_SLOW);
    assertThat(slow.isOpen()).isFalse();
    assertThat(slow.poll(Duration.ZERO)).as("what it held is dropped").isNull();
    assertThat(read).extracting(e -> ((ChatEvent.Token) e).text()).containsExactly("t0", "t1", "t2", "t3", "t4");
    assertThat(reading.isOpen()).isTrue();
    assertThat(hub.subscriptions(ANN)).containsExactly(reading);
  }

  @Test
  void aUsersSubscriptionBeyondTheLimitClosesTheirOldest() {
    ChatEventHub hub = ChatEventHub.builder().maxSubscriptionsPerUser(2).build();
    Subscription first = hub.subscribe(ANN);
    Subscription second = hub.subscribe(ANN);
    Subscription bobs = hub.subscribe(BOB);

    Subscription third = hub.subscribe(ANN);

    assertThat(first.closed()).isCompletedWithValue(Reason.REPLACED);
    assertThat(hub.subscriptions(ANN)).containsExactly(second, third);
    assertThat(hub.subscriptions(BOB)).containsExactly(bobs);
  }

  @Test
  void closingASubscriptionWakesItsWaitingReaderAndRemovesIt() throws Exception {
    ChatEventHub hub = ChatEventHub.create();
    Subscription subscription = hub.subscribe(ANN);
    CompletableFuture<Thread> reader = new CompletableFuture<>();
    CompletableFuture<@Nullable ChatEvent> polled = CompletableFuture.supplyAsync(() -> {
      reader.complete(Thread.currentThread());
      try {
        return subscription.poll(Duration.ofMinutes(10));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    Thread waiting = reader.get(20, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (waiting.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
      Thread.onSpinWait(); // until the reader waits for an event
    }

    subscription.close();

    assertThat(polled.get(20, TimeUnit.SECONDS)).isNull();
    assertThat(subscription.closed()).isCompletedWithValue(Reason.CLOSED);
    assertThat(hub.subscriptions(ANN)).isEmpty();
  }

  @Test
  void closingTheHubClosesEverySubscription() {
    ChatEventHub hub = ChatEventHub.create();
    Subscription anns = hub.subscribe(ANN);
    Subscription bobs = hub.subscribe(BOB);

    hub.close();

    assertThat(anns.closed()).isCompletedWithValue(Reason.CLOSED);
    assertThat(bobs.closed()).isCompletedWithValue(Reason.CLOSED);
    assertThat(hub.subscriptions(ANN)).isEmpty();
    assertThat(hub.subscriptions(BOB)).isEmpty();
    Subscription afterwards = hub.subscribe(ANN);
    assertThat(afterwards.closed()).as("the host is stopping").isCompletedWithValue(Reason.CLOSED);
    assertThat(hub.subscriptions(ANN)).isEmpty();
  }

  @Test
  void settingsAreCheckedAtOnceAndNamed() {
    assertThatThrownBy(() -> ChatEventHub.builder().queueCapacity(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queueCapacity");
    assertThatThrownBy(() -> ChatEventHub.builder().maxSubscriptionsPerUser(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxSubscriptionsPerUser");
    assertThatThrownBy(() -> ChatEventHub.builder().heartbeat(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("heartbeat");
    assertThatThrownBy(() -> ChatEventHub.builder().heartbeat(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("heartbeat");
    assertThat(ChatEventHub.builder().heartbeat(Duration.ofMillis(50)).build().heartbeat()).isEqualTo(Duration.ofMillis(50));
  }

  @Test
  void toStringNamesNoUser() {
    ChatEventHub hub = ChatEventHub.create();
    Subscription subscription = hub.subscribe(ANN);

    assertThat(hub.toString()).doesNotContain(ANN.userId()).doesNotContain(ANN.companyId());
    assertThat(subscription.toString()).doesNotContain(ANN.userId()).doesNotContain(ANN.companyId());
  }

  /** The events waiting, without waiting for more. */
  private static List<ChatEvent> drain(Subscription subscription) throws InterruptedException {
    List<ChatEvent> events = new ArrayList<>();
    for (ChatEvent e = subscription.poll(Duration.ZERO); e != null; e = subscription.poll(Duration.ZERO)) {
      events.add(e);
    }
    return events;
  }
}
