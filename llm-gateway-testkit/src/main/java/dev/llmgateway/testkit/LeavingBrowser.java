package dev.llmgateway.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The response stream of a browser that goes away part way: a write fails with
 * {@code IOException("Broken pipe")} once the browser has left, and so does every write after it, as
 * on a real socket. It keeps what it received before leaving. Thread-safe.
 *
 * <pre>{@code
 * LeavingBrowser browser = LeavingBrowser.afterBytes(60);
 * RelayResult result = relay.relay(stream, browser);
 * assertThat(browser.hasLeft()).isTrue();
 * }</pre>
 */
public final class LeavingBrowser extends OutputStream {
  private enum Rule {
    AFTER_BYTES, AFTER_WRITES, ON_TEXT, AFTER_TEXT
  }

  private final Rule rule;
  private final long limit;
  private final @Nullable String text;
  private final Supplier<? extends IOException> failure;
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private long bytes;
  private long writes;
  private boolean left;

  private LeavingBrowser(Rule rule, long limit, @Nullable String text, Supplier<? extends IOException> failure) {
    this.rule = rule;
    this.limit = limit;
    this.text = text;
    this.failure = failure;
  }

  /**
   * A browser that leaves on the write that takes it past {@code bytes} bytes.
   *
   * @param bytes how many bytes it takes; at least 0
   * @return the browser
   */
  public static LeavingBrowser afterBytes(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes < 0: " + bytes);
    }
    return new LeavingBrowser(Rule.AFTER_BYTES, bytes, null, LeavingBrowser::brokenPipe);
  }

  /**
   * A browser that takes {@code writes} writes and leaves on the next.
   *
   * @param writes how many writes it takes; at least 0
   * @return the browser
   */
  public static LeavingBrowser afterWrites(long writes) {
    if (writes < 0) {
      throw new IllegalArgumentException("writes < 0: " + writes);
    }
    return new LeavingBrowser(Rule.AFTER_WRITES, writes, null, LeavingBrowser::brokenPipe);
  }

  /**
   * A browser that leaves on the write that would complete {@code text} (UTF-8) in what it received:
   * the text never arrives.
   *
   * @param text what it will not take, such as {@code "event: complete"}
   * @return the browser
   */
  public static LeavingBrowser onText(String text) {
    return new LeavingBrowser(Rule.ON_TEXT, 0, requireText(text), LeavingBrowser::brokenPipe);
  }

  /**
   * A browser that takes the write that completes {@code text} (UTF-8) in what it received, and
   * leaves on the next write.
   *
   * @param text the last thing it takes, such as the heartbeat {@code ": ping\n"}
   * @return the browser
   */
  public static LeavingBrowser afterText(String text) {
    return new LeavingBrowser(Rule.AFTER_TEXT, 0, requireText(text), LeavingBrowser::brokenPipe);
  }

  /**
   * The same browser, but its failed writes throw what {@code failure} makes instead of a broken
   * pipe: an {@link java.io.InterruptedIOException} for a host request that was cancelled, say.
   *
   * @param failure makes the exception of each failed write
   * @return a new browser that has received nothing
   */
  public LeavingBrowser failingWith(Supplier<? extends IOException> failure) {
    if (failure == null) {
      throw new NullPointerException("failure");
    }
    return new LeavingBrowser(rule, limit, text, failure);
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) throws IOException {
    if (left || leavesOn(b, off, len)) {
      left = true;
      throw failure.get();
    }
    received.write(b, off, len);
  }

  private boolean leavesOn(byte[] b, int off, int len) {
    bytes += len;
    writes++;
    switch (rule) {
      case AFTER_BYTES:
        return bytes > limit;
      case AFTER_WRITES:
        return writes > limit;
      case ON_TEXT:
        return (received() + new String(b, off, len, StandardCharsets.UTF_8)).contains(text);
      case AFTER_TEXT:
        return received().contains(text);
      default:
        throw new AssertionError(rule);
    }
  }

  /**
   * Whether a write has failed because the browser left.
   *
   * @return true once it has left
   */
  public synchronized boolean hasLeft() {
    return left;
  }

  /**
   * What it received before leaving, as UTF-8.
   *
   * @return the text of every write that went through
   */
  public synchronized String received() {
    return received.toString(StandardCharsets.UTF_8);
  }

  private static IOException brokenPipe() {
    return new IOException("Broken pipe");
  }

  private static String requireText(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("text is empty");
    }
    return text;
  }
}
