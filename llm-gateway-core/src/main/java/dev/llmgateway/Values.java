package dev.llmgateway;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Copies for the open-ended maps on response records. */
final class Values {
  private Values() {}

  static Map<String, @Nullable Object> copy(Map<String, ? extends @Nullable Object> map) {
    return map.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
