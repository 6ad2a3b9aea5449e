package dev.llmgateway.interop;

import dev.llmgateway.Sleeper;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link Sleeper} that returns at once and records every wait the client asked for. */
final class RecordingSleeper implements Sleeper {
  private final List<Duration> waits = new CopyOnWriteArrayList<>();

  @Override
  public void sleep(Duration duration) {
    waits.add(duration);
  }

  @Override
  public CompletionStage<Void> delay(Duration duration) {
    waits.add(duration);
    return CompletableFuture.completedFuture(null);
  }

  List<Duration> waits() {
    return List.copyOf(waits);
  }
}
