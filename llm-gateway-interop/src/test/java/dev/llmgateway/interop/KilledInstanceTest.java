package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.testkit.SseResponses;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import org.junit.jupiter.api.Test;

/**
 * A host instance killed mid-stream ({@code kill -9} of a child JVM, issue 14's "What the tests
 * must show" 2): its reservation outlives it in PostgreSQL and is released by the other instances'
 * reapers after the lease, exactly once, and nothing else changes.
 */
class KilledInstanceTest extends SystemTest {
  private static final UserContext BOB = UserContext.builder().userId("bob").companyId("c1").role("recruiter").build();
  private static final String FIRST_EVENT =
      "data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_2\"}\n\n";

  private final CountDownLatch releaseStream = new CountDownLatch(1);
  private Process child;

  @Override
  Dispatcher upstreamDispatcher() {
    return Upstream.dispatching(request -> request.getUrl().encodedPath().endsWith("/stream")
        ? SseResponses.stalled(FIRST_EVENT, releaseStream)
        : Upstream.chat());
  }

  @Override
  void beforeClosing() throws InterruptedException {
    if (child != null) {
      child.destroyForcibly();
      child.waitFor(30, TimeUnit.SECONDS);
    }
    releaseStream.countDown();
  }

  @Test
  void theReservationOfAnInstanceKilledMidStreamIsReleasedOnceByTheOthersReapersAfterTheLease() throws Exception {
    stores.deposit("ada", 100);
    stores.deposit("bob", 100);
    MutableClock clock = MutableClock.at(Instant.now().toString());
    List<HostInstance> reapers = stores.instances(2, url(), s -> s.clock = clock);

    child = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
        "-cp", System.getProperty("java.class.path"), StreamingHostMain.class.getName(),
        stores.jdbcUrl(), url(), "ada")
        .redirectErrorStream(true).start();
    List<String> output = new CopyOnWriteArrayList<>();
    CompletableFuture<Boolean> streaming = CompletableFuture.supplyAsync(() -> {
      try (BufferedReader lines = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          output.add(line);
          if (line.equals(StreamingHostMain.STREAMING)) {
            return true;
          }
        }
        return false;
      } catch (IOException e) {
        return false;
      }
    });
    assertThat(streaming.get(60, TimeUnit.SECONDS)).as("the child streamed; its output: %s", output).isTrue();
    assertThat(stores.held("ada")).as("the child's reservation").isEqualTo(HostInstance.PRICE);

    child.destroyForcibly(); // SIGKILL: no shutdown hook, no settlement
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    child = null;

    clock.advance(Duration.ofMinutes(16)); // past the child's 15-minute lease (its own clock is the system's)
    // Other state, which the reapers must leave alone: an open reservation of the other instances
    // (its lease not over), and a settled chat.
    Reservation open = reapers.get(0).ledger.reserve(BOB, Operation.CHAT, 20, "bob-open");
    reapers.get(1).gateway.chat(BOB, ChatRequest.of("hi"));
    List<String> before = stores.rows();
    long adaBefore = stores.available("ada");

    List<Callable<?>> reapersRun = new ArrayList<>();
    for (HostInstance reaper : reapers) {
      reapersRun.add(reaper.ledger::releaseExpired);
    }
    List<Object> released = Upstream.concurrently(reapersRun);

    assertThat(released).containsExactlyInAnyOrder(0, 1);
    List<Reservation> expired = new ArrayList<>(reapers.get(0).expired);
    expired.addAll(reapers.get(1).expired);
    assertThat(expired).singleElement().satisfies(r -> {
      assertThat(r.user().userId()).isEqualTo("ada");
      assertThat(r.credits()).isEqualTo(HostInstance.PRICE);
    });
    assertThat(stores.available("ada")).isEqualTo(adaBefore + HostInstance.PRICE).isEqualTo(100);
    assertThat(stores.held("ada")).isZero();
    List<String> after = stores.rows();
    String killedId = expired.get(0).id().toString();
    assertThat(changed(before, after)).as("rows that changed")
        .hasSize(2)
        .anySatisfy(row -> assertThat(row).startsWith("account=ada "))
        .anySatisfy(row -> assertThat(row).startsWith("id=" + killedId).contains("state=RELEASED"));
    assertThat(reapers.get(0).ledger.findByRequestId("bob-open")).contains(open);
    // A second run, on either instance, finds nothing more.
    assertThat(reapers.get(0).ledger.releaseExpired()).isZero();
    assertThat(reapers.get(1).ledger.releaseExpired()).isZero();
  }

  /** The rows of {@code after} that are not in {@code before}, having the same number of rows. */
  private static List<String> changed(List<String> before, List<String> after) {
    assertThat(after).as("no row added or removed").hasSameSizeAs(before);
    return after.stream().filter(row -> !before.contains(row)).toList();
  }
}
