package dev.llmgateway.interop;

import static dev.llmgateway.interop.Fixtures.ADA;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static dev.llmgateway.interop.Fixtures.thrown;
import static dev.llmgateway.interop.Fixtures.withFault;
import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.StreamHandle;
import dev.llmgateway.StreamListener;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Well-behaved streams, read both ways: iterating a {@link ChatStream} and pushing to a {@link StreamListener}. */
@InteropTest
class StreamInteropTest extends ClientInteropTest {
  StreamInteropTest(ReferenceService service) {
    super(service);
  }

  private static String types(List<StreamEvent> events) {
    return events.stream().map(StreamEvent::type).collect(Collectors.joining(" "));
  }

  @Test
  void iteratingAStreamGivesTheEventsInContractOrder() {
    List<StreamEvent> events = new ArrayList<>();
    try (ChatStream stream = client.chatStream(ChatRequest.of(SEARCH_QUERY), ADA)) {
      stream.forEach(events::add);
    }

    assertThat(types(events)).matches("session intent( token)+ candidates action done");
  }

  @Test
  void aStreamedAnswerEqualsTheSyncAnswer() {
    ChatResponse sync = client.chat(ChatRequest.of(SEARCH_QUERY), ADA);

    StreamCompletion completion;
    try (ChatStream stream = client.chatStream(ChatRequest.of(SEARCH_QUERY), ADA)) {
      completion = stream.completion();
    }

    assertThat(completion.text()).isEqualTo(sync.answer());
    assertThat(completion.intent()).isEqualTo(sync.intent());
    assertThat(completion.candidates()).isEqualTo(sync.candidates());
    assertThat(completion.actions()).isEqualTo(sync.actions());
    assertThat(completion.usage()).isEqualTo(sync.usage());
    assertThat(completion.finishReason()).isEqualTo("stop");
    assertThat(completion.sessionId()).startsWith("sess_");
  }

  @Test
  void aStreamedAnswerIsStoredInItsSession() {
    StreamCompletion completion;
    try (ChatStream stream = client.chatStream(ChatRequest.of(SEARCH_QUERY), ADA)) {
      completion = stream.completion();
    }

    assertThat(client.sessions().get(completion.sessionId(), ADA).messages())
        .extracting(m -> m.messageId() + " " + m.role())
        .endsWith(completion.messageId() + " assistant");
  }

  @Test
  void aCallbackStreamDeliversTheSameAnswerInOrderAndCompletesOnce() throws Exception {
    String expected = client.chat(ChatRequest.of(SEARCH_QUERY), ADA).answer();
    RecordingListener listener = new RecordingListener();

    StreamHandle handle = client.chatStream(ChatRequest.of(SEARCH_QUERY), ADA, listener);
    StreamCompletion completion = handle.completion().get(30, TimeUnit.SECONDS);

    assertThat(types(listener.events)).matches("session intent( token)+ candidates action done");
    assertThat(String.join("", listener.tokens)).isEqualTo(expected);
    assertThat(completion.text()).isEqualTo(expected);
    assertThat(listener.completions).containsExactly(completion);
    assertThat(listener.errors).isEmpty();
  }

  @Test
  void openingAStreamOnAnUnknownSessionIsNotFound() {
    ChatRequest request = ChatRequest.builder().query(SEARCH_QUERY).sessionId("sess_unknown").build();

    NotFoundException e = thrown(NotFoundException.class, () -> client.chatStream(request, ADA));

    assertThat(e.detail()).isEqualTo("Session not found");
  }

  @Test
  void unknownEventTypesAndFieldsPassThrough() {
    String expected = client.chat(ChatRequest.of(SEARCH_QUERY), ADA).answer();
    List<StreamEvent> events = new ArrayList<>();
    StreamCompletion completion;
    try (ChatStream stream = client.chatStream(ChatRequest.of(withFault(SEARCH_QUERY, "growth")), ADA)) {
      stream.forEach(events::add);
      completion = stream.completion();
    }

    assertThat(events).filteredOn(e -> e instanceof StreamEvent.Unknown)
        .singleElement()
        .satisfies(e -> assertThat(((StreamEvent.Unknown) e).fields()).containsEntry("stage", "ranking"));
    assertThat(completion.rawIntent()).isEqualTo("compare_candidates");
    assertThat(completion.text()).isEqualTo(expected);
  }

  /** Records what a {@link StreamListener} receives. */
  static class RecordingListener implements StreamListener {
    final List<StreamEvent> events = new CopyOnWriteArrayList<>();
    final List<String> tokens = new CopyOnWriteArrayList<>();
    final List<StreamCompletion> completions = new CopyOnWriteArrayList<>();
    final List<LlmGatewayException> errors = new CopyOnWriteArrayList<>();

    @Override
    public void onEvent(StreamEvent event) {
      events.add(event);
    }

    @Override
    public void onToken(String content) {
      tokens.add(content);
    }

    @Override
    public void onComplete(StreamCompletion completion) {
      completions.add(completion);
    }

    @Override
    public void onError(LlmGatewayException error) {
      errors.add(error);
    }
  }
}
