package dev.llmgateway.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs tasks on as many threads, released at the same instant once all have started, and collects
 * their results: the tests' way to make concurrent calls really overlap.
 */
public final class Concurrently {
  /** How long the threads may take to start, and the pool to stop. */
  private static final long START_SECONDS = 10;
  /** How long each task may take once released (a liveness bound, not a speed). */
  private static final long TASK_SECONDS = 30;

  private Concurrently() {}

  /**
   * Runs every task on its own thread, all released together, and waits for them.
   *
   * @param tasks the tasks
   * @param <T> what a task returns
   * @return the tasks' results, in the order of {@code tasks}
   * @throws Exception the first task's failure (wrapped in an {@link java.util.concurrent.ExecutionException}),
   *     or an {@link AssertionError} if the threads do not start or a task does not end in time
   */
  public static <T> List<T> run(List<Callable<T>> tasks) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
    List<T> results = new ArrayList<>();
    boolean stopped = false;
    try {
      CountDownLatch ready = new CountDownLatch(tasks.size());
      CountDownLatch go = new CountDownLatch(1);
      List<Future<T>> futures = new ArrayList<>();
      for (Callable<T> task : tasks) {
        futures.add(pool.submit(() -> {
          ready.countDown();
          go.await();
          return task.call();
        }));
      }
      if (!ready.await(START_SECONDS, TimeUnit.SECONDS)) {
        throw new AssertionError("not all " + tasks.size() + " threads started");
      }
      go.countDown();
      for (Future<T> future : futures) {
        results.add(future.get(TASK_SECONDS, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
      stopped = pool.awaitTermination(START_SECONDS, TimeUnit.SECONDS);
    }
    if (!stopped) {
      throw new AssertionError("the tasks' threads did not stop");
    }
    return results;
  }
}
