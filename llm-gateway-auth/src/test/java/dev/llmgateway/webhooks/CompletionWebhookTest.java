package dev.llmgateway.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.Usage;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CompletionWebhookTest {
  private static CompletionWebhook parse(String json) {
    return CompletionWebhook.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void readsEveryContractField() {
    CompletionWebhook webhook = parse(WebhookVerifierTest.BODY_TEXT);

    assertThat(webhook.type()).isEqualTo("chat.completed");
    assertThat(webhook.requestId()).isEqualTo("req-42");
    assertThat(webhook.sessionId()).isEqualTo("sess_8f14e45f");
    assertThat(webhook.messageId()).isEqualTo("msg_01");
    assertThat(webhook.userId()).isEqualTo("123");
    assertThat(webhook.companyId()).isEqualTo("456");
    assertThat(webhook.status()).isEqualTo(CompletionWebhook.Status.COMPLETED);
    assertThat(webhook.finishReason()).isEqualTo("stop");
    assertThat(webhook.usage()).isEqualTo(new Usage(1, 2, 3));
    assertThat(webhook.completedAt()).isEqualTo(Instant.parse("2026-11-20T10:05:00Z"));
  }

  @Test
  void toleratesUnknownFields() {
    CompletionWebhook webhook = parse("{\"type\":\"chat.completed\",\"version\":2,\"data\":{\"request_id\":\"r\","
        + "\"status\":\"failed\",\"cost\":{\"eur\":0.01},\"tags\":[\"a\"]}}");

    assertThat(webhook.requestId()).isEqualTo("r");
    assertThat(webhook.status()).isEqualTo(CompletionWebhook.Status.FAILED);
  }

  @Test
  void readsCancelled() {
    assertThat(parse("{\"data\":{\"status\":\"cancelled\"}}").status()).isEqualTo(CompletionWebhook.Status.CANCELLED);
  }

  @Test
  void keepsAnUnknownStatusRaw() {
    CompletionWebhook webhook = parse("{\"data\":{\"status\":\"timed_out\"}}");

    assertThat(webhook.status()).isEqualTo(CompletionWebhook.Status.UNKNOWN);
    assertThat(webhook.rawStatus()).isEqualTo("timed_out");
  }

  @Test
  void readsAbsentFieldsAsNull() {
    CompletionWebhook webhook = parse("{}");

    assertThat(webhook.type()).isNull();
    assertThat(webhook.requestId()).isNull();
    assertThat(webhook.usage()).isNull();
    assertThat(webhook.completedAt()).isNull();
    assertThat(webhook.status()).isEqualTo(CompletionWebhook.Status.UNKNOWN);
  }

  @Test
  void readsNumericIdsAsText() {
    assertThat(parse("{\"data\":{\"user_id\":123,\"company_id\":456}}").userId()).isEqualTo("123");
  }

  @Test
  void readsAnUnparseableTimeAsNull() {
    assertThat(parse("{\"data\":{\"completed_at\":\"yesterday\"}}").completedAt()).isNull();
  }

  @Test
  void readsAnOffsetTimeAsTheSameInstant() {
    assertThat(parse("{\"data\":{\"completed_at\":\"2026-11-20T11:05:00+01:00\"}}").completedAt())
        .isEqualTo(Instant.parse("2026-11-20T10:05:00Z"));
  }
}
