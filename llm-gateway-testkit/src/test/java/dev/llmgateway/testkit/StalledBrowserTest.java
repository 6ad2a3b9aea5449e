package dev.llmgateway.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StalledBrowserTest {
  @Test
  void aWriteLargerThanTheBuffersBlocksUntilTheBrowserIsClosedThenFails() throws Exception {
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try (StalledBrowser browser = StalledBrowser.connect()) {
      byte[] sixteenMib = new byte[16 << 20]; // far more than any socket buffer: it can never all be sent
      Future<?> write = executor.submit(() -> {
        browser.body().write(sixteenMib);
        return null;
      });
      assertThat(write.isDone()).as("nobody reads: the write cannot complete").isFalse();

      browser.close();

      assertThatThrownBy(() -> write.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(IOException.class);
      assertThat(browser.writing()).isFalse();
      assertThat(browser.writesReturned()).isEqualTo(1);
    } finally {
      executor.shutdownNow();
    }
  }
}
