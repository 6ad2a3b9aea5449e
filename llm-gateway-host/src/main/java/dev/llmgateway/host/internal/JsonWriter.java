package dev.llmgateway.host.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** The shared Jackson mapper of llm-gateway-host. Thread-safe once configured, as Jackson's are. */
public final class JsonWriter {
  private static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private JsonWriter() {}

  /**
   * Returns the shared mapper.
   *
   * @return a mapper with Jackson's defaults
   */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /**
   * Writes a value as JSON.
   *
   * @param mapper the mapper to use
   * @param value the value
   * @return the JSON text
   * @throws IllegalArgumentException if the mapper cannot serialize the value
   */
  public static String write(ObjectMapper mapper, Object value) {
    try {
      return mapper.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("Envelope cannot be written as JSON: " + e.getOriginalMessage(), e);
    }
  }
}
