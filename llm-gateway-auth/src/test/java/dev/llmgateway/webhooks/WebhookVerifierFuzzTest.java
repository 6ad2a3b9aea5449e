package dev.llmgateway.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.llmgateway.auth.ReplayStore;
import dev.llmgateway.auth.internal.StrictJson;
import dev.llmgateway.webhooks.WebhookVerificationException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes {@link WebhookVerifier}, both variants, with arbitrary headers and bodies.
 *
 * <p>A fuzz input is {@code [mode] id \n timestamp \n signature \n body...}. Each of the three
 * header fields may hold several values separated by byte {@code 0x1F}, sent as repeated headers.
 * Mode bit 0: sign the delivery with the verifier's secret over the first id and timestamp (with
 * spaces and tabs at their ends removed, as the verifier does) and the body, and add that {@code v1}
 * signature after the fuzzed ones, so the fuzzer reaches the timestamp and body checks. Mode bit 1:
 * read the headers through a {@code Function} lookup that joins repeated values with {@code ", "}
 * (as JAX-RS does) instead of the map.
 *
 * <p>Only {@link WebhookVerificationException} may escape, its message naming the rule and nothing
 * of the input. An accepted delivery must have been signed here, carry a well-formed id and
 * timestamp that every repeated value agrees with, be within the tolerance, have a body that is
 * exactly one JSON object, and be a duplicate when verified again. An id the signer refuses must be
 * refused by the verifier too. Without {@code JAZZER_FUZZ} the seeds in {@code
 * WebhookVerifierFuzzTestInputs/} run as regression tests; {@code .ci/fuzz} runs it in fuzzing mode.
 */
class WebhookVerifierFuzzTest {
  private static final Instant NOW = Instant.parse("2026-11-20T10:05:01Z");
  private static final WebhookSecret SECRET = WebhookSecret.parse(WebhookVerifierTest.WHSEC);
  private static final ReplayStore IDS = ReplayStore.inMemoryEvicting(Clock.fixed(NOW, ZoneOffset.UTC), 1_000);
  private static final WebhookVerifier VERIFIER = WebhookVerifier.builder().secret(SECRET)
      .clock(Clock.fixed(NOW, ZoneOffset.UTC)).idStore(IDS).build();

  /** One decoded fuzz input. */
  private static final class Delivery {
    final boolean signed;
    final boolean lookup;
    final Map<String, List<String>> headers = new HashMap<>();
    final byte[] body;

    Delivery(byte[] raw) {
      int mode = raw.length == 0 ? 0 : raw[0] & 0xFF;
      signed = (mode & 1) != 0;
      lookup = (mode & 2) != 0;
      int[] at = {raw.length == 0 ? 0 : 1};
      List<String> ids = values(raw, at);
      List<String> timestamps = values(raw, at);
      List<String> signatures = values(raw, at);
      body = Arrays.copyOfRange(raw, Math.min(at[0], raw.length), raw.length);
      if (signed && !ids.isEmpty() && !timestamps.isEmpty()) {
        String id = WebhookVerifier.trimOptionalWhitespace(ids.get(0));
        String timestamp = WebhookVerifier.trimOptionalWhitespace(timestamps.get(0));
        signatures.add("v1," + WebhookSigner.signature(SECRET, id, timestamp, body));
      }
      put(WebhookHeaders.ID, ids);
      put(WebhookHeaders.TIMESTAMP, timestamps);
      put(WebhookHeaders.SIGNATURE, signatures);
    }

    private void put(String name, List<String> values) {
      if (!values.isEmpty()) {
        headers.put(name, values);
      }
    }

    /** Reads one {@code \n}-terminated field of {@code 0x1F}-separated values. */
    private static List<String> values(byte[] raw, int[] at) {
      int end = at[0];
      while (end < raw.length && raw[end] != '\n') {
        end++;
      }
      List<String> values = new ArrayList<>();
      if (at[0] < raw.length) {
        String field = new String(raw, at[0], end - at[0], StandardCharsets.UTF_8);
        values.addAll(Arrays.asList(field.split("\u001f", -1)));
      }
      at[0] = end + 1;
      return values;
    }

    VerifiedWebhook verify() {
      if (lookup) {
        Function<String, String> joined = name -> headers.containsKey(name) ? String.join(", ", headers.get(name)) : null;
        return VERIFIER.verify(joined, body);
      }
      return VERIFIER.verify(headers, body);
    }

    List<String> trimmed(String name) {
      List<String> out = new ArrayList<>();
      for (String value : headers.getOrDefault(name, List.of())) {
        String t = WebhookVerifier.trimOptionalWhitespace(value);
        if (!t.isEmpty()) {
          out.add(t);
        }
      }
      return out;
    }
  }

  @FuzzTest(maxDuration = "30s")
  void verifiesArbitraryDeliveries(byte[] raw) {
    Delivery delivery = new Delivery(raw);
    VerifiedWebhook webhook;
    try {
      webhook = delivery.verify();
    } catch (WebhookVerificationException e) {
      assertThat(e.getMessage())
          .startsWith("Webhook refused (" + e.reason() + "): ")
          .matches("[ -~]{1,300}")
          .doesNotContain(WebhookVerifierTest.SECRET_B64);
      List<String> ids = delivery.trimmed(WebhookHeaders.ID);
      if (!ids.isEmpty() && !WebhookSigner.isMessageId(ids.get(0))) {
        assertThat(e.reason()).as("an id the signer refuses").isIn(Reason.MALFORMED_HEADER, Reason.MISSING_HEADER);
      }
      return;
    }
    try {
      assertThat(delivery.signed).as("only a delivery signed with the secret can pass").isTrue();
      List<String> ids = delivery.trimmed(WebhookHeaders.ID);
      List<String> timestamps = delivery.trimmed(WebhookHeaders.TIMESTAMP);
      assertThat(ids).allMatch(webhook.id()::equals);
      assertThat(WebhookSigner.isMessageId(webhook.id())).isTrue();
      assertThat(timestamps).allMatch(t -> t.matches("[0-9]{1,19}") && Long.parseLong(t) == webhook.timestamp().getEpochSecond());
      assertThat(Math.abs(webhook.timestamp().getEpochSecond() - NOW.getEpochSecond()))
          .isLessThanOrEqualTo(WebhookVerifier.DEFAULT_TOLERANCE.toSeconds());
      assertThat(StrictJson.parseObject(delivery.body)).isNotNull();
      assertThat(webhook.body()).isEqualTo(delivery.body);
      assertThat(webhook.isDuplicate()).isFalse();
      assertThat(delivery.verify().isDuplicate()).as("the same delivery again").isTrue();
    } finally {
      VERIFIER.forget(webhook.id());
    }
  }

  /** The corpus reaches the body checks: its valid seeds pass, through the map and the lookup. */
  @Test
  void theValidSeedsAreAccepted() {
    for (String seed : new String[] {"valid", "valid-through-a-lookup", "valid-with-spaces-and-tabs",
        "valid-repeated-identical-ids"}) {
      VerifiedWebhook webhook = new Delivery(seed(seed)).verify();
      VERIFIER.forget(webhook.id());

      assertThat(webhook.completion().requestId()).as(seed).isEqualTo("req-42");
    }
  }

  private static byte[] seed(String name) {
    String path = "WebhookVerifierFuzzTestInputs/verifiesArbitraryDeliveries/" + name;
    try (InputStream in = WebhookVerifierFuzzTest.class.getResourceAsStream(path)) {
      assertThat(in).as(path).isNotNull();
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
