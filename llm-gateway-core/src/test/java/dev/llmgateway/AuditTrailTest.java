package dev.llmgateway;

import static dev.llmgateway.TestSupport.TOKEN;
import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The client's audit events: the query preview is at most 50 characters with its ellipsis and
 * never splits a surrogate pair, the request's metadata is there but bounded, the log line stays
 * one parseable {@code key=value} line without a secret, and a validation refusal reaches the
 * shared listener as {@link GatewayListener#callRefused}.
 */
class AuditTrailTest extends MockServerTest {
  private static final String EMOJI = "\uD83D\uDE00"; // one code point, two UTF-16 chars

  private String previewOf(String query) {
    audit.events.clear();
    server.enqueue(chatOk());
    client.chat(ChatRequest.of(query), USER);
    assertThat(audit.events).hasSize(1);
    return audit.events.get(0).queryPreview();
  }

  @Test
  void aQueryOfExactlyFiftyCharactersIsKeptWhole() {
    String query = "q".repeat(50);

    assertThat(previewOf(query)).isEqualTo(query);
  }

  @Test
  void aQueryOfFiftyOneCharactersIsCutToFiftyWithTheEllipsis() {
    String query = "q".repeat(50) + "r";

    assertThat(previewOf(query)).isEqualTo("q".repeat(49) + "\u2026").hasSize(50);
  }

  @Test
  void theCutNeverSplitsASurrogatePair() {
    // The pair would take chars 49 and 50: dropped whole, the preview is 48 chars and the ellipsis.
    assertThat(previewOf("a".repeat(48) + EMOJI + "b")).isEqualTo("a".repeat(48) + "\u2026");
    // Thirty emoji are 60 chars: 24 of them (48 chars) and the ellipsis.
    String emoji = previewOf(EMOJI.repeat(30));
    assertThat(emoji).isEqualTo(EMOJI.repeat(24) + "\u2026").hasSizeLessThanOrEqualTo(50);
    // Twenty-five emoji are exactly 50 chars: kept whole.
    assertThat(previewOf(EMOJI.repeat(25))).isEqualTo(EMOJI.repeat(25));
    for (int extra = 0; extra < 4; extra++) {
      String preview = previewOf("x".repeat(45 + extra) + EMOJI.repeat(5));
      assertThat(preview).hasSizeLessThanOrEqualTo(50);
      assertThat(Character.isHighSurrogate(preview.charAt(preview.length() - 1))).isFalse();
      assertThat(preview.codePoints().filter(cp -> Character.isSurrogate((char) cp) && cp < 0x10000)).isEmpty();
    }
  }

  @Test
  void theRequestsMetadataIsAuditedBounded() {
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("source", "search_page");
    metadata.put("page", 3);
    metadata.put("long", "v".repeat(200) + "END-OF-VALUE");
    metadata.put("k".repeat(100), true);
    metadata.put("nested", Map.of("tags", List.of("a".repeat(80), "b")));
    metadata.put("evil key=\"x\"\nforged=1", "line\nbreak");
    for (int i = 0; i < 10; i++) {
      metadata.put("extra" + i, i);
    }
    server.enqueue(chatOk());
    client.chat(ChatRequest.builder().query("Find engineers").metadata(metadata).build(), USER);

    AuditEvent event = audit.events.get(0);
    assertThat(event.metadata()).hasSize(AuditEvent.MAX_METADATA_ENTRIES);
    assertThat(event.metadata()).containsEntry("source", "search_page").containsEntry("page", "3");
    assertThat(event.metadata().get("long")).isEqualTo("v".repeat(49) + "\u2026");
    assertThat(event.metadata()).containsEntry("k".repeat(39) + "\u2026", "true");
    assertThat(event.metadata().get("nested")).startsWith("{\"tags\":[\"aaa").hasSize(50).endsWith("\u2026");
    assertThat(event.metadata()).containsEntry("evil key=\"x\" forged=1", "line break");
    assertThat(event.metadata().keySet()).allSatisfy(k -> assertThat(k).hasSizeLessThanOrEqualTo(40));
    assertThat(event.metadata().values()).allSatisfy(v -> assertThat(v).hasSizeLessThanOrEqualTo(50));
    assertThat(event.metadata()).doesNotContainKey("extra4");

    Map<String, String> line = parse(event.toLogLine());
    assertThat(line).containsEntry("metadata.source", "search_page").containsEntry("metadata.page", "3")
        .containsEntry("metadata.evil_key__x__forged_1", "line break")
        .containsEntry("action", "chat").containsEntry("outcome", "success").containsEntry("query", "Find engineers");
    assertThat(event.toLogLine()).doesNotContain("\n").doesNotContain("END-OF-VALUE").doesNotContain(TOKEN);
  }

  @Test
  void aCallWithoutMetadataHasAnEmptyMapAndNoMetadataKeys() {
    server.enqueue(chatOk());
    client.chat(ChatRequest.of("Find engineers"), USER);

    assertThat(audit.events).singleElement().satisfies(e -> {
      assertThat(e.metadata()).isEmpty();
      assertThat(e.kind()).isEqualTo(AuditEvent.Kind.CALL);
      assertThat(e.toLogLine()).doesNotContain("metadata.").doesNotContain("kind=");
    });
  }

  @Test
  void aValidationRefusalIsAuditedOnceAndReachesTheSharedListenerOnly() {
    List<String> shared = new CopyOnWriteArrayList<>();
    List<CallInfo> perCall = new CopyOnWriteArrayList<>();
    GatewayListener recorder = new GatewayListener() {
      @Override
      public void callRefused(Operation operation, LlmGatewayException refusal) {
        shared.add(operation + " " + refusal.getClass().getSimpleName());
      }
    };
    useClient(clientBuilder().listener(GatewayListener.composite(GatewayListener.logging(), recorder))
        .listenerFactory(call -> {
          perCall.add(call);
          return GatewayListener.none();
        }));

    Throwable refused = catchThrowable(() -> client.chat(ChatRequest.of(""), USER));
    Throwable streamRefused = catchThrowable(() -> client.chatStream(ChatRequest.of(""), USER));

    assertThat(refused).isInstanceOf(ValidationException.class);
    assertThat(streamRefused).isInstanceOf(ValidationException.class);
    assertThat(shared).containsExactly("CHAT ValidationException", "CHAT_STREAM ValidationException");
    assertThat(perCall).isEmpty();
    assertThat(audit.events).extracting(AuditEvent::outcome)
        .containsExactly(AuditEvent.Outcome.REJECTED, AuditEvent.Outcome.REJECTED);
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void aRefusedCallsInvalidIdsAreAuditedBounded() {
    UserContext huge = UserContext.builder().userId("u".repeat(5_000)).companyId("c\nforged=1").role("recruiter")
        .build();

    catchThrowable(() -> client.chat(ChatRequest.of("hi"), huge, CallOptions.withRequestId("r".repeat(1_000))));

    assertThat(audit.events).singleElement().satisfies(e -> {
      assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.REJECTED);
      assertThat(e.userId()).hasSize(RequestValidator.MAX_HEADER_VALUE_LENGTH).endsWith("\u2026");
      assertThat(e.requestId()).hasSize(RequestValidator.MAX_HEADER_VALUE_LENGTH);
      assertThat(e.companyId()).isEqualTo("c forged=1");
      assertThat(e.toLogLine()).hasSizeLessThan(1_000).doesNotContain("\n");
    });
  }

  @Test
  void theOldConstructorStillBuildsAnEventOfACall() {
    AuditEvent event = new AuditEvent(java.time.Instant.EPOCH, "r", Operation.CHAT, "u", "c", "q",
        AuditEvent.Outcome.SUCCESS, 200, java.time.Duration.ZERO, 1, null, null);

    assertThat(event.metadata()).isEmpty();
    assertThat(event.kind()).isEqualTo(AuditEvent.Kind.CALL);
  }

  /**
   * A logfmt reader: {@code key=value} pairs separated by spaces, a value either bare or in double
   * quotes with {@code \"} and {@code \\} escapes. Fails the test on anything else.
   */
  static Map<String, String> parse(String line) {
    Map<String, String> out = new LinkedHashMap<>();
    int i = 0;
    while (i < line.length()) {
      int eq = line.indexOf('=', i);
      assertThat(eq).as("a key=value pair at %d of %s", i, line).isGreaterThan(i);
      String key = line.substring(i, eq);
      assertThat(key).doesNotContain(" ", "\"");
      i = eq + 1;
      StringBuilder value = new StringBuilder();
      if (i < line.length() && line.charAt(i) == '"') {
        i++;
        while (line.charAt(i) != '"') {
          if (line.charAt(i) == '\\') {
            i++;
          }
          value.append(line.charAt(i++));
        }
        i++;
      } else {
        while (i < line.length() && line.charAt(i) != ' ') {
          value.append(line.charAt(i++));
        }
      }
      assertThat(out.put(key, value.toString())).as("key %s once", key).isNull();
      assertThat(i == line.length() || line.charAt(i) == ' ').isTrue();
      i++;
    }
    return out;
  }
}
