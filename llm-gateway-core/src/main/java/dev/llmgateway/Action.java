package dev.llmgateway;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An action the service proposes to the host (the contract leaves its shape open).
 *
 * @param type the action's {@code type} field, or null when it has none
 * @param fields every field of the action object, {@code type} included, as plain Java values
 */
public record Action(@Nullable String type, Map<String, @Nullable Object> fields) {
  /** Copies {@code fields}. */
  public Action {
    fields = Values.copy(fields);
  }
}
