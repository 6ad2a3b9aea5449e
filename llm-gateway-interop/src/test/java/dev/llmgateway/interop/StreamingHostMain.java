package dev.llmgateway.interop;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditPricing;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.testkit.PostgresServer;
import java.io.OutputStream;

/**
 * A host instance in a JVM of its own, for {@link KilledInstanceTest}: a {@link ChatGateway} on the
 * shared PostgreSQL streams one answer of user {@code args[2]} from the upstream {@code args[1]},
 * and prints {@value #STREAMING} once its reservation is made and the stream's first event has
 * reached the browser. The test then kills it.
 */
public final class StreamingHostMain {
  /** The line printed once the stream is relayed (its reservation held). */
  static final String STREAMING = "STREAMING";

  private StreamingHostMain() {}

  /**
   * Runs the instance.
   *
   * @param args the JDBC URL of the database, the upstream's base URL, the user id
   */
  public static void main(String[] args) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[0]);
    config.setUsername(PostgresServer.USER);
    config.setMaximumPoolSize(2);
    try (HikariDataSource pool = new HikariDataSource(config);
        LlmGatewayClient client = LlmGatewayClient.builder().baseUrl(args[1]).serviceToken("svc-token")
            .environment(n -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
        ChatGateway gateway = ChatGateway.builder().client(client)
            .ledger(JdbcCreditLedger.builder(pool).build())
            .pricing(CreditPricing.flat(HostInstance.PRICE)).estimate(request -> HostInstance.PRICE)
            .build()) {
      UserContext user = UserContext.builder().userId(args[2]).companyId("c1").role("recruiter").build();
      gateway.stream(user, ChatRequest.of("hi"), headers -> {
        System.out.println(STREAMING);
        System.out.flush();
        return OutputStream.nullOutputStream();
      });
      System.out.println("ENDED"); // not expected: the upstream stalls until the instance is killed
    }
  }
}
