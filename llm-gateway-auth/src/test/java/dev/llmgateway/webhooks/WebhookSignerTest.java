package dev.llmgateway.webhooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WebhookSignerTest {
  private final WebhookSigner signer = WebhookSigner.of(WebhookSecret.parse(WebhookVerifierTest.WHSEC));

  @Test
  void writesTheThreeStandardHeaders() {
    byte[] body = "{}".getBytes(StandardCharsets.UTF_8);

    Map<String, String> headers = signer.headers("msg_1", Instant.parse("2026-11-20T10:05:00.900Z"), body);

    assertThat(headers).containsOnlyKeys("webhook-id", "webhook-timestamp", "webhook-signature");
    assertThat(headers.get("webhook-id")).isEqualTo("msg_1");
    assertThat(headers.get("webhook-timestamp")).isEqualTo("1795169100");
    assertThat(headers.get("webhook-signature")).isEqualTo(signer.sign("msg_1", 1795169100L, body));
  }

  @Test
  void writesVersionOneSignatures() {
    assertThat(signer.sign("msg_1", 1, new byte[0])).startsWith("v1,").hasSize(3 + 44);
  }

  @Test
  void refusesAMessageIdThatCannotTravelInAHeader() {
    for (String bad : new String[] {"msg\n1", "msg\u007f", "msg\u00e9", " ", "m".repeat(257), "", "msg 1", " msg_1",
        "msg_1\t", "msg\u00a01", "msg\u20281", "\u3000msg_1", "msg_1\ufeff"}) {
      assertThatThrownBy(() -> signer.sign(bad, 1, new byte[0])).as("id %s", bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void signsMessageIdsOfVisibleAsciiUpTo256CharactersAndTheEpoch() {
    for (String id : new String[] {"m".repeat(256), "!msg_1~", "msg_2LhQ8xzH2yE0kqB1"}) {
      assertThat(signer.sign(id, 1, new byte[0])).as("id %s", id).startsWith("v1,");
    }
    assertThat(signer.sign("msg_1", 0, new byte[0])).startsWith("v1,");
    assertThatThrownBy(() -> signer.sign("msg_1", -1, new byte[0])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> signer.headers("msg_1", Instant.ofEpochSecond(-1), new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theLargestTimestampItSignsIsWellFormedForTheVerifierNotMalformed() {
    byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
    WebhookVerifier verifier = WebhookVerifier.builder().secret(WebhookSecret.parse(WebhookVerifierTest.WHSEC)).build();
    Map<String, List<String>> headers = Map.of(
        "webhook-id", List.of("msg_1"),
        "webhook-timestamp", List.of(Long.toString(Long.MAX_VALUE)),
        "webhook-signature", List.of(signer.sign("msg_1", Long.MAX_VALUE, body)));

    assertThatThrownBy(() -> verifier.verify(headers, body))
        .isInstanceOfSatisfying(WebhookVerificationException.class,
            e -> assertThat(e.reason()).isEqualTo(WebhookVerificationException.Reason.FUTURE_TIMESTAMP));
  }
}
