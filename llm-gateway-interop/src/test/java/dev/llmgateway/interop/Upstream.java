package dev.llmgateway.interop;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

/** The system tests' upstream: a MockWebServer answering every chat, and running tasks all at once. */
final class Upstream {
  static final String CHAT = "{\"session_id\":\"s\",\"message_id\":\"m\",\"intent\":\"chat\",\"answer\":\"ok\","
      + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}";

  private Upstream() {}

  /** How the upstream answers one request. */
  @FunctionalInterface
  interface Answer {
    MockResponse answer(RecordedRequest request) throws InterruptedException;
  }

  /** A dispatcher answering every request with {@code answer}. */
  static Dispatcher dispatching(Answer answer) {
    return new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        return answer.answer(request);
      }
    };
  }

  /** Answers every request with a chat answer (count them with {@code getRequestCount()}). */
  static Dispatcher answeringEveryChat() {
    return dispatching(request -> chat());
  }

  /** A chat answer (CONTRACT section 3) with 1000 prompt and 1000 completion tokens. */
  static MockResponse chat() {
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json").body(CHAT).build();
  }

  /**
   * Runs the tasks on their own threads, all released at once by one latch, and returns what each
   * returned or threw, in order.
   */
  static List<Object> concurrently(List<Callable<?>> tasks) throws Exception {
    ExecutorService executor = Executors.newFixedThreadPool(tasks.size());
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Object>> futures = new ArrayList<>();
      for (Callable<?> task : tasks) {
        futures.add(executor.submit(() -> {
          start.await();
          try {
            return task.call();
          } catch (RuntimeException e) {
            return e;
          }
        }));
      }
      start.countDown();
      List<Object> results = new ArrayList<>();
      for (Future<Object> future : futures) {
        results.add(future.get(60, TimeUnit.SECONDS));
      }
      return results;
    } finally {
      executor.shutdownNow();
      executor.awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
