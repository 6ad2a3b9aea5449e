package dev.llmgateway.interop;

import static dev.llmgateway.interop.Fixtures.ADA;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static dev.llmgateway.interop.Fixtures.thrown;
import static dev.llmgateway.interop.Fixtures.withFault;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.CallCancelledException;
import dev.llmgateway.CallTimeoutException;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.StreamHandle;
import dev.llmgateway.StreamOptions;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A stream the client gives up on must end on the service too: the SDK has to drop the connection. */
@InteropTest
class StreamCancellationInteropTest extends ClientInteropTest {
  private static final String SLOW_QUERY = withFault(SEARCH_QUERY, "delay_ms=100");

  StreamCancellationInteropTest(ReferenceService service) {
    super(service);
  }

  @Test
  void aStreamReadToItsEndEndsAsCompletedOnTheService() {
    String requestId;
    try (ChatStream stream = client.chatStream(ChatRequest.of(SEARCH_QUERY), ADA)) {
      stream.text();
      requestId = stream.requestId();
    }

    assertThat(service.streamEnd(requestId).outcome()).isEqualTo("completed");
  }

  @Test
  void closingAStreamEarlyCancelsItOnTheService() {
    String requestId;
    try (ChatStream stream = client.chatStream(ChatRequest.of(SLOW_QUERY), ADA)) {
      Iterator<String> tokens = stream.tokens().iterator();
      tokens.next();
      tokens.next();
      requestId = stream.requestId();
    }

    ReferenceService.StreamEnd end = service.streamEnd(requestId);
    assertThat(end.outcome()).isEqualTo("cancelled");
    assertThat(end.tokensSent()).isLessThan(10);
  }

  @Test
  void cancellingACallbackStreamFromItsListenerCancelsItOnTheService() throws Exception {
    CompletableFuture<StreamHandle> self = new CompletableFuture<>();
    StreamInteropTest.RecordingListener listener = new StreamInteropTest.RecordingListener() {
      @Override
      public void onToken(String content) {
        super.onToken(content);
        self.join().cancel();
      }
    };
    StreamHandle handle = client.chatStream(ChatRequest.of(SLOW_QUERY), ADA, listener);
    self.complete(handle);

    ExecutionException e = thrown(ExecutionException.class,
        () -> handle.completion().get(30, TimeUnit.SECONDS));

    assertThat(e.getCause()).isInstanceOf(CallCancelledException.class);
    assertThat(listener.errors).singleElement().isInstanceOf(CallCancelledException.class);
    assertThat(service.streamEnd(handle.requestId()).outcome()).isEqualTo("cancelled");
  }

  @Test
  void anIdleTimeoutReleasesTheStreamOnTheService() {
    StreamOptions shortIdle = StreamOptions.builder().idleTimeout(Duration.ofMillis(500)).build();
    AtomicReference<String> requestId = new AtomicReference<>();

    assertThatThrownBy(() -> {
      try (ChatStream stream = client.chatStream(ChatRequest.of(withFault(SEARCH_QUERY, "stall_after=2")), ADA, shortIdle)) {
        requestId.set(stream.requestId());
        stream.text();
      }
    }).isInstanceOf(CallTimeoutException.class);

    assertThat(service.streamEnd(requestId.get()).outcome()).isEqualTo("cancelled");
  }
}
