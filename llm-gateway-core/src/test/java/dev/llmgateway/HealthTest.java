package dev.llmgateway;

import static dev.llmgateway.TestSupport.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HealthTest extends MockServerTest {
  private static final String OK = "{\"status\":\"ok\"}";
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stopThreads() {
    threads.shutdownNow();
  }

  @Test
  void upWhenTheServiceAnswersStatusOkWithoutSendingCredentials() throws Exception {
    server.enqueue(TestSupport.json(200, OK));

    ServiceHealth health = client.health();

    assertThat(health.up()).isTrue();
    assertThat(health.reason()).isNull();
    RecordedRequest request = server.takeRequest();
    assertThat(request.getMethod()).isEqualTo("GET");
    assertThat(request.getUrl().encodedPath()).isEqualTo("/health");
    assertThat(request.getHeaders().get("X-Service-Token")).isNull();
    assertThat(request.getHeaders().get("Authorization")).isNull();
  }

  @Test
  void healthIsResolvedUnderTheBaseUrlsPath() throws Exception {
    useClient(clientBuilder().baseUrl(server.url("/llm/").toString()));
    server.enqueue(TestSupport.json(200, OK));

    assertThat(client.health().up()).isTrue();
    assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/llm/health");
  }

  @Test
  void anAnswerIsReusedUntilTheCacheTimeHasPassed() {
    useClient(clientBuilder().healthCacheTtl(Duration.ofSeconds(5)));
    server.enqueue(TestSupport.json(200, OK));
    server.enqueue(TestSupport.json(503, "{\"detail\":\"overloaded\"}"));

    ServiceHealth first = client.health();
    time.advance(Duration.ofMillis(4999));
    ServiceHealth second = client.health();

    assertThat(second).isSameAs(first);
    assertThat(server.getRequestCount()).isEqualTo(1);

    time.advance(Duration.ofMillis(1));
    ServiceHealth third = client.health();

    assertThat(third.up()).isFalse();
    assertThat(third.reason()).isEqualTo("HTTP 503");
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void aDownAnswerIsCachedToo() {
    server.enqueue(TestSupport.json(502, "<html>bad gateway</html>"));

    ServiceHealth first = client.health();
    ServiceHealth second = client.health();

    assertThat(first.up()).isFalse();
    assertThat(second).isSameAs(first);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aZeroCacheTimeProbesOnEveryCall() {
    useClient(clientBuilder().healthCacheTtl(Duration.ZERO));
    server.enqueue(TestSupport.json(200, OK));
    server.enqueue(TestSupport.json(200, OK));

    client.health();
    client.health();

    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void serverErrorsAreDownWithTheStatusAsReason() {
    server.enqueue(TestSupport.json(500, "{\"detail\":\"Traceback: secret stuff\"}"));

    ServiceHealth health = client.health();

    assertThat(health.up()).isFalse();
    assertThat(health.reason()).isEqualTo("HTTP 500");
  }

  @Test
  void aBodyThatIsNotJsonIsDown() {
    server.enqueue(new MockResponse.Builder().code(200).body("<html>welcome to nginx</html>").build());

    ServiceHealth health = client.health();

    assertThat(health.up()).isFalse();
    assertThat(health.reason()).isEqualTo("HTTP 200 with a body that is not JSON");
  }

  @Test
  void aStatusOtherThanOkIsDown() {
    server.enqueue(TestSupport.json(200, "{\"status\":\"degraded\"}"));

    ServiceHealth health = client.health();

    assertThat(health.up()).isFalse();
    assertThat(health.reason()).isEqualTo("HTTP 200 with a status other than ok");
  }

  @Test
  void aJsonBodyWithoutStatusIsDown() {
    server.enqueue(TestSupport.json(200, "[\"ok\"]"));

    assertThat(client.health().reason()).isEqualTo("HTTP 200 without a status");
  }

  @Test
  void anUnreachableServiceIsDownNotAnException() throws Exception {
    useClient(clientBuilder().baseUrl(TestSupport.refusingUrl()));

    ServiceHealth health = client.health();

    assertThat(health.up()).isFalse();
    assertThat(health.reason()).isEqualTo("connection refused");
  }

  @Test
  void aStalledServiceIsDownOnceTheHealthTimeoutRunsOut() {
    useClient(clientBuilder().healthTimeout(Duration.ofMillis(200)));
    server.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build());

    ServiceHealth health = client.health();

    assertThat(health.up()).isFalse();
    assertThat(health.reason()).isEqualTo("no answer within 200 ms");
  }

  @Test
  void concurrentCallersShareOneProbe() throws Exception {
    useClient(clientBuilder().healthTimeout(Duration.ofSeconds(30)));
    CountDownLatch arrived = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    holdRequests(arrived, release);
    Future<ServiceHealth> leader = threads.submit(client::health);
    assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
    List<Thread> followerThreads = new ArrayList<>();
    List<Future<ServiceHealth>> followers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      followers.add(threads.submit(() -> {
        synchronized (followerThreads) {
          followerThreads.add(Thread.currentThread());
        }
        return client.health();
      }));
    }
    awaitAllWaiting(followerThreads, 8);

    release.countDown();

    ServiceHealth shared = leader.get(10, TimeUnit.SECONDS);
    assertThat(shared.up()).isTrue();
    for (Future<ServiceHealth> follower : followers) {
      assertThat(follower.get(10, TimeUnit.SECONDS)).isSameAs(shared);
    }
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aCallerJoiningAStalledProbeWaitsNoLongerThanTheHealthTimeout() throws Exception {
    useClient(clientBuilder().healthTimeout(Duration.ofMillis(300)));
    CountDownLatch arrived = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    holdRequests(arrived, release);
    try {
      Future<ServiceHealth> leader = threads.submit(client::health);
      assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

      ServiceHealth follower = client.health();

      assertThat(follower.up()).isFalse();
      assertThat(follower.reason()).isEqualTo("no answer within 300 ms");
      assertThat(leader.get(10, TimeUnit.SECONDS).reason()).isEqualTo("no answer within 300 ms");
      assertThat(server.getRequestCount()).isEqualTo(1);
    } finally {
      release.countDown();
    }
  }

  @Test
  void aClosedClientRefusesTheProbe() {
    client.close();

    assertThatThrownBy(client::health).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theSettingsAreCheckedAndKeptByNewBuilder() {
    assertThatThrownBy(() -> LlmGatewayClient.builder().healthTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("healthTimeout");
    assertThatThrownBy(() -> LlmGatewayClient.builder().healthCacheTtl(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("healthCacheTtl");
    useClient(clientBuilder().healthCacheTtl(Duration.ZERO));
    server.enqueue(TestSupport.json(200, OK));
    server.enqueue(TestSupport.json(200, OK));
    try (LlmGatewayClient derived = client.newBuilder().build()) {
      derived.health();
      derived.health();
    }
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void aReasonNeverHoldsTheServiceToken() {
    server.enqueue(TestSupport.json(200, "{\"status\":\"" + TOKEN + "\"}"));

    assertThat(client.health().reason()).doesNotContain(TOKEN);
  }

  /** Every request waits at the server until {@code release}; {@code arrived} counts down as one arrives. */
  private void holdRequests(CountDownLatch arrived, CountDownLatch release) {
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        arrived.countDown();
        release.await(30, TimeUnit.SECONDS);
        return TestSupport.json(200, OK);
      }
    });
  }

  /** Liveness: every follower has joined the probe (parked in its bounded wait). */
  private static void awaitAllWaiting(List<Thread> followers, int count) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      synchronized (followers) {
        if (followers.size() == count && followers.stream().allMatch(t -> t.getState() == Thread.State.TIMED_WAITING)) {
          return;
        }
      }
      assertThat(System.nanoTime()).as("followers joined in time").isLessThan(deadline);
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }
}
