package dev.llmgateway.internal.sandbox;

import java.time.Clock;
import okhttp3.Interceptor;

/** Entry point of the in-process simulation of the service. */
public final class Sandbox {
  private Sandbox() {}

  /** Returns an interceptor that answers every request without the network. */
  public static Interceptor interceptor(Clock clock) {
    return chain -> {
      throw new java.io.IOException("sandbox not available yet");
    };
  }
}
