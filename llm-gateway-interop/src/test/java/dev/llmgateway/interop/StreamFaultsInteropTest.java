package dev.llmgateway.interop;

import static dev.llmgateway.interop.Fixtures.ADA;
import static dev.llmgateway.interop.Fixtures.CHAT_QUERY;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static dev.llmgateway.interop.Fixtures.thrown;
import static dev.llmgateway.interop.Fixtures.withFault;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.CallTimeoutException;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.InvalidResponseException;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.StreamErrorException;
import dev.llmgateway.StreamHandle;
import dev.llmgateway.StreamInterruptedException;
import dev.llmgateway.StreamOptions;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Streams the reference service breaks or bends on purpose (see interop/service/faults.py). */
@InteropTest
class StreamFaultsInteropTest extends ClientInteropTest {
  private static final Pattern TOKEN = Pattern.compile("\\s*\\S+");

  StreamFaultsInteropTest(ReferenceService service) {
    super(service);
  }

  private String syncAnswer(String query) {
    return client.chat(ChatRequest.of(query), ADA).answer();
  }

  /** The first {@code n} tokens of an answer, as the service splits it. */
  private static String firstTokens(String answer, int n) {
    Matcher m = TOKEN.matcher(answer);
    StringBuilder prefix = new StringBuilder();
    for (int i = 0; i < n && m.find(); i++) {
      prefix.append(m.group());
    }
    return prefix.toString();
  }

  private String streamText(String query, StreamOptions options) {
    try (ChatStream stream = client.chatStream(ChatRequest.of(query), ADA, options)) {
      return stream.text();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"heartbeats=3", "crlf", "cr", "bytes", "heartbeats=2,crlf,bytes"})
  void wireVariationsGiveTheSameText(String directive) {
    String expected = syncAnswer(SEARCH_QUERY);

    String streamed = streamText(withFault(SEARCH_QUERY, directive), StreamOptions.DEFAULTS);

    assertThat(streamed).isEqualTo(expected);
  }

  @Test
  void heartbeatsKeepASlowStreamWithinTheIdleTimeout() {
    String expected = syncAnswer(CHAT_QUERY);
    StreamOptions shortIdle = StreamOptions.builder().idleTimeout(Duration.ofMillis(700)).build();

    String streamed = streamText(withFault(CHAT_QUERY, "think_ms=1500,ping_ms=100"), shortIdle);

    assertThat(streamed).isEqualTo(expected);
  }

  @Test
  void heartbeatsAloneDoNotCountAsTheFirstEvent() {
    StreamOptions quickStart = StreamOptions.builder().firstEventTimeout(Duration.ofMillis(400)).build();
    try (LlmGatewayClient noRetries = service.clientBuilder().retryPolicy(RetryPolicy.none()).build()) {
      CallTimeoutException e = thrown(CallTimeoutException.class, () -> {
        try (ChatStream stream = noRetries.chatStream(
            ChatRequest.of(withFault(CHAT_QUERY, "think_ms=5000,ping_ms=100")), ADA, quickStart)) {
          stream.text();
        }
      });

      assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.FIRST_EVENT);
    }
  }

  @Test
  void aStreamRunningPastItsTotalTimeoutFails() {
    StreamOptions total = StreamOptions.builder().totalTimeout(Duration.ofMillis(600)).build();

    CallTimeoutException e = thrown(CallTimeoutException.class,
        () -> streamText(withFault(SEARCH_QUERY, "delay_ms=200"), total));

    assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.TOTAL);
  }

  @Test
  void aMidStreamErrorEventIsStreamErrorException() {
    String expected = syncAnswer(SEARCH_QUERY);

    StreamErrorException e = thrown(StreamErrorException.class,
        () -> streamText(withFault(SEARCH_QUERY, "error_after=3"), StreamOptions.DEFAULTS));

    assertThat(e.code()).isEqualTo("model_overloaded");
    assertThat(e.retryable()).isTrue();
    assertThat(e.partialText()).isEqualTo(firstTokens(expected, 3));
  }

  @Test
  void aMidStreamErrorEventReachesTheListenerOnce() throws Exception {
    StreamInteropTest.RecordingListener listener = new StreamInteropTest.RecordingListener();

    StreamHandle handle = client.chatStream(ChatRequest.of(withFault(SEARCH_QUERY, "error_after=3")), ADA, listener);
    ExecutionException e = thrown(ExecutionException.class,
        () -> handle.completion().get(30, TimeUnit.SECONDS));

    assertThat(e.getCause()).isInstanceOf(StreamErrorException.class);
    assertThat(listener.errors).containsExactly((StreamErrorException) e.getCause());
    assertThat(listener.completions).isEmpty();
    assertThat(listener.tokens).hasSize(3);
  }

  /** cut_after ends the body cleanly (no done, no [DONE]); abort_after drops the connection mid-body. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cut_after=3", "abort_after=3"})
  void aCutOffStreamIsStreamInterruptedException(String directive) {
    String expected = syncAnswer(SEARCH_QUERY);

    StreamInterruptedException e = thrown(StreamInterruptedException.class,
        () -> streamText(withFault(SEARCH_QUERY, directive), StreamOptions.DEFAULTS));

    assertThat(e.partialText()).isEqualTo(firstTokens(expected, 3));
  }

  @Test
  void aStalledStreamTimesOutOnTheIdleLimit() {
    StreamOptions shortIdle = StreamOptions.builder().idleTimeout(Duration.ofMillis(500)).build();

    CallTimeoutException e = thrown(CallTimeoutException.class,
        () -> streamText(withFault(SEARCH_QUERY, "stall_after=2"), shortIdle));

    assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.IDLE);
  }

  @Test
  void anOversizedEventIsInvalidResponse() {
    StreamOptions small = StreamOptions.builder().maxEventBytes(4096).build();

    InvalidResponseException e = thrown(InvalidResponseException.class,
        () -> streamText(withFault(SEARCH_QUERY, "oversize=20000"), small));

    assertThat(e.status()).isEqualTo(200);
  }
}
