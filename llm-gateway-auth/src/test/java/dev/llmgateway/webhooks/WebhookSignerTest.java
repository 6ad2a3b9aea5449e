package dev.llmgateway.webhooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
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
    for (String bad : new String[] {"msg\n1", "msg\u007f", "msg\u00e9", " ", "m".repeat(257)}) {
      assertThatThrownBy(() -> signer.sign(bad, 1, new byte[0])).as("id %s", bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void signsMessageIdsOfPrintableAsciiUpTo256CharactersAndTheEpoch() {
    for (String id : new String[] {"m".repeat(256), "msg 1 ~"}) {
      assertThat(signer.sign(id, 1, new byte[0])).as("id %s", id).startsWith("v1,");
    }
    assertThat(signer.sign("msg_1", 0, new byte[0])).startsWith("v1,");
    assertThatThrownBy(() -> signer.sign("msg_1", -1, new byte[0])).isInstanceOf(IllegalArgumentException.class);
  }
}
