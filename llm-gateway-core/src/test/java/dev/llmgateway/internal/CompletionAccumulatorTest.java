package dev.llmgateway.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.Action;
import dev.llmgateway.Candidate;
import dev.llmgateway.Intent;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.StreamEvent;
import dev.llmgateway.Usage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CompletionAccumulatorTest {
  private static final Candidate ADA = new Candidate("id_1a2b3c4d", "Ada L.", null, 0.9, Map.of());
  private static final Candidate GRACE = new Candidate("id_5e6f7a8b", "Grace H.", null, 0.8, Map.of());
  private static final Candidate LINUS = new Candidate("id_9c0d1e2f", "Linus T.", null, 0.7, Map.of());
  private static final Action SHORTLIST = new Action("shortlist", Map.of("profile_id", "id_1a2b3c4d"));
  private static final Action EMAIL = new Action("email", Map.of());

  private final CompletionAccumulator gathered = new CompletionAccumulator();

  @Test
  void tokensJoinIntoTheTextInOrder() {
    gathered.add(new StreamEvent.Token("I found ", "{}"));
    gathered.add(new StreamEvent.Token("", "{}"));
    gathered.add(new StreamEvent.Token("3 candidates", "{}"));

    assertThat(gathered.text()).isEqualTo("I found 3 candidates");
    assertThat(gathered.textLength()).isEqualTo(20);
    assertThat(gathered.complete("req-1").text()).isEqualTo("I found 3 candidates");
  }

  @Test
  void aWholeStreamBecomesItsCompletion() {
    gathered.add(new StreamEvent.SessionStarted("sess_1", "msg_1", "{}"));
    gathered.add(new StreamEvent.IntentDecided(Intent.SEARCH, "search", "{}"));
    gathered.add(new StreamEvent.Token("Here", "{}"));
    gathered.add(new StreamEvent.CandidatesFound(List.of(ADA, GRACE), "{}"));
    gathered.add(new StreamEvent.CandidatesFound(List.of(LINUS), "{}"));
    gathered.add(new StreamEvent.ActionProposed(SHORTLIST, "{}"));
    gathered.add(new StreamEvent.ActionProposed(EMAIL, "{}"));
    gathered.add(new StreamEvent.Unknown("thinking", Map.of(), "{}"));
    gathered.add(new StreamEvent.Done("stop", new Usage(10, 20, 30), "{}"));

    StreamCompletion completion = gathered.complete("req-1");

    assertThat(completion).isEqualTo(new StreamCompletion("sess_1", "msg_1", Intent.SEARCH, "search", "Here",
        List.of(ADA, GRACE, LINUS), List.of(SHORTLIST, EMAIL), "stop", new Usage(10, 20, 30), 0, "req-1"));
  }

  @Test
  void aStreamWithoutDoneHasNoFinishReasonNorUsage() {
    gathered.add(new StreamEvent.Token("cut", "{}"));

    StreamCompletion completion = gathered.complete("req-1");

    assertThat(gathered.hasDone()).isFalse();
    assertThat(completion.finishReason()).isNull();
    assertThat(completion.usage()).isNull();
  }

  @Test
  void doneIsRecordedAndTheLastDoneWins() {
    gathered.add(new StreamEvent.Done("length", null, "{}"));
    gathered.add(new StreamEvent.Done("stop", new Usage(1, 2, 3), "{}"));

    assertThat(gathered.hasDone()).isTrue();
    assertThat(gathered.complete("req-1").finishReason()).isEqualTo("stop");
    assertThat(gathered.complete("req-1").usage()).isEqualTo(new Usage(1, 2, 3));
  }

  @Test
  void noIntentMeansUnknownAndAnUnknownIntentIsKeptRaw() {
    assertThat(gathered.complete("req-1").intent()).isEqualTo(Intent.UNKNOWN);
    assertThat(gathered.complete("req-1").rawIntent()).isNull();

    gathered.add(new StreamEvent.IntentDecided(Intent.UNKNOWN, "negotiate", "{}"));

    assertThat(gathered.complete("req-1").intent()).isEqualTo(Intent.UNKNOWN);
    assertThat(gathered.complete("req-1").rawIntent()).isEqualTo("negotiate");
  }

  @Test
  void skippedPayloadsAreCounted() {
    gathered.skipped();
    gathered.skipped();

    assertThat(gathered.complete("req-1").skippedEvents()).isEqualTo(2);
  }

  @Test
  void aCompletionIsNotChangedByEventsAddedAfterIt() {
    gathered.add(new StreamEvent.Token("a", "{}"));
    gathered.add(new StreamEvent.CandidatesFound(List.of(ADA), "{}"));
    StreamCompletion first = gathered.complete("req-1");

    gathered.add(new StreamEvent.Token("b", "{}"));
    gathered.add(new StreamEvent.CandidatesFound(List.of(GRACE), "{}"));
    gathered.add(new StreamEvent.ActionProposed(EMAIL, "{}"));

    assertThat(first.text()).isEqualTo("a");
    assertThat(first.candidates()).containsExactly(ADA);
    assertThat(first.actions()).isEmpty();
  }
}
