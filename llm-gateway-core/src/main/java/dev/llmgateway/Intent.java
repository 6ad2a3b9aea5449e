package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * What the service decided the user wants. The service may add values; those read as {@link
 * #UNKNOWN}, and the response keeps the raw value (see {@link ChatResponse#rawIntent()}).
 */
public enum Intent {
  /** Find candidates. */
  SEARCH("search"),
  /** Conversation. */
  CHAT("chat"),
  /** The user asked for an action (e.g. shortlist a candidate). */
  USER_ACTION("user_action"),
  /** A value this SDK version does not know. */
  UNKNOWN("unknown");

  private final String wireValue;

  Intent(String wireValue) {
    this.wireValue = wireValue;
  }

  /**
   * Returns the value as the service spells it.
   *
   * @return e.g. {@code user_action}
   */
  public String wireValue() {
    return wireValue;
  }

  /**
   * Reads a value as the service spells it.
   *
   * @param value the wire value, or null
   * @return the matching intent, or {@link #UNKNOWN} for null and for values this SDK does not know
   */
  public static Intent fromWire(@Nullable String value) {
    if (value != null) {
      for (Intent intent : values()) {
        if (intent != UNKNOWN && intent.wireValue.equals(value)) {
          return intent;
        }
      }
    }
    return UNKNOWN;
  }
}
