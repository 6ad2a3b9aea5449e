package dev.llmgateway.testkit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/**
 * Captures every log event at DEBUG and above while open, through logback's root logger; for tests
 * that check what the SDK logs, and that no secret is in any log line. Close it to detach and to put
 * the root level back:
 *
 * <pre>{@code
 * try (LogCapture logs = new LogCapture()) {
 *   ...
 *   assertThat(logs.allText()).doesNotContain(secret);
 * }
 * }</pre>
 */
public final class LogCapture implements AutoCloseable {
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

  /** Starts capturing, with the root logger at DEBUG. */
  public LogCapture() {
    appender.start();
    root.addAppender(appender);
    root.setLevel(Level.DEBUG);
  }

  /**
   * The events so far.
   *
   * @return a copy, oldest first
   */
  public List<ILoggingEvent> events() {
    synchronized (appender) {
      return List.copyOf(appender.list);
    }
  }

  /**
   * The events so far of one logger.
   *
   * @param loggerName the logger's full name, such as a class name
   * @return a copy, oldest first
   */
  public List<ILoggingEvent> events(String loggerName) {
    return events().stream().filter(e -> e.getLoggerName().equals(loggerName)).collect(Collectors.toList());
  }

  /**
   * Every formatted message, with its MDC and its throwables' class names and messages, one event a
   * line: the text a secret must not be in.
   *
   * @return the text of all events so far
   */
  public String allText() {
    StringBuilder b = new StringBuilder();
    for (ILoggingEvent e : events()) {
      b.append(e.getFormattedMessage()).append(' ').append(e.getMDCPropertyMap()).append('\n');
      for (var t = e.getThrowableProxy(); t != null; t = t.getCause()) {
        b.append(t.getClassName()).append(": ").append(t.getMessage()).append('\n');
      }
    }
    return b.toString();
  }

  /** Detaches the capture and puts the root logger's level back. */
  @Override
  public void close() {
    root.detachAppender(appender);
    root.setLevel(previous);
  }
}
