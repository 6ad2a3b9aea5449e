package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.UserContext;
import dev.llmgateway.testkit.Concurrently;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link SessionStore} of the SDK shares (records created by the first
 * exchange and kept by their owner, adoption, credits, listing and cleanup order, deletes, argument
 * checks, concurrent updates), run by each store's test: InMemorySessionStoreTest and
 * JdbcSessionStoreTest. It lives in llm-gateway-jdbc's tests beside {@link CreditLedgerContract},
 * for the same reason: the one module with both stores on its class path, and no test jar. A
 * subclass says how to create its store and keeps only what is its own. Instants are whole seconds:
 * PostgreSQL keeps microseconds.
 */
public abstract class SessionStoreContract {
  protected static final UserContext ADA =
      UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();
  protected static final UserContext BOB = ADA.toBuilder().userId("u2").role("admin").build();
  protected static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  /** The store under test, empty, created before each test. */
  protected SessionStore store;

  /**
   * Creates an empty store.
   *
   * @return the store
   */
  protected abstract SessionStore createStore();

  @BeforeEach
  void createTheStore() {
    store = createStore();
  }

  @Test
  void theFirstExchangeCreatesTheRecordAndLaterOnesAddToItForTheOwnerOnly() {
    assertThat(store.recordExchange("s", ADA, "first question", T0, 2, 100)).isTrue();
    assertThat(store.recordExchange("s", ADA, "ignored title", T0.plusSeconds(60), 2, 50)).isTrue();
    assertThat(store.recordExchange("s", BOB, "someone else", T0.plusSeconds(120), 2, 999)).isFalse();

    assertThat(store.find("s")).contains(
        new SessionRecord("s", "u1", "c1", "recruiter", "first question", T0, T0.plusSeconds(60), 4, 150, 0));
    assertThat(store.find("unknown")).isEmpty();
  }

  @Test
  void anExchangeEndingBeforeTheLastActivityCountsButDoesNotMoveItBack() {
    store.recordExchange("s", ADA, "t", T0.plusSeconds(60), 2, 1);
    store.recordExchange("s", ADA, "t", T0, 2, 1);

    assertThat(store.find("s")).hasValueSatisfying(r -> {
      assertThat(r.lastActivityAt()).isEqualTo(T0.plusSeconds(60));
      assertThat(r.createdAt()).isEqualTo(T0.plusSeconds(60));
      assertThat(r.messageCount()).isEqualTo(4);
    });
  }

  @Test
  void aSameUserIdInAnotherCompanyIsAnotherOwner() {
    UserContext namesake = ADA.toBuilder().companyId("c2").build();
    store.recordExchange("s", ADA, "t", T0, 2, 1);

    assertThat(store.recordExchange("s", namesake, "t", T0, 2, 1)).isFalse();
    assertThat(store.find("s").orElseThrow().messageCount()).isEqualTo(2);
    assertThat(store.recent("u1", "c2", 10)).isEmpty();
  }

  @Test
  void creditsAddUpOnTheRecordAndGoNowhereWithoutOne() {
    store.recordExchange("s", ADA, "t", T0, 2, 1);

    store.addCredits("s", 3);
    store.addCredits("s", 4);
    store.addCredits("s", 0);
    store.addCredits("unknown", 5);

    assertThat(store.find("s").orElseThrow().credits()).isEqualTo(7);
    assertThat(store.find("unknown")).isEmpty();
  }

  @Test
  void adoptKeepsTheGivenRecordOnlyWhenTheSessionHasNone() {
    SessionRecord adas = new SessionRecord("old", "u1", "c1", "recruiter", "Rails engineers", T0,
        T0.plusSeconds(300), 4, 0, 0);
    SessionRecord bobs = new SessionRecord("old", "u2", "c1", "admin", "other", T0, T0, 2, 0, 0);
    store.recordExchange("s", BOB, "chatted", T0, 2, 10);

    assertThat(store.adopt(adas)).isEqualTo(adas);
    assertThat(store.adopt(bobs)).isEqualTo(adas);
    assertThat(store.adopt(new SessionRecord("s", "u1", "c1", "recruiter", "x", T0, T0, 9, 0, 0)))
        .isEqualTo(store.find("s").orElseThrow());

    assertThat(store.find("old")).contains(adas);
    assertThat(store.find("s").orElseThrow().userId()).isEqualTo("u2");
    assertThat(store.recordExchange("old", ADA, "t", T0.plusSeconds(600), 2, 7)).isTrue();
    assertThat(store.find("old")).contains(new SessionRecord("old", "u1", "c1", "recruiter", "Rails engineers", T0,
        T0.plusSeconds(600), 6, 7, 0));
  }

  @Test
  void recentListsTheUsersSessionsNewestFirstTiesBySessionId() {
    store.recordExchange("a", ADA, "a", T0, 2, 1);
    store.recordExchange("b", ADA, "b", T0.plusSeconds(10), 2, 1);
    store.recordExchange("c", BOB, "c", T0.plusSeconds(30), 2, 1);
    store.recordExchange("e", ADA, "e", T0.plusSeconds(20), 2, 1);
    store.recordExchange("d", ADA, "d", T0.plusSeconds(20), 2, 1);

    assertThat(ids(store.recent("u1", "c1", 10))).containsExactly("d", "e", "b", "a");
    assertThat(ids(store.recent("u1", "c1", 2))).containsExactly("d", "e");
    assertThat(ids(store.recent("u2", "c1", 10))).containsExactly("c");
    assertThat(store.recent("nobody", "c1", 10)).isEmpty();
  }

  @Test
  void idleSinceListsRecordsIdleBeforeTheBoundOldestFirst() {
    store.recordExchange("a", ADA, "a", T0, 2, 1);
    store.recordExchange("c", BOB, "c", T0.plusSeconds(5), 2, 1);
    store.recordExchange("b", ADA, "b", T0.plusSeconds(10), 2, 1);
    store.recordExchange("d", ADA, "d", T0.plusSeconds(20), 2, 1);

    assertThat(ids(store.idleSince(T0.plusSeconds(11), 10))).containsExactly("a", "c", "b");
    assertThat(ids(store.idleSince(T0.plusSeconds(11), 2))).containsExactly("a", "c");
    assertThat(ids(store.idleSince(T0.plusSeconds(10), 10))).containsExactly("a", "c");
    assertThat(store.idleSince(T0, 10)).isEmpty();
  }

  @Test
  void deleteRemovesTheRecordOnce() {
    store.recordExchange("s", ADA, "t", T0, 2, 1);

    assertThat(store.delete("s")).isTrue();
    assertThat(store.delete("s")).isFalse();
    assertThat(store.find("s")).isEmpty();
    assertThat(store.recent("u1", "c1", 10)).isEmpty();
    assertThat(store.recordExchange("s", BOB, "new owner", T0, 2, 1)).isTrue();
    assertThat(store.find("s").orElseThrow().userId()).isEqualTo("u2");
  }

  @Test
  void aTitleOfTheLongestLengthIsKeptWhole() {
    String title = "\u00e9".repeat(SessionRecord.MAX_TITLE_CHARS - 2) + "\ud83d\ude00";

    store.recordExchange("s", ADA, title, T0, 2, 1);

    assertThat(store.find("s").orElseThrow().title()).isEqualTo(title);
  }

  @Test
  void badArgumentsAreRefusedNamingTheParameterWithNothingRecorded() {
    String tooLong = "x".repeat(SessionRecord.MAX_TITLE_CHARS + 1);

    assertThatThrownBy(() -> store.recordExchange(null, ADA, "t", T0, 2, 1))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("sessionId");
    assertThatThrownBy(() -> store.recordExchange("s", null, "t", T0, 2, 1))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("owner");
    assertThatThrownBy(() -> store.recordExchange("s", ADA, null, T0, 2, 1))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("title");
    assertThatThrownBy(() -> store.recordExchange("s", ADA, "t", null, 2, 1))
        .isInstanceOf(NullPointerException.class).hasMessageContaining("at");
    assertThatThrownBy(() -> store.recordExchange("s", ADA, "t", T0, -1, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("messages");
    assertThatThrownBy(() -> store.recordExchange("s", ADA, "t", T0, 2, -1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokens");
    assertThatThrownBy(() -> store.recordExchange("s", ADA, tooLong, T0, 2, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("title");
    assertThatThrownBy(() -> store.addCredits("s", -1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("credits");
    assertThatThrownBy(() -> store.recent("u1", "c1", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit");
    assertThatThrownBy(() -> store.idleSince(T0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit");
    assertThat(store.find("s")).isEmpty();
  }

  @Test
  void aTooLongTitleIsRefusedAlsoForAnExistingRecord() {
    store.recordExchange("s", ADA, "t", T0, 2, 1);

    assertThatThrownBy(() -> store.recordExchange("s", ADA, "x".repeat(SessionRecord.MAX_TITLE_CHARS + 1), T0,
        2, 1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("title");
    assertThat(store.find("s").orElseThrow().messageCount()).isEqualTo(2);
  }

  @Test
  void concurrentExchangesOfOneSessionAllAddUp() throws Exception {
    List<Callable<Boolean>> tasks = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      int n = i;
      tasks.add(() -> {
        boolean recorded = store.recordExchange("s", ADA, "t" + n, T0.plusSeconds(n), 2, 10);
        store.addCredits("s", 1);
        return recorded;
      });
    }

    assertThat(Concurrently.run(tasks)).containsOnly(true);

    SessionRecord r = store.find("s").orElseThrow();
    assertThat(r.messageCount()).isEqualTo(16);
    assertThat(r.tokens()).isEqualTo(80);
    assertThat(r.lastActivityAt()).isEqualTo(T0.plusSeconds(7));
    assertThat(r.credits()).isEqualTo(8);
  }

  @Test
  void ofConcurrentAdoptionsOneWinsAndEveryCallerSeesIt() throws Exception {
    List<Callable<SessionRecord>> tasks = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      UserContext owner = ADA.toBuilder().userId("u" + i).build();
      tasks.add(() -> store.adopt(new SessionRecord("s", owner.userId(), "c1", "recruiter", "t", T0, T0, 2, 0, 0)));
    }

    List<SessionRecord> held = Concurrently.run(tasks);

    assertThat(held).containsOnly(held.get(0));
    assertThat(store.find("s")).contains(held.get(0));
  }

  private static List<String> ids(List<SessionRecord> records) {
    return records.stream().map(SessionRecord::sessionId).toList();
  }
}
