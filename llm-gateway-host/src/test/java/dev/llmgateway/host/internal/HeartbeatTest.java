package dev.llmgateway.host.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.sse.ServerSentEvent;
import dev.llmgateway.sse.SseWriter;
import dev.llmgateway.testkit.LeavingBrowser;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The relay heartbeat's timing and threads, on a fake clock and scheduler: timers fire exactly when
 * due, helper tasks run when the test says.
 */
class HeartbeatTest {
  private static final Duration INTERVAL = Duration.ofSeconds(2);
  private static final long INTERVAL_NANOS = INTERVAL.toNanos();

  private final FakeScheduler scheduler = new FakeScheduler();
  private final WriteLog browser = new WriteLog(scheduler);
  private final SseWriter writer = SseWriter.create(browser);
  private final AtomicInteger failures = new AtomicInteger();

  private Heartbeat start() {
    return Heartbeat.start(writer, INTERVAL, scheduler, failures::incrementAndGet);
  }

  private void event(Heartbeat heartbeat) throws IOException {
    writer.write(ServerSentEvent.of("token"));
    heartbeat.wrote();
  }

  @Test
  void noSilenceExceedsTheIntervalWhateverTheEventsTiming() throws IOException {
    Random random = new Random(42);
    Heartbeat heartbeat = start();
    long end = 600 * 1_000_000_000L;
    while (scheduler.now < end) {
      // Gaps from nothing to 2.5 intervals, so events land at every phase of the timer.
      scheduler.advanceBy((long) (random.nextDouble() * 2.5 * INTERVAL_NANOS));
      event(heartbeat);
    }
    scheduler.advanceBy(5 * INTERVAL_NANOS);
    heartbeat.stop();

    assertThat(browser.pings()).as("pings were needed").isGreaterThan(100);
    long last = 0;
    for (WriteLog.Write write : browser.writes) {
      assertThat(write.at() - last).as("silence before the write at %d ns", write.at()).isLessThanOrEqualTo(INTERVAL_NANOS);
      if (write.ping()) {
        assertThat(write.at() - last).as("a ping goes out when the silence reaches the interval, not before")
            .isEqualTo(INTERVAL_NANOS);
      }
      last = write.at();
    }
  }

  @Test
  void eventsDoNotRescheduleTheTimer() throws IOException {
    Heartbeat heartbeat = start();
    for (int i = 0; i < 10_000; i++) {
      scheduler.advanceBy(100_000); // 10,000 events in one second: less than an interval
      event(heartbeat);
    }
    assertThat(scheduler.scheduled).as("only the first arming; events touch no timer").isEqualTo(1);

    scheduler.advanceBy(INTERVAL_NANOS / 2); // to the first tick, an interval after the start
    assertThat(scheduler.scheduled).as("the early tick re-armed for the end of the silence").isEqualTo(2);
    assertThat(browser.pings()).isZero();
    heartbeat.stop();
  }

  @Test
  void theTimerNeverWritesAndAtMostOnePingPerRelayIsInFlight() {
    scheduler.holdHelpers = true;
    Heartbeat heartbeat = start();

    scheduler.advanceBy(10 * INTERVAL_NANOS);

    assertThat(browser.writes).as("the timer only hands the ping on").isEmpty();
    assertThat(scheduler.helpers).as("one ping in flight; no timer armed behind it").hasSize(1);
    assertThat(scheduler.pendingTimers()).isZero();

    scheduler.runHelpers();
    assertThat(browser.pings()).isEqualTo(1);
    assertThat(scheduler.pendingTimers()).as("the ping re-armed the timer").isEqualTo(1);
    heartbeat.stop();
  }

  @Test
  void stopCancelsTheTimerAndAPingHandedOnBeforeItWritesNothing() {
    scheduler.holdHelpers = true;
    Heartbeat heartbeat = start();
    scheduler.advanceBy(INTERVAL_NANOS);
    assertThat(scheduler.helpers).hasSize(1);

    heartbeat.stop();
    scheduler.runHelpers();
    scheduler.advanceBy(10 * INTERVAL_NANOS);

    assertThat(browser.writes).isEmpty();
    assertThat(scheduler.pendingTimers()).isZero();
  }

  @Test
  void aPingThatFailsReportsTheBrowserGoneOnceAndStops() throws IOException {
    LeavingBrowser gone = LeavingBrowser.afterWrites(0);
    Heartbeat heartbeat = Heartbeat.start(SseWriter.create(gone), INTERVAL, scheduler, failures::incrementAndGet);

    scheduler.advanceBy(10 * INTERVAL_NANOS);

    assertThat(failures.get()).isEqualTo(1);
    assertThat(heartbeat.failure()).hasMessage("Broken pipe");
    assertThat(scheduler.pendingTimers()).as("no ping after the browser has gone").isZero();
    heartbeat.stop();
  }

  /** Timers fire exactly when due on a fake clock; helper tasks run at once unless held. */
  private static final class FakeScheduler implements Heartbeat.Scheduler {
    long now = 1_000_000_000L;
    int scheduled;
    boolean holdHelpers;
    final List<Timer> timers = new ArrayList<>();
    final Deque<Runnable> helpers = new ArrayDeque<>();

    record Timer(long due, Runnable task, CompletableFuture<Void> future) {}

    @Override
    public long nanoTime() {
      return now;
    }

    @Override
    public Future<?> schedule(long delayNanos, Runnable task) {
      assertThat(delayNanos).as("a timer armed for the past").isPositive();
      scheduled++;
      Timer timer = new Timer(now + delayNanos, task, new CompletableFuture<>());
      timers.add(timer);
      return timer.future();
    }

    @Override
    public void execute(Runnable task) {
      helpers.add(task);
      if (!holdHelpers) {
        runHelpers();
      }
    }

    void runHelpers() {
      for (Runnable task = helpers.poll(); task != null; task = helpers.poll()) {
        task.run();
      }
    }

    int pendingTimers() {
      timers.removeIf(t -> t.future().isCancelled());
      return timers.size();
    }

    /** Moves the clock on, firing each timer due on the way at its exact time. */
    void advanceBy(long nanos) {
      long until = now + nanos;
      while (true) {
        pendingTimers();
        Timer next = timers.stream().filter(t -> t.due() <= until).min((a, b) -> Long.compare(a.due(), b.due()))
            .orElse(null);
        if (next == null) {
          break;
        }
        timers.remove(next);
        now = next.due();
        next.task().run();
      }
      now = until;
    }
  }

  /** When each write reached the browser, and whether it was a ping. */
  private static final class WriteLog extends OutputStream {
    record Write(long at, boolean ping) {}

    final List<Write> writes = new ArrayList<>();
    private final FakeScheduler clock;
    private final long startedAt;

    WriteLog(FakeScheduler clock) {
      this.clock = clock;
      this.startedAt = clock.now;
    }

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      String text = new String(b, off, len, java.nio.charset.StandardCharsets.UTF_8);
      writes.add(new Write(clock.now - startedAt, text.equals(": " + Heartbeat.PING + "\n")));
    }

    long pings() {
      return writes.stream().filter(Write::ping).count();
    }
  }
}
