package dev.llmgateway.webhooks;

import static dev.llmgateway.webhooks.WebhookVerifierTest.WHSEC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.testkit.Concurrently;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/** One verifier shared by threads: each verify must use a Mac of its own (they share a prototype). */
class WebhookVerifierConcurrencyTest {
  private static final int THREADS = 4;
  private static final int DELIVERIES_PER_THREAD = 300;
  private static final Instant NOW = Instant.parse("2026-11-20T10:05:01Z");

  private final WebhookSigner signer = WebhookSigner.of(WebhookSecret.parse(WHSEC));
  private final WebhookVerifier verifier = WebhookVerifier.builder().secret(WebhookSecret.parse(WHSEC))
      .clock(java.time.Clock.fixed(NOW, java.time.ZoneOffset.UTC)).build();

  private static byte[] body(int thread, int i) {
    return ("{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"req-" + thread + "-" + i + "\","
        + "\"session_id\":\"sess_1\",\"message_id\":\"msg_1\",\"user_id\":\"123\",\"company_id\":\"456\","
        + "\"status\":\"completed\",\"finish_reason\":\"stop\","
        + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3},"
        + "\"completed_at\":\"2026-11-20T10:05:00Z\",\"pad\":\"" + "x".repeat(i % 97) + "\"}}")
        .getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void threadsVerifyingAtOnceEachGetTheRightAnswer() throws Exception {
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      tasks.add(() -> {
        int verified = 0;
        for (int i = 0; i < DELIVERIES_PER_THREAD; i++) {
          byte[] body = body(thread, i);
          String id = "msg_" + thread + "_" + i;
          Map<String, String> headers = signer.headers(id, NOW, body);
          if (i % 3 == 0) {
            // Another thread's body under this signature: must be refused, whatever the others do.
            byte[] other = body((thread + 1) % THREADS, i);
            assertThatThrownBy(() -> verifier.verify(headers::get, other))
                .isInstanceOfSatisfying(WebhookVerificationException.class,
                    e -> assertThat(e.reason()).isEqualTo(WebhookVerificationException.Reason.BAD_SIGNATURE));
          } else {
            VerifiedWebhook webhook = verifier.verify(headers::get, body);
            assertThat(webhook.id()).isEqualTo(id);
            assertThat(webhook.body()).isEqualTo(body);
            verified++;
          }
        }
        return verified;
      });
    }
    assertThat(Concurrently.run(tasks)).containsOnly(DELIVERIES_PER_THREAD - DELIVERIES_PER_THREAD / 3);
  }
}
