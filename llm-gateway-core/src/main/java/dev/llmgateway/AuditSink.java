package dev.llmgateway;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives one {@link AuditEvent} per request: a logical call's success, failure, refusal or
 * cancellation, and, from {@code llm-gateway-host}'s {@code ChatGateway}, the requests it refuses
 * before calling the service, direct streams' starts and completion webhooks. The
 * default, {@link #logging()}, writes {@link AuditEvent#toLogLine()} at INFO to the SLF4J logger
 * {@value #LOGGER_NAME}; send it to its own appender, or implement this interface to store events
 * elsewhere.
 *
 * <p>Called synchronously on the thread that ends the call; must be thread-safe and should not
 * block. An exception it throws is logged and ignored.
 */
@FunctionalInterface
public interface AuditSink {
  /** The logger the default sink writes to. */
  String LOGGER_NAME = "llm_gateway.audit";

  /**
   * Records one event.
   *
   * @param event the event
   */
  void record(AuditEvent event);

  /**
   * Returns the default sink: one INFO line per call to the logger {@value #LOGGER_NAME}.
   *
   * @return the logging sink
   */
  static AuditSink logging() {
    Logger log = LoggerFactory.getLogger(LOGGER_NAME);
    return event -> {
      if (log.isInfoEnabled()) {
        log.info(event.toLogLine());
      }
    };
  }

  /**
   * Returns a sink that drops every event.
   *
   * @return the no-op sink
   */
  static AuditSink none() {
    return event -> {};
  }
}
