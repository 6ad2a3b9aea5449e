package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.testkit.SseResponses;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;

class ChatStreamTest extends MockServerTest {
  static final String SESSION = "data: {\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_2\"}\n\n";
  static final String INTENT = "data: {\"type\":\"intent\",\"intent\":\"search\"}\n\n";
  static final String HELLO = "data: {\"type\":\"token\",\"content\":\"Hello\"}\n\n";
  static final String WORLD = "data: {\"type\":\"token\",\"content\":\" world\"}\n\n";
  static final String CANDIDATES = "data: {\"type\":\"candidates\",\"candidates\":[{\"profile_id\":\"id_1a2b3c4d\",\"name\":\"Ada L.\"}]}\n\n";
  static final String ACTION = "data: {\"type\":\"action\",\"action\":{\"type\":\"shortlist\",\"profile_id\":\"id_1a2b3c4d\"}}\n\n";
  static final String DONE = "data: {\"type\":\"done\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n";
  static final String END = "data: [DONE]\n\n";
  static final String FULL = SESSION + INTENT + ": ping\n\n" + HELLO + WORLD + CANDIDATES + ACTION + DONE + END;

  static MockResponse sse(String body) {
    return SseResponses.sse(body, 7);
  }

  /** A body that sends {@code first}, then waits for {@code release} before sending {@code rest} 1000 times. */
  static MockResponse paused(String first, CountDownLatch release, String rest, CountDownLatch serverSawClose) {
    return SseResponses.paused(first, release, rest, 1000, serverSawClose);
  }

  @Test
  void iteratesTypedEventsInOrder() throws Exception {
    server.enqueue(sse(FULL));
    List<StreamEvent> events = new ArrayList<>();
    try (ChatStream stream = client.chatStream(ChatRequest.of("Find engineers"), USER)) {
      stream.forEach(events::add);
    }

    assertThat(events).extracting(StreamEvent::type)
        .containsExactly("session", "intent", "token", "token", "candidates", "action", "done");
    assertThat(events.get(0)).isEqualTo(new StreamEvent.SessionStarted("sess_1", "msg_2",
        "{\"type\":\"session\",\"session_id\":\"sess_1\",\"message_id\":\"msg_2\"}"));
    assertThat(((StreamEvent.IntentDecided) events.get(1)).intent()).isEqualTo(Intent.SEARCH);
    assertThat(((StreamEvent.Done) events.get(6)).usage()).isEqualTo(new Usage(5, 2, 7));

    RecordedRequest recorded = server.takeRequest();
    assertThat(recorded.getUrl().encodedPath()).isEqualTo("/api/v1/llm-chat/recruiter/chat/stream");
    assertThat(recorded.getHeaders().get("Accept")).isEqualTo("text/event-stream");
    assertThat(recorded.getHeaders().get("Idempotency-Key")).isNotBlank();
    assertThat(recorded.getBody().utf8()).isEqualTo("{\"query\":\"Find engineers\"}");
  }

  @Test
  void completionGathersTheWholeAnswer() {
    server.enqueue(sse(FULL));
    try (ChatStream stream = client.chatStream(ChatRequest.of("Find engineers"), USER)) {
      StreamCompletion done = stream.completion();

      assertThat(done.text()).isEqualTo("Hello world");
      assertThat(done.sessionId()).isEqualTo("sess_1");
      assertThat(done.messageId()).isEqualTo("msg_2");
      assertThat(done.intent()).isEqualTo(Intent.SEARCH);
      assertThat(done.candidates()).extracting(Candidate::profileId).containsExactly("id_1a2b3c4d");
      assertThat(done.actions()).extracting(Action::type).containsExactly("shortlist");
      assertThat(done.finishReason()).isEqualTo("stop");
      assertThat(done.usage()).isEqualTo(new Usage(5, 2, 7));
      assertThat(done.requestId()).isEqualTo(stream.requestId());
      assertThat(done.skippedEvents()).isZero();
    }
    assertThat(audit.events).singleElement().satisfies(e -> {
      assertThat(e.action()).isEqualTo(Operation.CHAT_STREAM);
      assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.SUCCESS);
      assertThat(e.usage()).isEqualTo(new Usage(5, 2, 7));
    });
  }

  @Test
  void tokensGiveTheTextPieceByPiece() {
    server.enqueue(sse(FULL));
    List<String> tokens = new ArrayList<>();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      stream.tokens().forEach(tokens::add);
      assertThat(stream.text()).isEqualTo("Hello world");
    }
    assertThat(tokens).containsExactly("Hello", " world");
  }

  @Test
  void unknownEventTypesArePassedThrough() {
    server.enqueue(sse(SESSION + "data: {\"type\":\"thinking\",\"step\":2}\n\n" + DONE + END));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      List<StreamEvent> events = new ArrayList<>();
      stream.forEach(events::add);
      assertThat(events.get(1)).isInstanceOfSatisfying(StreamEvent.Unknown.class, u -> {
        assertThat(u.type()).isEqualTo("thinking");
        assertThat(u.fields()).containsEntry("step", 2);
        assertThat(u.json()).isEqualTo("{\"type\":\"thinking\",\"step\":2}");
      });
    }
  }

  @Test
  void errorEventEndsTheStreamAfterTheEventsBeforeIt() {
    server.enqueue(sse(SESSION + HELLO
        + "data: {\"type\":\"error\",\"code\":\"model_overloaded\",\"message\":\"try later\",\"retryable\":true}\n\n"));
    List<StreamEvent> events = new ArrayList<>();
    StreamErrorException e;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      e = catchThrowableOfType(StreamErrorException.class, () -> stream.forEach(events::add));
    }
    assertThat(events).extracting(StreamEvent::type).containsExactly("session", "token");
    assertThat(e.code()).isEqualTo("model_overloaded");
    assertThat(e.serviceMessage()).isEqualTo("try later");
    assertThat(e.retryable()).isTrue();
    assertThat(e.partialText()).isEqualTo("Hello");
    assertThat(audit.events).singleElement().satisfies(a -> assertThat(a.outcome()).isEqualTo(AuditEvent.Outcome.FAILURE));
  }

  @Test
  void errorEventWithFieldsOfOtherTypesStillEndsTheStream() {
    server.enqueue(sse(SESSION + HELLO
        + "data: {\"type\":\"error\",\"code\":503,\"message\":{\"detail\":\"overloaded\"}}\n\n" + END));
    List<StreamEvent> events = new ArrayList<>();
    StreamErrorException e;
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      e = catchThrowableOfType(StreamErrorException.class, () -> stream.forEach(events::add));
    }
    assertThat(e).as("the error ends the stream; [DONE] after it is no success").isNotNull();
    assertThat(events).extracting(StreamEvent::type).containsExactly("session", "token");
    assertThat(e.code()).isEqualTo("503");
    assertThat(e.serviceMessage()).isEqualTo("{\"detail\":\"overloaded\"}");
    assertThat(e.partialText()).isEqualTo("Hello");
  }

  @Test
  void streamCutOffWithoutDoneIsAnErrorNeverASilentSuccess() {
    server.enqueue(sse(SESSION + HELLO + WORLD));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      StreamInterruptedException e = catchThrowableOfType(StreamInterruptedException.class, stream::completion);
      assertThat(e.partialText()).isEqualTo("Hello world");
    }
  }

  @Test
  void doneWithoutTheFinalDoneMarkerStillCompletes() {
    server.enqueue(sse(SESSION + HELLO + DONE));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(stream.text()).isEqualTo("Hello");
    }
  }

  @Test
  void doneMarkerWithoutADoneEventCompletesWithoutInventingAReasonOrUsage() {
    server.enqueue(sse(SESSION + HELLO + END));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      StreamCompletion done = stream.completion();
      assertThat(done.text()).isEqualTo("Hello");
      assertThat(done.finishReason()).isNull();
      assertThat(done.usage()).isNull();
    }
  }

  @Test
  void nonJsonDataIsSkippedAndCountedByDefault() {
    server.enqueue(sse(SESSION + "data: not json\n\n" + HELLO + DONE + END));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      StreamCompletion done = stream.completion();
      assertThat(done.skippedEvents()).isEqualTo(1);
      assertThat(done.text()).isEqualTo("Hello");
    }
  }

  @Test
  void anEventWithDataAfterItsObjectIsSkippedAndCountedNotHalfRead() {
    // Read as the token alone, the error after it would be dropped without a word.
    server.enqueue(sse(SESSION + "data: {\"type\":\"token\",\"content\":\"a\"} {\"type\":\"error\",\"code\":\"x\"}\n\n"
        + HELLO + DONE + END));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      StreamCompletion done = stream.completion();
      assertThat(done.skippedEvents()).isEqualTo(1);
      assertThat(done.text()).isEqualTo("Hello");
    }
  }

  @Test
  void strictStreamsFailOnNonJsonData() {
    server.enqueue(sse(SESSION + "data: not json\n\n" + HELLO + DONE + END));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, StreamOptions.builder().strict(true).build())) {
      assertThat(catchThrowable(stream::completion)).isInstanceOf(InvalidResponseException.class);
    }
  }

  @Test
  void successThatIsNotAnEventStreamFailsClearly() {
    server.enqueue(json(200, "{\"answer\":\"not a stream\"}"));
    Throwable e = catchThrowable(() -> client.chatStream(ChatRequest.of("hi"), USER));
    assertThat(e).isInstanceOf(InvalidResponseException.class).hasMessageContaining("text/event-stream");
  }

  @Test
  void errorStatusesMapToTheCoreExceptions() {
    server.enqueue(json(403, "{\"detail\":\"missing scope\"}"));
    assertThat(catchThrowable(() -> client.chatStream(ChatRequest.of("hi"), USER))).isInstanceOf(PermissionDeniedException.class);
  }

  @Test
  void failuresBeforeTheFirstEventAreRetriedWithTheSameIds() throws Exception {
    server.enqueue(json(503, "{}"));
    server.enqueue(sse(""));
    server.enqueue(sse(FULL));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(stream.text()).isEqualTo("Hello world");
    }
    List<RecordedRequest> attempts = List.of(server.takeRequest(), server.takeRequest(), server.takeRequest());
    assertThat(attempts).extracting(r -> r.getHeaders().get("X-Request-Id")).containsOnly(attempts.get(0).getHeaders().get("X-Request-Id"));
    assertThat(attempts).extracting(r -> r.getHeaders().get("Idempotency-Key")).containsOnly(attempts.get(0).getHeaders().get("Idempotency-Key"));
    assertThat(time.sleeps).as("the policy's backoff before each retry").containsExactly(Duration.ofMillis(500), Duration.ofMillis(1000));
  }

  @Test
  void connectionLostBeforeTheFirstEventIsRetried() {
    server.enqueue(SseResponses.cutHalfway(":" + "x".repeat(FULL.length()) + "\n\n" + FULL));
    server.enqueue(sse(FULL));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(stream.text()).isEqualTo("Hello world");
    }
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void connectionLostAfterTheFirstEventIsNotRetried() {
    server.enqueue(SseResponses.cutHalfway(SESSION + HELLO + ":" + "x".repeat(FULL.length()) + "\n\n" + WORLD + DONE + END));
    server.enqueue(sse(FULL));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      StreamInterruptedException e = catchThrowableOfType(StreamInterruptedException.class, stream::completion);
      assertThat(e.partialText()).isEqualTo("Hello");
    }
    assertThat(server.getRequestCount()).isEqualTo(1);
  }


  @Test
  void failuresAfterTheFirstEventAreNotRetried() {
    server.enqueue(sse(SESSION + HELLO));
    server.enqueue(sse(FULL));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(catchThrowable(stream::completion)).isInstanceOf(StreamInterruptedException.class);
    }
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void eachEventArrivesAsSoonAsItsBytesDo() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(paused(SESSION + HELLO, release, ": ping\n\n", new CountDownLatch(1)));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      var events = stream.iterator();
      assertThat(events.next().type()).isEqualTo("session");
      // The server has sent one token and is waiting: it must reach us now.
      assertThat(events.next()).isEqualTo(new StreamEvent.Token("Hello", "{\"type\":\"token\",\"content\":\"Hello\"}"));
    } finally {
      release.countDown();
    }
  }

  @Test
  void closingMidStreamCancelsTheCallAndTheServerSeesTheConnectionClose() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch serverSawClose = new CountDownLatch(1);
    server.enqueue(paused(SESSION, release, ": ping\n\n" + "x".repeat(8192) + "\n", serverSawClose));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(stream.iterator().next().type()).isEqualTo("session");
    }
    release.countDown();
    assertThat(serverSawClose.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(audit.events).singleElement().satisfies(a -> assertThat(a.outcome()).isEqualTo(AuditEvent.Outcome.CANCELLED));
  }

  @Test
  void cancelFromAnotherThreadEndsTheReaderWithACancellation() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(paused(SESSION, release, HELLO, new CountDownLatch(1)));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      var events = stream.iterator();
      events.next();
      Thread canceller = new Thread(stream::cancel);
      canceller.start();
      canceller.join();
      assertThat(catchThrowable(events::hasNext)).isInstanceOf(CallCancelledException.class);
    } finally {
      release.countDown();
    }
  }

  @Test
  void firstEventTimeoutSaysWhichLimitFired() {
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(paused(": waiting\n\n", release, "", new CountDownLatch(1)));
    useClient(clientBuilder().retryPolicy(RetryPolicy.none()));
    StreamOptions options = StreamOptions.builder().firstEventTimeout(Duration.ofMillis(200)).build();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, options)) {
      CallTimeoutException e = catchThrowableOfType(CallTimeoutException.class, stream::completion);
      assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.FIRST_EVENT);
    } finally {
      release.countDown();
    }
  }

  @Test
  void aRetryAfterAFirstEventTimeoutReportsItsOwnFailureNotTheEarlierTimeout() {
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(SseResponses.stalled(": waiting\n\n", release));
    server.enqueue(TestSupport.resetBeforeTheResponse());
    useClient(clientBuilder().retryPolicy(RetryPolicy.builder().maxRetries(1).build()));
    // The limit applies to both attempts: long enough that the second one's reset (its own
    // failure) always comes first, even on a loaded machine (200 ms did not, once, under .ci/stress).
    StreamOptions options = StreamOptions.builder().firstEventTimeout(Duration.ofSeconds(1)).build();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, options)) {
      TransportException e = catchThrowableOfType(TransportException.class, stream::completion);

      assertThat(e).as("the second attempt's connection failure, not the first one's timeout").isNotNull();
      assertThat(e.attempts()).isEqualTo(2);
    } finally {
      release.countDown();
    }
  }

  @Test
  void idleTimeoutFiresWhenNothingArrives() {
    CountDownLatch release = new CountDownLatch(1);
    server.enqueue(paused(SESSION, release, "", new CountDownLatch(1)));
    StreamOptions options = StreamOptions.builder().idleTimeout(Duration.ofMillis(200)).build();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, options)) {
      CallTimeoutException e = catchThrowableOfType(CallTimeoutException.class, stream::completion);
      assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.IDLE);
    } finally {
      release.countDown();
    }
  }

  @Test
  void idleTimeoutIsTheSilenceBetweenBytesNotTheStreamsLength() {
    // 60 pings, 7 bytes each, 8 bytes every 20 ms: about a second of bytes that never stop for 300 ms.
    server.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "text/event-stream")
        .body(SESSION + ": ping\n".repeat(60) + HELLO + DONE + END).throttleBody(8, 20, TimeUnit.MILLISECONDS).build());
    StreamOptions options = StreamOptions.builder().idleTimeout(Duration.ofMillis(300)).build();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, options)) {
      assertThat(stream.completion().text()).isEqualTo("Hello");
    }
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aReaderBusyWithAnEventIsNotSilenceFromTheService() throws Exception {
    // The rest of the answer arrives while the reader is busy with the first event for longer than
    // the idle limit: as with a socket read timeout, only time spent waiting for bytes counts.
    server.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "text/event-stream")
        .body(SESSION + HELLO + WORLD + DONE + END).throttleBody(SESSION.length(), 50, TimeUnit.MILLISECONDS).build());
    StreamOptions options = StreamOptions.builder().idleTimeout(Duration.ofMillis(500)).build();
    CountDownLatch never = new CountDownLatch(1);
    StringBuilder text = new StringBuilder();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, options)) {
      for (StreamEvent event : stream) {
        if (event instanceof StreamEvent.SessionStarted) {
          // The host's work on this event takes twice the idle limit (nothing counts the latch down).
          assertThat(never.await(1000, TimeUnit.MILLISECONDS)).isFalse();
        }
        if (event instanceof StreamEvent.Token) {
          text.append(((StreamEvent.Token) event).content());
        }
      }
    }
    assertThat(text.toString()).isEqualTo("Hello world");
  }

  @Test
  void idleTimeoutCountsTheWaitForTheAnswersHeaders() {
    server.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "text/event-stream")
        .headersDelay(3, TimeUnit.SECONDS).body(SESSION + HELLO + DONE + END).build());
    useClient(clientBuilder().retryPolicy(RetryPolicy.none()));
    StreamOptions options = StreamOptions.builder().idleTimeout(Duration.ofMillis(200))
        .firstEventTimeout(Duration.ofSeconds(30)).build();
    // The stream fails while it opens: before its first event, nothing was delivered.
    CallTimeoutException e = catchThrowableOfType(CallTimeoutException.class,
        () -> client.chatStream(ChatRequest.of("hi"), USER, options).close());
    assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.IDLE);
  }

  @Test
  void totalTimeoutBoundsAStreamThatKeepsDripping() {
    server.enqueue(new MockResponse.Builder().code(200).setHeader("Content-Type", "text/event-stream")
        .body(SESSION + ": ping\n".repeat(10_000)).throttleBody(8, 20, TimeUnit.MILLISECONDS).build());
    StreamOptions options = StreamOptions.builder().idleTimeout(Duration.ofSeconds(5)).totalTimeout(Duration.ofMillis(400)).build();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, options)) {
      CallTimeoutException e = catchThrowableOfType(CallTimeoutException.class, stream::completion);
      assertThat(e.limit()).isEqualTo(CallTimeoutException.Limit.TOTAL);
    }
  }

  @Test
  void oversizedEventEndsTheStreamWithAClearError() {
    server.enqueue(sse(SESSION + "data: " + "x".repeat(3000) + "\n\n" + DONE + END));
    StreamOptions options = StreamOptions.builder().maxEventBytes(1024).build();
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER, options)) {
      assertThat(catchThrowable(stream::completion)).isInstanceOf(InvalidResponseException.class);
    }
  }

  @Test
  void heartbeatsAndCrlfLineEndsAreHandled() {
    server.enqueue(sse((SESSION + ": ping\n\n" + HELLO + DONE + END).replace("\n", "\r\n")));
    try (ChatStream stream = client.chatStream(ChatRequest.of("hi"), USER)) {
      assertThat(stream.text()).isEqualTo("Hello");
    }
  }

  @Test
  void validationRefusesBeforeSending() {
    assertThat(catchThrowable(() -> client.chatStream(ChatRequest.of(" "), USER))).isInstanceOf(ValidationException.class);
    assertThat(server.getRequestCount()).isZero();
  }
}
