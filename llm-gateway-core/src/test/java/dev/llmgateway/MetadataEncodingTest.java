package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;
import static dev.llmgateway.TestSupport.chatOk;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the checks let through is sent exactly as JSON would have it. */
class MetadataEncodingTest extends MockServerTest {

  private String sentBody(ChatRequest request) throws InterruptedException {
    server.enqueue(chatOk());
    client.chat(request, USER);
    return server.takeRequest().getBody().utf8();
  }

  @Test
  void everyAcceptedKindOfValueIsWrittenAsJson() throws Exception {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("null", null);
    nested.put("empty", Map.of());
    ChatRequest request = ChatRequest.builder()
        .query("q")
        .putMetadata("s", "t\u00e9xt \uD83D\uDE00 \"quoted\"\n") // Jackson escapes a surrogate pair
        .putMetadata("b", true)
        .putMetadata("i", 42)
        .putMetadata("l", -7L)
        .putMetadata("sh", (short) 3)
        .putMetadata("by", (byte) 1)
        .putMetadata("d", 0.5)
        .putMetadata("f", 0.1f)
        .putMetadata("bi", new BigInteger("123456789012345678901234567890"))
        .putMetadata("bd", new BigDecimal("1.50"))
        .putMetadata("list", List.of(1, "two"))
        .putMetadata("set", new LinkedHashSet<>(List.of("a", "b")))
        .putMetadata("array", new String[] {"x", "y"})
        .putMetadata("map", nested)
        .build();

    assertThat(sentBody(request)).isEqualTo("{\"query\":\"q\",\"metadata\":{"
        + "\"s\":\"t\u00e9xt \\uD83D\\uDE00 \\\"quoted\\\"\\n\",\"b\":true,\"i\":42,\"l\":-7,\"sh\":3,\"by\":1,"
        + "\"d\":0.5,\"f\":0.1,\"bi\":123456789012345678901234567890,\"bd\":1.50,"
        + "\"list\":[1,\"two\"],\"set\":[\"a\",\"b\"],\"array\":[\"x\",\"y\"],"
        + "\"map\":{\"null\":null,\"empty\":{}}}}");
  }

  @Test
  void metadataOfExactlyTheByteLimitIsSentWhole() throws Exception {
    useClient(clientBuilder().maxMetadataBytes(100));
    // {"k":"…"}: 8 bytes of syntax, 44 two-byte characters and 4 one-byte ones: 100 bytes
    Map<String, Object> metadata = Map.of("k", "\u00e9".repeat(44) + "abcd");
    String body = sentBody(ChatRequest.builder().query("q").metadata(metadata).build());

    String sentMetadata = body.substring(body.indexOf("\"metadata\":") + "\"metadata\":".length(), body.length() - 1);
    assertThat(sentMetadata.getBytes(StandardCharsets.UTF_8)).hasSize(100);
  }

  @Test
  void theSameListTwiceSideBySideIsNotACycle() throws Exception {
    List<Object> shared = new ArrayList<>(Arrays.asList("x"));
    assertThat(sentBody(ChatRequest.builder().query("q").putMetadata("pair", List.of(shared, shared)).build()))
        .isEqualTo("{\"query\":\"q\",\"metadata\":{\"pair\":[[\"x\"],[\"x\"]]}}");
  }

  @Test
  void metadataAtTheDepthLimitIsSent() throws Exception {
    useClient(clientBuilder().maxMetadataDepth(3));
    assertThat(sentBody(ChatRequest.builder().query("q").putMetadata("a", List.of(Map.of("b", 1))).build()))
        .isEqualTo("{\"query\":\"q\",\"metadata\":{\"a\":[{\"b\":1}]}}");
  }
}
