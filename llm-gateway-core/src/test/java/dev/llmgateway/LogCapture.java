package dev.llmgateway;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/** Captures every log event of the SDK at DEBUG and above while open. */
final class LogCapture implements AutoCloseable {
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>() {
    @Override
    protected void append(ILoggingEvent event) {
      // Freeze the MDC and message now: the SDK restores the MDC right after logging.
      event.prepareForDeferredProcessing();
      super.append(event);
    }
  };
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private final Level previous = root.getLevel();

  LogCapture() {
    appender.start();
    root.addAppender(appender);
    root.setLevel(Level.DEBUG);
  }

  List<ILoggingEvent> events() {
    return List.copyOf(appender.list);
  }

  List<ILoggingEvent> events(String loggerName) {
    return events().stream().filter(e -> e.getLoggerName().equals(loggerName)).collect(Collectors.toList());
  }

  /** Every formatted message, with its throwable's messages, and the MDC values. */
  String allText() {
    StringBuilder b = new StringBuilder();
    for (ILoggingEvent e : events()) {
      b.append(e.getFormattedMessage()).append(' ').append(e.getMDCPropertyMap()).append('\n');
      for (var t = e.getThrowableProxy(); t != null; t = t.getCause()) {
        b.append(t.getClassName()).append(": ").append(t.getMessage()).append('\n');
      }
    }
    return b.toString();
  }

  @Override
  public void close() {
    root.detachAppender(appender);
    root.setLevel(previous);
  }
}
