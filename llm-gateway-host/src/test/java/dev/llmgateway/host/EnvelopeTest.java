package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvelopeTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  record Answer(String sessionId, List<String> candidates) {}

  @Test
  void okWritesAllFourFieldsInOrder() {
    Envelope ok = Envelope.ok(Map.of("answer", "hi"), Map.of(Envelope.META_REQUEST_ID, "req-1"));

    assertThat(ok.toJson())
        .isEqualTo("{\"success\":true,\"message\":\"OK\",\"data\":{\"answer\":\"hi\"},\"meta\":{\"request_id\":\"req-1\"}}");
  }

  @Test
  void errorWritesNullDataAndKeepsMetaOrder() {
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("request_id", "req-1");
    meta.put("error_code", "timeout");

    Envelope error = Envelope.error("Took too long.", meta);

    assertThat(error.toJson())
        .isEqualTo("{\"success\":false,\"message\":\"Took too long.\",\"data\":null,"
            + "\"meta\":{\"request_id\":\"req-1\",\"error_code\":\"timeout\"}}");
  }

  @Test
  void recordsInDataAreWrittenByJacksonAndAHostMapperCanRenameThem() throws Exception {
    Envelope ok = Envelope.ok(new Answer("sess_1", List.of("a", "b")));

    JsonNode plain = JSON.readTree(ok.toJson());
    ObjectMapper snake = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    JsonNode renamed = JSON.readTree(ok.toJson(snake));

    assertThat(plain.get("data").get("sessionId").asText()).isEqualTo("sess_1");
    assertThat(renamed.get("data").get("session_id").asText()).isEqualTo("sess_1");
    assertThat(renamed.get("meta").isEmpty()).isTrue();
  }

  @Test
  void metaIsCopiedAndImmutable() {
    Map<String, Object> meta = new HashMap<>();
    meta.put("request_id", "req-1");
    Envelope envelope = Envelope.ok(null, meta);
    meta.put("later", "x");

    assertThat(envelope.meta()).containsOnlyKeys("request_id");
    assertThatThrownBy(() -> envelope.meta().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
    assertThat(envelope.withMeta("page", 2).meta()).containsExactly(Map.entry("request_id", "req-1"), Map.entry("page", 2));
  }

  @Test
  void metaRefusesNulls() {
    Map<String, Object> meta = new HashMap<>();
    meta.put("request_id", null);

    assertThatThrownBy(() -> Envelope.ok(null, meta)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void unwritableDataIsAnIllegalArgument() {
    Envelope envelope = Envelope.ok(new Object());

    assertThatThrownBy(envelope::toJson).isInstanceOf(IllegalArgumentException.class);
  }
}
