package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.host.ChatGateway.WebhookOutcome;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A restart loses nothing (issue 14, "What the tests must show" 3): balances, open reservations
 * and settled request ids survive replacing a host instance and restarting PostgreSQL between two
 * requests; webhooks redelivered afterwards are acknowledged and not charged.
 */
class RestartTest extends SystemTest {
  private static final UserContext ADA = UserContext.builder().userId("ada").companyId("c1").role("recruiter").build();
  private static final long PRICE = HostInstance.PRICE;


  @Test
  void balancesOpenReservationsAndSettledRequestIdsSurviveAnInstanceReplacedAndPostgresRestarted() {
    stores.deposit("ada", 100);
    HostInstance a = stores.instance(url(), s -> { });
    HostInstance b = stores.instance(url(), s -> { });
    a.gateway.chat(ADA, ChatRequest.of("hi"));
    StreamToken settled = a.gateway.initDirectStream(ADA, ChatRequest.of("hi"));
    byte[] settledBody = HostInstance.completion(settled.requestId(), "completed", "ada");
    assertThat(a.deliver("msg_settled", settledBody)).isEqualTo(WebhookOutcome.COMMITTED);
    StreamToken open = a.gateway.initDirectStream(ADA, ChatRequest.of("hi"));
    assertThat(stores.available("ada")).isEqualTo(100 - 3 * PRICE);
    assertThat(stores.held("ada")).isEqualTo(PRICE);
    List<String> rows = stores.rows();

    HostInstance replaced = stores.replace(a);

    assertThat(stores.rows()).as("the tables after the instance went").isEqualTo(rows);
    assertThat(replaced.ledger.findByRequestId(open.requestId()))
        .hasValueSatisfying(r -> assertThat(r.credits()).isEqualTo(PRICE));
    replaced.gateway.chat(ADA, ChatRequest.of("the request before PostgreSQL restarts"));

    postgres().stop();
    postgres().start();

    replaced.gateway.chat(ADA, ChatRequest.of("the request after PostgreSQL restarted"));
    b.gateway.chat(ADA, ChatRequest.of("on the instance whose pool lived through the restart"));
    assertThat(stores.available("ada")).isEqualTo(100 - 6 * PRICE);
    assertThat(stores.held("ada")).as("the open reservation, still held").isEqualTo(PRICE);
    assertThat(replaced.deliver("msg_open", HostInstance.completion(open.requestId(), "completed", "ada")))
        .as("the open reservation's webhook, after both restarts").isEqualTo(WebhookOutcome.COMMITTED);
    assertThat(stores.held("ada")).isZero();
    assertThat(stores.available("ada")).isEqualTo(100 - 6 * PRICE);

    assertThat(replaced.deliver("msg_settled", settledBody)).as("redelivered to the new instance")
        .isEqualTo(WebhookOutcome.DUPLICATE);
    assertThat(b.deliver("msg_settled", settledBody)).as("redelivered to the other instance")
        .isEqualTo(WebhookOutcome.DUPLICATE);
    redis().stop();
    redis().start(); // forgets the webhook ids: the settled request id in PostgreSQL still answers
    b.awaitRedisReconnected();
    assertThat(b.deliver("msg_settled", settledBody)).as("redelivered after Redis forgot its id")
        .isEqualTo(WebhookOutcome.ALREADY_SETTLED);
    assertThat(stores.available("ada")).isEqualTo(100 - 6 * PRICE);
    assertThat(stores.reservations("COMMITTED")).isEqualTo(6);
    assertThat(stores.reservations("PENDING")).isZero();
    assertThat(upstream.getRequestCount()).isEqualTo(4);
  }
}
