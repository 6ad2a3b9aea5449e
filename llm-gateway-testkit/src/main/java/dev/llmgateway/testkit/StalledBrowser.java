package dev.llmgateway.testkit;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A browser that stops reading: a real loopback TCP connection whose client end never reads, with
 * small socket buffers, so that the host's writes block once a few KiB are in flight (the TCP
 * window is full), as they do for a stalled tab or a dead network path. The host writes to {@link
 * #body()}; the fixture counts the writes, so a test can see one that has not returned. {@link
 * #close()} closes both ends, which ends a blocked write with an {@code IOException}. Thread-safe.
 *
 * <pre>{@code
 * try (StalledBrowser browser = StalledBrowser.connect()) {
 *   Future<RelayResult> relayed = executor.submit(() -> relay.relay(stream, browser.body()));
 *   // ... once browser.writing() stays true, the relay's thread is stuck in a socket write
 * }
 * }</pre>
 */
public final class StalledBrowser implements Closeable {
  /** The socket buffer sizes asked for (the kernel rounds them up): a few KiB fill them. */
  private static final int BUFFER_BYTES = 4096;

  private final Socket browser;
  private final Socket host;
  private final AtomicLong writesStarted = new AtomicLong();
  private final AtomicLong writesReturned = new AtomicLong();
  private final OutputStream body;

  private StalledBrowser(Socket browser, Socket host) throws IOException {
    this.browser = browser;
    this.host = host;
    OutputStream out = host.getOutputStream();
    this.body = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        writesStarted.incrementAndGet();
        try {
          out.write(b, off, len);
        } finally {
          writesReturned.incrementAndGet();
        }
      }

      @Override
      public void flush() throws IOException {
        out.flush();
      }

      @Override
      public void close() throws IOException {
        out.close();
      }
    };
  }

  /**
   * Opens the connection: a loopback listener accepts the browser's connection at once.
   *
   * @return the connected browser, which never reads
   * @throws IOException if the loopback connection fails
   */
  public static StalledBrowser connect() throws IOException {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Socket browser = new Socket();
      browser.setReceiveBufferSize(BUFFER_BYTES); // before connecting, so the window is small too
      browser.connect(listener.getLocalSocketAddress());
      Socket host = listener.accept();
      host.setSendBufferSize(BUFFER_BYTES);
      return new StalledBrowser(browser, host);
    }
  }

  /**
   * The host's side of the connection: the response body to write to.
   *
   * @return the stream; its writes block once the buffers are full
   */
  public OutputStream body() {
    return body;
  }

  /**
   * Whether a write to {@link #body()} has started and not returned (blocked, once the buffers are
   * full).
   *
   * @return true while a write is in progress
   */
  public boolean writing() {
    return writesStarted.get() > writesReturned.get();
  }

  /**
   * How many writes to {@link #body()} have returned (normally or with an exception).
   *
   * @return the count
   */
  public long writesReturned() {
    return writesReturned.get();
  }

  /** Closes both ends without reading: a blocked write fails. Idempotent. */
  @Override
  public void close() throws IOException {
    try {
      browser.close();
    } finally {
      host.close();
    }
  }
}
