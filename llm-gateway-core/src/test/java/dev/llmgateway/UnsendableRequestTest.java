package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.ValidationException.Violation;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Request data the SDK cannot send (or cannot send as given) is refused with a {@link
 * ValidationException} naming the field, before anything is sent, by every call variant.
 */
class UnsendableRequestTest extends MockServerTest {
  private static final String LONE_HIGH = "\uD83D";
  private static final String LONE_LOW = "\uDE00";

  @AfterEach
  void nothingReachedTheService() {
    assertThat(server.getRequestCount()).isZero();
  }

  private List<Violation> violationsOf(Runnable call) {
    ValidationException e = catchThrowableOfType(ValidationException.class, call::run);
    assertThat(e).as("a ValidationException").isNotNull();
    return e.violations();
  }

  private List<Violation> chatViolations(Consumer<ChatRequest.Builder> metadata) {
    ChatRequest.Builder request = ChatRequest.builder().query("q");
    metadata.accept(request);
    return violationsOf(() -> client.chat(request.build(), USER));
  }

  private static Map<String, Object> nested(int levels) {
    Map<String, Object> top = new HashMap<>();
    Map<String, Object> current = top;
    for (int i = 1; i < levels; i++) {
      Map<String, Object> next = new HashMap<>();
      current.put("n", next);
      current = next;
    }
    return top;
  }

  @Test
  void metadataThatContainsItselfIsRefusedNotAStackOverflow() {
    Map<String, Object> loop = new HashMap<>();
    loop.put("self", loop);

    assertThat(chatViolations(r -> r.putMetadata("loop", loop)))
        .containsExactly(new Violation("metadata", "at metadata.loop.self: contains itself"));
  }

  @Test
  void aListThatContainsItselfIsRefused() {
    List<Object> list = new ArrayList<>();
    list.add("a");
    list.add(list);

    assertThat(chatViolations(r -> r.putMetadata("list", list)))
        .containsExactly(new Violation("metadata", "at metadata.list[1]: contains itself"));
  }

  @Test
  void metadataNestedThousandsOfLevelsDeepIsRefused() {
    assertThat(chatViolations(r -> r.metadata(nested(5000))))
        .extracting(Violation::field, Violation::reason)
        .singleElement()
        .satisfies(v -> assertThat(v.toList()).containsExactly(
            "metadata", "at metadata" + ".n".repeat(16) + ": is nested more than 16 maps or lists deep"));
  }

  @Test
  void metadataDepthCountsTheMetadataObjectAndIsConfigurable() {
    RequestValidator validator = RequestValidator.ofDefaults();
    validator.validate(ChatRequest.builder().query("q").metadata(nested(16)).build(), USER);
    assertThatThrownBy(() -> validator.validate(ChatRequest.builder().query("q").metadata(nested(17)).build(), USER))
        .isInstanceOf(ValidationException.class);

    useClient(clientBuilder().maxMetadataDepth(2));
    assertThat(chatViolations(r -> r.metadata(nested(3)))).extracting(Violation::field).containsExactly("metadata");
  }

  @Test
  void metadataOverTheByteLimitIsRefused() {
    String tenMegabytes = "x".repeat(10 * 1024 * 1024);
    assertThat(chatViolations(r -> r.putMetadata("blob", tenMegabytes)))
        .containsExactly(new Violation("metadata", "must be at most 65536 bytes as JSON"));
  }

  @Test
  void theByteLimitCountsTheUtf8JsonEncodingAndIsConfigurable() {
    // {"k":"é"} is 10 bytes: the é takes two.
    RequestValidator ten = RequestValidator.builder().maxMetadataBytes(10).build();
    ten.validate(ChatRequest.builder().query("q").putMetadata("k", "\u00e9").build(), USER);
    assertThatThrownBy(() -> ten.validate(ChatRequest.builder().query("q").putMetadata("k", "\u00e9x").build(), USER))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("at most 10 bytes");

    useClient(clientBuilder().maxMetadataBytes(10));
    assertThat(chatViolations(r -> r.putMetadata("k", "\u00e9x"))).extracting(Violation::field).containsExactly("metadata");
  }

  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // liveness: unbounded, this walk has 16^15 steps
  void sharedSubListsCannotMakeTheWalkUnbounded() {
    List<Object> list = List.of("leaf");
    for (int i = 0; i < 15; i++) {
      list = List.of(list, list, list, list, list, list, list, list, list, list, list, list, list, list, list, list);
    }
    List<Object> wide = list;
    useClient(clientBuilder().maxMetadataDepth(RequestValidator.MAX_METADATA_DEPTH_LIMIT));

    assertThat(chatViolations(r -> r.putMetadata("wide", wide)))
        .containsExactly(new Violation("metadata", "must be at most 65536 bytes as JSON"));
  }

  @ParameterizedTest
  @ValueSource(doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY})
  void numbersJsonCannotExpressAreRefused(double number) {
    assertThat(chatViolations(r -> r.putMetadata("score", List.of(1, number))))
        .singleElement()
        .satisfies(v -> assertThat(v.reason()).startsWith("at metadata.score[1]: is " + number));
    assertThat(chatViolations(r -> r.putMetadata("f", (float) number))).extracting(Violation::field).containsExactly("metadata");
  }

  @Test
  void valuesThatAreNotJsonAreRefusedNamingTheirType() {
    record Pojo(String name) {}
    assertThat(chatViolations(r -> r.putMetadata("p", Map.of("x", new Pojo("a")))))
        .containsExactly(new Violation("metadata",
            "at metadata.p.x: is a " + Pojo.class.getName() + ", not a JSON value; use strings, numbers, booleans, null, maps and lists"));
    assertThat(chatViolations(r -> r.putMetadata("o", Optional.of("a")))).extracting(Violation::field).containsExactly("metadata");
    assertThat(chatViolations(r -> r.putMetadata("d", Duration.ZERO))).extracting(Violation::field).containsExactly("metadata");
    assertThat(chatViolations(r -> r.putMetadata("n", new AtomicInteger()))).extracting(Violation::field).containsExactly("metadata");
    assertThat(chatViolations(r -> r.putMetadata("c", 'c'))).extracting(Violation::field).containsExactly("metadata");
  }

  @Test
  void nestedKeysMustBeStrings() {
    Map<Object, Object> numberKeys = new HashMap<>();
    numberKeys.put(1, "one");
    Map<Object, Object> nullKey = new HashMap<>();
    nullKey.put(null, "none");

    assertThat(chatViolations(r -> r.putMetadata("m", numberKeys)))
        .containsExactly(new Violation("metadata", "at metadata.m: has a java.lang.Integer key; keys must be strings"));
    assertThat(chatViolations(r -> r.putMetadata("m", nullKey)))
        .containsExactly(new Violation("metadata", "at metadata.m: has a null key; keys must be strings"));
  }

  @Test
  void topLevelMetadataKeysMustNotBeEmptyOrNull() {
    Map<String, Object> nullKey = new HashMap<>();
    nullKey.put(null, "x");
    assertThat(chatViolations(r -> r.putMetadata("", "x"))).extracting(Violation::field).containsExactly("metadata");
    assertThat(chatViolations(r -> r.metadata(nullKey))).extracting(Violation::field).containsExactly("metadata");
  }

  @Test
  void aQueryWithAnUnpairedSurrogateIsRefused() {
    assertThat(violationsOf(() -> client.chat(ChatRequest.of("hi " + LONE_HIGH + " there"), USER)))
        .containsExactly(new Violation("query", "must have a UTF-8 encoding: it holds an unpaired UTF-16 surrogate at index 3"));
    assertThat(violationsOf(() -> client.chat(ChatRequest.of(LONE_LOW + LONE_HIGH), USER)))
        .extracting(Violation::field).containsExactly("query");
  }

  @Test
  void aSurrogatePairIsFineButHalfOfOneAtTheEndIsNot() {
    RequestValidator.ofDefaults().validate(ChatRequest.of("\uD83D\uDE00"), USER);
    assertThat(violationsOf(() -> client.chat(ChatRequest.of("ok\uD83D\uDE00" + LONE_HIGH), USER)))
        .extracting(Violation::field).containsExactly("query");
  }

  @Test
  void metadataTextAndKeysWithAnUnpairedSurrogateAreRefused() {
    assertThat(chatViolations(r -> r.putMetadata("tags", List.of("ok", "bad" + LONE_LOW))))
        .containsExactly(new Violation("metadata",
            "at metadata.tags[1]: has text with an unpaired UTF-16 surrogate at index 3, which has no UTF-8 encoding"));
    assertThat(chatViolations(r -> r.putMetadata("k" + LONE_HIGH, "v")))
        .containsExactly(new Violation("metadata",
            "at metadata.k\uFFFD: has key with an unpaired UTF-16 surrogate at index 1, which has no UTF-8 encoding"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"Jos\u00e9", "tab\there", "del\u007f", "nul\u0000", "\uD83D", "\u2028"})
  void userValuesOutsidePrintableAsciiAreRefused(String value) {
    UserContext user = USER.toBuilder().userId(value).companyRole(value).build();
    assertThat(violationsOf(() -> client.chat(ChatRequest.of("q"), user)))
        .extracting(Violation::field).containsExactly("user.user_id", "user.company_role");
  }

  @Test
  void requestIdsAndIdempotencyKeysBeyondAsciiAreRefused() {
    CallOptions options = CallOptions.builder().requestId("r\u00e9q").idempotencyKey(LONE_HIGH).build();
    assertThat(violationsOf(() -> client.chat(ChatRequest.of("q"), USER, options)))
        .extracting(Violation::field).containsExactly("request_id", "idempotency_key");
  }

  @Test
  void everyProblemIsListedTogether() {
    Map<String, Object> loop = new HashMap<>();
    loop.put("self", loop);
    ChatRequest request = ChatRequest.builder().query(LONE_HIGH).putMetadata("loop", loop).build();
    UserContext user = USER.toBuilder().role("r\u00f4le").build();

    assertThat(violationsOf(() -> client.chat(request, user)))
        .extracting(Violation::field).containsExactly("query", "metadata", "user.role");
  }

  @Test
  void theHostsOwnValidationCallCatchesMetadataToo() {
    Map<String, Object> loop = new HashMap<>();
    loop.put("self", loop);
    assertThatThrownBy(() -> client.validator().validate(ChatRequest.builder().query("q").putMetadata("l", loop).build(), USER))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("contains itself");
  }

  @Test
  void asyncChatCompletesExceptionallyInsteadOfThrowing() {
    Map<String, Object> deep = nested(100_000);
    CompletableFuture<ChatResponse> future = client.chatAsync(ChatRequest.builder().query("q").metadata(deep).build(), USER);
    assertThatThrownBy(future::get).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ValidationException.class);
  }

  @Test
  void streamsAreRefusedBeforeOpening() {
    ChatRequest request = ChatRequest.builder().query("q").putMetadata("nan", Double.NaN).build();
    assertThat(violationsOf(() -> client.chatStream(request, USER))).extracting(Violation::field).containsExactly("metadata");
  }

  @Test
  void callbackStreamsThrowWithoutCallingTheListener() {
    ChatRequest request = ChatRequest.builder().query("q" + LONE_LOW).build();
    List<String> calls = new ArrayList<>();
    StreamListener listener = new StreamListener() {
      @Override
      public void onEvent(StreamEvent event) {
        calls.add("event");
      }

      @Override
      public void onComplete(StreamCompletion completion) {
        calls.add("complete");
      }

      @Override
      public void onError(LlmGatewayException error) {
        calls.add("error");
      }
    };

    assertThat(violationsOf(() -> client.chatStream(request, USER, listener))).extracting(Violation::field).containsExactly("query");
    assertThat(calls).isEmpty();
  }

  @Test
  void refusedMetadataIsAuditedAsRejectedWithALoggableQueryPreview() {
    Map<String, Object> loop = new HashMap<>();
    loop.put("self", loop);
    violationsOf(() -> client.chat(ChatRequest.builder().query("a" + LONE_HIGH).putMetadata("l", loop).build(), USER));

    assertThat(audit.events).singleElement().satisfies(e -> {
      assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.REJECTED);
      assertThat(e.errorType()).isEqualTo("ValidationException");
      assertThat(e.queryPreview()).isEqualTo("a\uFFFD");
    });
  }

  @Test
  void listCursorsWithoutAUtf8EncodingOrTooLongAreRefused() {
    assertThat(violationsOf(() -> client.sessions().list(USER, 10, "abc" + LONE_HIGH)))
        .containsExactly(new Violation("cursor", "must have a UTF-8 encoding: it holds an unpaired UTF-16 surrogate at index 3"));
    assertThat(violationsOf(() -> client.sessions().list(USER, 10, "c".repeat(RequestValidator.MAX_CURSOR_LENGTH + 1))))
        .containsExactly(new Violation("cursor", "must be at most 1024 characters"));
  }

  @Test
  void sessionIdsBeyondAsciiAreRefusedInTheSessionsApi() {
    assertThat(violationsOf(() -> client.sessions().get("s\u00e9ss", USER))).extracting(Violation::field).containsExactly("session_id");
    assertThat(violationsOf(() -> client.sessions().delete("s" + LONE_HIGH, USER))).extracting(Violation::field).containsExactly("session_id");
  }

  @Test
  void directStreamUrlsThatCannotBeSentAsGivenAreRefused() {
    String base = server.url("/api/v1/llm-chat/recruiter/chat/stream").toString();
    assertThat(violationsOf(() -> client.chatStreamFromUrl(base + "?token=a" + LONE_HIGH, USER, StreamOptions.DEFAULTS)))
        .extracting(Violation::field).containsExactly("stream_url");
    assertThat(violationsOf(() -> client.chatStreamFromUrl(base, USER, StreamOptions.DEFAULTS)))
        .containsExactly(new Violation("stream_url", "must carry the stream token as its token query parameter"));
    assertThat(violationsOf(() -> client.chatStreamFromUrl(base + "?token=", USER, StreamOptions.DEFAULTS)))
        .extracting(Violation::field).containsExactly("stream_url");
    String huge = base + "?token=" + "t".repeat(RequestValidator.MAX_STREAM_URL_LENGTH);
    assertThat(violationsOf(() -> client.chatStreamFromUrl(huge, USER, StreamOptions.DEFAULTS)))
        .containsExactly(new Violation("stream_url", "must be at most 65536 characters"));
  }

  @Test
  void hugeNumbersAreBoundedBeforeTheyAreFormatted() {
    BigInteger huge = BigInteger.ONE.shiftLeft(4_000_000);
    assertThat(chatViolations(r -> r.putMetadata("n", huge)))
        .containsExactly(new Violation("metadata", "must be at most 65536 bytes as JSON"));
  }

  @Test
  void limitSettersRefuseValuesOutOfRangeNamingTheSetting() {
    assertThatThrownBy(() -> LlmGatewayClient.builder().maxMetadataDepth(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxMetadataDepth");
    assertThatThrownBy(() -> LlmGatewayClient.builder().maxMetadataDepth(RequestValidator.MAX_METADATA_DEPTH_LIMIT + 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxMetadataDepth");
    assertThatThrownBy(() -> LlmGatewayClient.builder().maxMetadataBytes(1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxMetadataBytes");
    assertThatThrownBy(() -> RequestValidator.builder().maxMetadataBytes(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxMetadataBytes");
  }
}
