package dev.llmgateway.internal;

import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/** Puts the request id into the SLF4J MDC for a scope and restores what was there before. */
public final class Mdc implements AutoCloseable {
  private final String key;
  private final @Nullable String previous;

  private Mdc(String key, String value) {
    this.key = key;
    this.previous = MDC.get(key);
    MDC.put(key, value);
  }

  public static Mdc put(String key, String value) {
    return new Mdc(key, value);
  }

  @Override
  public void close() {
    if (previous == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, previous);
    }
  }
}
