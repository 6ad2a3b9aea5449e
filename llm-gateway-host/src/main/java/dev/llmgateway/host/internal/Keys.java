package dev.llmgateway.host.internal;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/** Rate limiter keys. Not API. */
public final class Keys {
  private Keys() {}

  /**
   * Returns {@code keys} without repeats, in their first order.
   *
   * @param keys the keys, a handful
   * @return the same list when it has no repeat, else an unmodifiable copy without them
   * @throws NullPointerException if a key is null
   */
  public static List<String> distinct(List<String> keys) {
    for (int i = 0; i < keys.size(); i++) {
      String key = Objects.requireNonNull(keys.get(i), "keys holds null");
      for (int j = 0; j < i; j++) {
        if (key.equals(keys.get(j))) {
          return List.copyOf(new LinkedHashSet<>(keys));
        }
      }
    }
    return keys;
  }
}
