package dev.llmgateway.examples.gateway;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the example opened itself (a pool, a Redis client and connection, a ledger's reaper), closed
 * in the reverse order of opening; what a host passed in stays the host's. {@link #close()} closes
 * each once, logging (without stopping at) a failure. Thread-safe.
 */
final class Owned implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Owned.class);

  private final Deque<AutoCloseable> opened = new ArrayDeque<>();

  /** Adds something to close, after everything added later. */
  synchronized void add(AutoCloseable resource) {
    opened.push(resource);
  }

  @Override
  public void close() {
    AutoCloseable next;
    while ((next = next()) != null) {
      try {
        next.close();
      } catch (Exception e) {
        LOG.warn("Closing {} failed", next.getClass().getSimpleName(), e);
      }
    }
  }

  private synchronized AutoCloseable next() {
    return opened.poll();
  }
}
