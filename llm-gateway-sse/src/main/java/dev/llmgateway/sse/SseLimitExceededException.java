package dev.llmgateway.sse;

import java.io.IOException;

/**
 * A line or an event of a server-sent event stream exceeded the reader's size limit ({@link
 * SseReader.Builder#maxEventSize(int)}). The reader stops at the limit without buffering the rest,
 * so a runaway or hostile stream cannot exhaust memory. The stream is unusable afterwards.
 *
 * <p>Immutable and thread-safe.
 */
public final class SseLimitExceededException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int limit;

  SseLimitExceededException(String message, int limit) {
    super(message);
    this.limit = limit;
  }

  /**
   * Returns the limit that was exceeded.
   *
   * @return the limit in bytes
   */
  public int limit() {
    return limit;
  }
}
