package dev.llmgateway.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.SessionSummary;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.SessionRecord;
import dev.llmgateway.testkit.MutableClock;
import dev.llmgateway.testkit.PostgresServer;
import java.io.IOException;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A {@link ChatGateway} whose session records and credits are in PostgreSQL: conversations
 * recorded with their credits, ownership checked in the database before the service is asked,
 * sessions begun before the store adopted, deletes of both records, and a failing store that does
 * not cost the user the answer.
 */
class JdbcSessionStoreGatewayTest {
  @RegisterExtension
  static final PostgresServer POSTGRES = new PostgresServer();

  private static final UserContext USER = UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();
  private static final UserContext OTHER = USER.toBuilder().userId("u2").build();
  private static final String CHAT = "{\"session_id\":\"s\",\"message_id\":\"m\",\"intent\":\"chat\",\"answer\":\"ok\","
      + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}";
  private static final String NOT_FOUND = "{\"detail\":\"Session not found\"}";

  private final MockWebServer service = new MockWebServer();
  private final MutableClock clock = MutableClock.at("2026-12-01T10:00:00Z");
  private Databases databases;
  private DataSource pool;
  private JdbcCreditLedger ledger;
  private JdbcSessionStore store;
  private LlmGatewayClient client;
  private ChatGateway gateway;

  @BeforeEach
  void setUp() throws IOException {
    service.start();
    databases = new Databases(POSTGRES);
    pool = databases.pool();
    ledger = JdbcCreditLedger.builder(pool).build();
    ledger.deposit("u1", 100);
    ledger.deposit("u2", 100);
    JdbcSessionStore.createSchema(pool);
    store = JdbcSessionStore.create(pool);
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("t")
        .environment(n -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).clock(clock).build();
    gateway = ChatGateway.builder().client(client).ledger(ledger).sessionStore(store).build();
  }

  @AfterEach
  void tearDown() {
    client.close();
    service.close();
    ledger.close();
    databases.close();
  }

  private void chat(UserContext user, String query) {
    service.enqueue(new MockResponse.Builder().body(CHAT).build());
    gateway.chat(user, ChatRequest.of(query));
  }

  @Test
  void aChatIsRecordedInTheDatabaseWithItsCreditsAndListedFromIt() {
    chat(USER, "Find Rails engineers");

    SessionRecord r = JdbcSessionStore.create(databases.pool()).find("s").orElseThrow(); // another instance
    assertThat(r).isEqualTo(new SessionRecord("s", "u1", "c1", "recruiter", "Find Rails engineers",
        clock.instant(), clock.instant(), 2, 2000, 3));
    assertThat(ledger.balance("u1")).isEqualTo(97);
    List<SessionSummary> listed = gateway.listSessions(USER, 10, null).sessions();
    assertThat(listed).extracting(SessionSummary::sessionId).containsExactly("s");
    assertThat(listed.get(0).extra()).containsEntry("credits", 3L);
    assertThat(service.getRequestCount()).isEqualTo(1);
  }

  @Test
  void anotherUsersSessionIsNotFoundWithoutAskingTheServiceOrReservingTheirCredits() {
    chat(USER, "hello");

    Throwable read = catchThrowable(() -> gateway.getSession(OTHER, "s"));
    Throwable deleted = catchThrowable(() -> gateway.deleteSession(OTHER, "s"));
    Throwable continued = catchThrowable(() -> gateway.chat(OTHER, ChatRequest.builder().query("q").sessionId("s")
        .build()));

    assertThat(List.of(read, deleted, continued)).allSatisfy(e -> assertThat(e).isInstanceOf(NotFoundException.class));
    assertThat(service.getRequestCount()).isEqualTo(1);
    assertThat(ledger.balance("u2")).isEqualTo(100);
    assertThat(ledger.pendingCount()).isZero();
    assertThat(store.find("s").orElseThrow().messageCount()).isEqualTo(2);
  }

  @Test
  void aSessionBegunBeforeTheStoreIsAdoptedIntoTheDatabaseOnItsOwnersFirstRead() {
    service.enqueue(new MockResponse.Builder().body("{\"session_id\":\"old\",\"title\":\"t\","
        + "\"created_at\":\"2026-11-20T10:00:00Z\",\"last_activity_at\":\"2026-11-20T10:05:00Z\",\"message_count\":2,"
        + "\"messages\":[{\"message_id\":\"m1\",\"role\":\"user\",\"content\":\"Rails in Berlin\"}]}").build());

    gateway.getSession(USER, "old");

    assertThat(store.find("old")).contains(new SessionRecord("old", "u1", "c1", "recruiter", "Rails in Berlin",
        Instant.parse("2026-11-20T10:00:00Z"), Instant.parse("2026-11-20T10:05:00Z"), 2, 0, 0));
    assertThat(catchThrowable(() -> gateway.getSession(OTHER, "old"))).isInstanceOf(NotFoundException.class);
    assertThat(service.getRequestCount()).isEqualTo(1);
  }

  @Test
  void deletingRemovesTheServicesSessionThenTheDatabaseRecord() throws InterruptedException {
    chat(USER, "hello");
    service.enqueue(new MockResponse.Builder().code(204).build());

    gateway.deleteSession(USER, "s");

    service.takeRequest();
    assertThat(service.takeRequest().getMethod()).isEqualTo("DELETE");
    assertThat(store.find("s")).isEmpty();
    assertThat(gateway.listSessions(USER, 10, null).sessions()).isEmpty();
  }

  @Test
  void theCleanupDeletesTheRecordsOfSessionsTheServiceDropped() {
    chat(USER, "hello");
    clock.advance(Duration.ofHours(2));
    service.enqueue(new MockResponse.Builder().code(404).body(NOT_FOUND).build());

    assertThat(gateway.removeSessionsGoneFromService(Duration.ofHours(1), 10)).isEqualTo(1);

    assertThat(store.find("s")).isEmpty();
  }

  @Test
  void aFailingSessionTableDoesNotCostTheUserTheAnswerOrTheLedgerItsCharge() throws Exception {
    try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
      s.execute("DROP TABLE " + JdbcSessionStore.TABLE);
    }

    chat(USER, "hello");

    assertThat(ledger.balance("u1")).isEqualTo(97);
    assertThat(ledger.pendingCount()).isZero();
  }
}
