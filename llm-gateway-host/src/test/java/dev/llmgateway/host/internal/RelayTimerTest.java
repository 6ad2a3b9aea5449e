package dev.llmgateway.host.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The relays' shared timer: a ping its timer hands on runs on a helper thread, so a blocked one delays no timer. */
class RelayTimerTest {
  @Test
  void aPingBlockedOnABrowserHoldsUpNoOtherRelaysTimer() throws Exception {
    CountDownLatch pingWriting = new CountDownLatch(1);
    CountDownLatch browserReads = new CountDownLatch(1);
    AtomicReference<Thread> pingThread = new AtomicReference<>();
    Runnable blockedPing = () -> {
      pingThread.set(Thread.currentThread());
      pingWriting.countDown();
      try {
        browserReads.await(30, TimeUnit.SECONDS); // a write to a browser that stopped reading
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    try {
      RelayTimer.SCHEDULER.schedule(Duration.ofMillis(1).toNanos(), () -> RelayTimer.SCHEDULER.execute(blockedPing));
      assertThat(pingWriting.await(10, TimeUnit.SECONDS)).as("the ping started").isTrue();

      CountDownLatch otherTimer = new CountDownLatch(1);
      RelayTimer.SCHEDULER.schedule(Duration.ofMillis(1).toNanos(), otherTimer::countDown);

      assertThat(otherTimer.await(10, TimeUnit.SECONDS)).as("another relay's timer fires meanwhile").isTrue();
      assertThat(pingThread.get().getName()).startsWith("llm-gateway-relay-heartbeat-");
      assertThat(pingThread.get().isDaemon()).isTrue();
    } finally {
      browserReads.countDown();
    }
  }
}
