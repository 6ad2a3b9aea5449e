package dev.llmgateway.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.ErrorKind;
import dev.llmgateway.host.ErrorMapper;
import dev.llmgateway.host.ErrorResponse;
import dev.llmgateway.testkit.PostgresServer;
import java.io.IOException;
import java.time.Duration;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A {@link ChatGateway} whose credits are in PostgreSQL: paid calls, and credits failing closed. */
class JdbcChatGatewayTest {
  @RegisterExtension
  static final PostgresServer POSTGRES = new PostgresServer();

  private static final UserContext USER = UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();
  private static final String CHAT = "{\"session_id\":\"s\",\"message_id\":\"m\",\"intent\":\"chat\",\"answer\":\"ok\","
      + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}";

  private final MockWebServer service = new MockWebServer();
  private Databases databases;
  private JdbcCreditLedger ledger;
  private LlmGatewayClient client;
  private ChatGateway gateway;

  @BeforeEach
  void setUp() throws IOException {
    POSTGRES.start();
    service.start();
    databases = new Databases(POSTGRES);
    ledger = JdbcCreditLedger.builder(databases.pool(Duration.ofSeconds(1))).build();
    ledger.deposit("u1", 100);
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("t")
        .environment(n -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
    gateway = ChatGateway.builder().client(client).ledger(ledger).build();
  }

  @AfterEach
  void tearDown() {
    client.close();
    service.close();
    POSTGRES.start();
    databases.close();
  }

  @Test
  void paidChatIsChargedInTheDatabase() {
    service.enqueue(new MockResponse.Builder().code(200).body(CHAT).build());

    gateway.chat(USER, ChatRequest.of("hi"));

    assertThat(ledger.balance("u1")).isLessThan(100);
    assertThat(ledger.reserved("u1")).isZero();
    assertThat(ledger.pendingCount()).isZero();
  }

  @Test
  void databaseDownRefusesTheCallWith503AndSendsNothing() {
    POSTGRES.stop();

    Throwable refused = catchThrowable(() -> gateway.chat(USER, ChatRequest.of("hi")));

    assertThat(refused).isInstanceOf(CreditStoreException.class);
    ErrorResponse response = ErrorMapper.ofDefaults().toResponse(refused);
    assertThat(response.status()).isEqualTo(503);
    assertThat(response.kind()).isEqualTo(ErrorKind.SERVICE_UNAVAILABLE);
    assertThat(response.headers()).containsEntry("Retry-After", "1");
    assertThat(response.toJson()).doesNotContain("SQLState", "127.0.0.1", "postgres");
    assertThat(service.getRequestCount()).isZero();
    POSTGRES.start();
    JdbcCreditLedger restarted = JdbcCreditLedger.builder(databases.pool()).build();
    assertThat(restarted.balance("u1")).isEqualTo(100);
    assertThat(restarted.pendingCount()).isZero();
  }
}
