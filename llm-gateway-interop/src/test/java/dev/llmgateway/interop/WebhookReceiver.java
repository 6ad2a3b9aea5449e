package dev.llmgateway.interop;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The host's webhook endpoint, as a JDK {@link HttpServer} on loopback: records every delivery (raw
 * headers and body) and answers with the statuses queued by {@link #answer}, then 204.
 */
final class WebhookReceiver implements AutoCloseable {
  private static final String PATH = "/webhooks/llm";

  /** One delivery as received. */
  record Delivery(Map<String, List<String>> headers, byte[] body) {
    String header(String name) {
      List<String> values = headers.get(name);
      return values == null || values.isEmpty() ? null : values.get(0);
    }
  }

  private final HttpServer server;
  private final BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
  private final Queue<Integer> answers = new ConcurrentLinkedQueue<>();

  private WebhookReceiver(HttpServer server) {
    this.server = server;
  }

  static WebhookReceiver start() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    WebhookReceiver receiver = new WebhookReceiver(server);
    server.createContext(PATH, receiver::handle);
    server.start();
    return receiver;
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + PATH;
  }

  /** Answers the next deliveries with these statuses, in order; later ones get 204. */
  void answer(int... statuses) {
    for (int status : statuses) {
      answers.add(status);
    }
  }

  /** Waits for the next delivery; fails when none comes in time. */
  Delivery next(Duration timeout) throws InterruptedException {
    Delivery delivery = deliveries.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (delivery == null) {
      throw new AssertionError("No webhook delivery within " + timeout.toMillis() + " ms");
    }
    return delivery;
  }

  private void handle(HttpExchange exchange) throws IOException {
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readAllBytes();
    }
    Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    exchange.getRequestHeaders().forEach((name, values) -> headers.put(name, new ArrayList<>(values)));
    Integer status = answers.poll();
    exchange.sendResponseHeaders(status == null ? 204 : status, -1);
    exchange.close();
    deliveries.add(new Delivery(headers, body));
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
