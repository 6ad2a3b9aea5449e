package dev.llmgateway.sandbox.internal;

import static dev.llmgateway.sandbox.internal.SandboxFixture.CHAT;
import static dev.llmgateway.sandbox.internal.SandboxFixture.SESSIONS;
import static dev.llmgateway.sandbox.internal.SandboxFixture.as;
import static dev.llmgateway.sandbox.internal.SandboxFixture.body;
import static dev.llmgateway.sandbox.internal.SandboxFixture.chatBody;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.llmgateway.sandbox.internal.SandboxFixture.Result;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okhttp3.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SandboxConcurrencyTest {
  private static final int THREADS = 16;
  private static final int CHATS_PER_THREAD = 50;
  private static final int CHATS_PER_SESSION = 5;

  private final SandboxFixture sandbox = new SandboxFixture();
  private final ExecutorService executor = Executors.newFixedThreadPool(THREADS);

  @AfterEach
  void shutDown() throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void manyUsersChattingAtOnceAllSucceedWithConsistentSessions() throws Exception {
    List<List<String>> messageIds =
        runAll(
            thread -> {
              String user = "user-" + thread;
              List<String> ids = new ArrayList<>();
              String sessionId = null;
              for (int i = 0; i < CHATS_PER_THREAD; i++) {
                String json =
                    i % CHATS_PER_SESSION == 0
                        ? chatBody("Find engineers batch " + i)
                        : chatBody("Shortlist number " + i, "session_id", sessionId);
                Result result = sandbox.chat(user, json);
                assertThat(result.code()).as(result.body()).isEqualTo(200);
                sessionId = result.json().get("session_id").asText();
                ids.add(result.json().get("message_id").asText());
              }
              return ids;
            });

    Set<String> allMessageIds = new HashSet<>();
    messageIds.forEach(allMessageIds::addAll);
    assertThat(allMessageIds).hasSize(THREADS * CHATS_PER_THREAD);

    Set<String> allSessionIds = new HashSet<>();
    for (int thread = 0; thread < THREADS; thread++) {
      String user = "user-" + thread;
      JsonNode sessions = sandbox.get(user, SESSIONS + "?limit=100").json().get("sessions");
      assertThat(sessions).hasSize(CHATS_PER_THREAD / CHATS_PER_SESSION);
      for (JsonNode summary : sessions) {
        allSessionIds.add(summary.get("session_id").asText());
        assertThat(summary.get("message_count").asInt()).isEqualTo(2 * CHATS_PER_SESSION);
        JsonNode messages = sandbox.get(user, SESSIONS + "/" + summary.get("session_id").asText()).json().get("messages");
        for (int m = 0; m < messages.size(); m++) {
          assertThat(messages.get(m).get("role").asText()).isEqualTo(m % 2 == 0 ? "user" : "assistant");
        }
      }
    }
    assertThat(allSessionIds).hasSize(THREADS * CHATS_PER_THREAD / CHATS_PER_SESSION);
  }

  @Test
  void concurrentRetriesWithOneIdempotencyKeyCreateOneTurn() throws Exception {
    Request request =
        as("u1").url(CHAT).header("Idempotency-Key", "shared").post(body(chatBody("Find engineers"))).build();

    List<Result> results = runAll(thread -> sandbox.call(request));

    Set<String> successBodies = new HashSet<>();
    for (Result result : results) {
      assertThat(result.code()).isIn(200, 409);
      if (result.code() == 200) {
        successBodies.add(result.body());
      }
    }
    assertThat(successBodies).hasSize(1);
    JsonNode sessions = sandbox.get("u1", SESSIONS).json().get("sessions");
    assertThat(sessions).hasSize(1);
    assertThat(sessions.get(0).get("message_count").asInt()).isEqualTo(2);
  }

  @Test
  void concurrentMessagesToOneSessionEitherLandWholeOrAreRefusedAsBusy() throws Exception {
    String sessionId = sandbox.chat("u1", chatBody("start")).json().get("session_id").asText();

    List<Integer> codes = runAll(thread -> sandbox.chat("u1", chatBody("more " + thread, "session_id", sessionId)).code());

    assertThat(codes).allMatch(code -> code == 200 || code == 409);
    long accepted = codes.stream().filter(code -> code == 200).count();
    JsonNode session = sandbox.get("u1", SESSIONS + "/" + sessionId).json();
    assertThat(session.get("message_count").asInt()).isEqualTo(2 + 2 * (int) accepted);
    JsonNode messages = session.get("messages");
    for (int m = 0; m < messages.size(); m++) {
      assertThat(messages.get(m).get("role").asText()).isEqualTo(m % 2 == 0 ? "user" : "assistant");
    }
  }

  /** A task run by each of the {@value #THREADS} threads, given the thread's number. */
  private interface Task<T> {
    T run(int thread) throws Exception;
  }

  /** Starts {@value #THREADS} copies of {@code task} together behind a latch and collects results. */
  private <T> List<T> runAll(Task<T> task) throws Exception {
    CountDownLatch ready = new CountDownLatch(THREADS);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<T>> futures = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      Callable<T> callable =
          () -> {
            ready.countDown();
            assertThat(start.await(10, TimeUnit.SECONDS)).isTrue();
            return task.run(thread);
          };
      futures.add(executor.submit(callable));
    }
    assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
    start.countDown();
    List<T> results = new ArrayList<>();
    for (Future<T> future : futures) {
      results.add(future.get(60, TimeUnit.SECONDS));
    }
    return results;
  }
}
