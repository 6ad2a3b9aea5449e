package dev.llmgateway.examples.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium driven over the DevTools protocol: a test-scope client on the JDK's
 * WebSocket. Every wait is on an event or a promise with a bounded timeout. Closing ends the
 * browser and its child processes and deletes the temporary profile. Not thread-safe: one test
 * thread drives it.
 */
final class HeadlessChromium implements AutoCloseable {
  /** Debian's package ({@code apt-get install chromium}). */
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

  private final Process process;
  private final Path profile;
  private final List<String> stderr = new ArrayList<>();
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  /** Every event received so far, and the waiters for events yet to come; guarded by {@code events}. */
  private final List<JsonNode> events = new ArrayList<>();
  private final List<EventWaiter> eventWaiters = new ArrayList<>();
  private final CompletableFuture<Void> disconnected = new CompletableFuture<>();
  private WebSocket socket;

  private HeadlessChromium(Process process, Path profile) {
    this.process = process;
    this.profile = profile;
  }

  /**
   * Starts the browser and connects to it.
   *
   * @return the connected browser
   * @throws AssertionError if Chromium is not installed, or does not start or answer within a minute
   * @throws IOException if the profile directory or the process cannot be made
   */
  static HeadlessChromium start() throws IOException, InterruptedException {
    if (!Files.isExecutable(CHROMIUM)) {
      throw new AssertionError("The browser test needs Debian's chromium package at " + CHROMIUM
          + ": apt-get install chromium (.ci/setup installs it)");
    }
    Path profile = Files.createTempDirectory("chromium-profile");
    Process process;
    try {
      process = new ProcessBuilder(List.of(CHROMIUM.toString(),
          "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--remote-debugging-port=0", "--user-data-dir=" + profile,
          "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-quic",
          "--mute-audio", "about:blank"))
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
    } catch (IOException e) {
      deleteTree(profile);
      throw e;
    }
    HeadlessChromium browser = new HeadlessChromium(process, profile);
    try {
      browser.connect(browser.devToolsUrl());
      return browser;
    } catch (InterruptedException | RuntimeException | Error e) {
      browser.close();
      throw e;
    }
  }

  /** Reads stderr until the DevTools line, then keeps draining it so the browser never blocks on it. */
  private URI devToolsUrl() throws InterruptedException {
    CompletableFuture<URI> url = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(
          new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          Matcher matcher = LISTENING.matcher(line);
          if (matcher.find()) {
            url.complete(URI.create(matcher.group(1)));
          } else if (!url.isDone()) {
            synchronized (stderr) {
              stderr.add(line);
            }
          }
        }
      } catch (IOException e) {
        // The browser is gone; the future below says so.
      }
      url.completeExceptionally(new IllegalStateException("Chromium ended without a DevTools address"));
    }, "chromium-stderr");
    reader.setDaemon(true);
    reader.start();
    try {
      return url.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      synchronized (stderr) {
        throw new AssertionError("Chromium did not start within " + START_TIMEOUT + ": " + String.join("\n", stderr), e);
      }
    }
  }

  private void connect(URI url) throws InterruptedException {
    try {
      socket = HttpClient.newHttpClient().newWebSocketBuilder()
          .buildAsync(url, new Listener()).get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new AssertionError("Could not connect to Chromium's DevTools at " + url, e);
    }
  }

  /**
   * Opens a new tab in a fresh browser context (no shared cookies or storage) and loads {@code url}.
   *
   * @param url the page's address
   * @return the loaded page
   */
  Page open(String url) throws InterruptedException {
    String context = call(null, "Target.createBrowserContext", Map.of()).get("browserContextId").asText();
    String target = call(null, "Target.createTarget", Map.of("url", "about:blank", "browserContextId", context))
        .get("targetId").asText();
    String session = call(null, "Target.attachToTarget", Map.of("targetId", target, "flatten", true))
        .get("sessionId").asText();
    Page page = new Page(context, target, session);
    call(session, "Page.enable", Map.of());
    call(session, "Page.setLifecycleEventsEnabled", Map.of("enabled", true));
    JsonNode navigated = call(session, "Page.navigate", Map.of("url", url));
    if (navigated.hasNonNull("errorText")) {
      throw new AssertionError("Chromium could not load " + url + ": " + navigated.get("errorText").asText());
    }
    // The load event of this navigation (not of the blank page before it), even if it came first.
    String loader = navigated.path("loaderId").asText();
    await(awaitEvent(session, "Page.lifecycleEvent",
        params -> "load".equals(params.path("name").asText()) && loader.equals(params.path("loaderId").asText())),
        COMMAND_TIMEOUT, "the load event of " + url);
    return page;
  }

  /** A tab of this browser. */
  final class Page implements AutoCloseable {
    private final String context;
    private final String target;
    private final String session;

    private Page(String context, String target, String session) {
      this.context = context;
      this.target = target;
      this.session = session;
    }

    /**
     * Evaluates {@code expression} in the page, awaiting it if it is a promise.
     *
     * @return the value, as JSON
     * @throws AssertionError if it throws or rejects
     */
    JsonNode evaluate(String expression, Duration timeout) throws InterruptedException {
      JsonNode result = call(session, "Runtime.evaluate",
          Map.of("expression", expression, "awaitPromise", true, "returnByValue", true), timeout);
      if (result.has("exceptionDetails")) {
        JsonNode details = result.get("exceptionDetails");
        JsonNode exception = details.path("exception");
        throw new AssertionError(exception.has("value") ? exception.get("value").asText()
            : exception.path("description").asText(details.path("text").asText()));
      }
      return result.path("result").path("value");
    }

    /**
     * Waits until the text of the element {@code selector} contains {@code text}: a promise that a
     * {@code MutationObserver} resolves, or that rejects after {@code timeout}.
     *
     * @return the element's text then
     * @throws AssertionError on timeout, with the text the element had
     */
    String waitForText(String selector, String text, Duration timeout) throws InterruptedException {
      String script = "new Promise((resolve, reject) => {\n"
          + "  const selector = " + quote(selector) + ", text = " + quote(text) + ";\n"
          + "  const current = () => { const e = document.querySelector(selector); return e ? e.textContent : null; };\n"
          + "  const check = () => { const t = current(); if (t !== null && t.includes(text)) { done(); resolve(t); } };\n"
          + "  const observer = new MutationObserver(check);\n"
          + "  const timer = setTimeout(() => { done(); reject(selector + ' did not show ' + JSON.stringify(text) + ' within "
          + timeout.toMillis() + " ms; it shows ' + JSON.stringify(current())"
          + " + ', #status: ' + JSON.stringify((document.getElementById('status') || {}).textContent)); }, "
          + timeout.toMillis() + ");\n"
          + "  const done = () => { observer.disconnect(); clearTimeout(timer); };\n"
          + "  observer.observe(document, { childList: true, subtree: true, characterData: true });\n"
          + "  check();\n"
          + "})";
      return evaluate(script, timeout.plus(COMMAND_TIMEOUT)).asText();
    }

    /** Closes the tab and its browser context. */
    @Override
    public void close() throws InterruptedException {
      call(null, "Target.closeTarget", Map.of("targetId", target));
      call(null, "Target.disposeBrowserContext", Map.of("browserContextId", context));
    }
  }

  private static String quote(String text) {
    try {
      return JSON.writeValueAsString(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private JsonNode call(String session, String method, Map<String, ?> params) throws InterruptedException {
    return call(session, method, params, COMMAND_TIMEOUT);
  }

  /** Sends one command (to the browser, or to a page's session) and waits for its answer. */
  private JsonNode call(String session, String method, Map<String, ?> params, Duration timeout)
      throws InterruptedException {
    int id = ids.incrementAndGet();
    ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
    message.set("params", JSON.valueToTree(params));
    if (session != null) {
      message.put("sessionId", session);
    }
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    pending.put(id, answer);
    try {
      synchronized (this) {
        socket.sendText(message.toString(), true).get(timeout.toSeconds(), TimeUnit.SECONDS);
      }
      JsonNode reply = await(answer.applyToEither(disconnected.thenApply(v -> null), r -> r), timeout, method);
      if (reply == null) {
        throw new AssertionError("Chromium's DevTools connection closed during " + method);
      }
      if (reply.has("error")) {
        throw new AssertionError(method + " failed: " + reply.get("error"));
      }
      return reply.path("result");
    } catch (ExecutionException | TimeoutException e) {
      throw new AssertionError("Could not send " + method + " to Chromium", e);
    } finally {
      pending.remove(id);
    }
  }

  private record EventWaiter(String session, String method, Predicate<JsonNode> params, CompletableFuture<JsonNode> event) {
    boolean offer(JsonNode message) {
      return session.equals(message.path("sessionId").asText()) && method.equals(message.path("method").asText())
          && params.test(message.path("params")) && event.complete(message.path("params"));
    }
  }

  /** The first event of a page's session, received already or yet to come, whose params match. */
  private CompletableFuture<JsonNode> awaitEvent(String session, String method, Predicate<JsonNode> params) {
    EventWaiter waiter = new EventWaiter(session, method, params, new CompletableFuture<>());
    synchronized (events) {
      if (events.stream().noneMatch(waiter::offer)) {
        eventWaiters.add(waiter);
      }
    }
    return waiter.event();
  }

  private static <T> T await(CompletableFuture<T> future, Duration timeout, String what) throws InterruptedException {
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("No answer from Chromium within " + timeout + " for " + what, e);
    } catch (ExecutionException e) {
      throw new AssertionError("Chromium failed " + what, e.getCause());
    }
  }

  /** Collects text frames into messages; answers complete their command, awaited events complete their future. */
  private final class Listener implements WebSocket.Listener {
    private final StringBuilder frames = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      frames.append(data);
      if (last) {
        String text = frames.toString();
        frames.setLength(0);
        try {
          JsonNode message = JSON.readTree(text);
          if (message.has("id")) {
            CompletableFuture<JsonNode> answer = pending.get(message.get("id").asInt());
            if (answer != null) {
              answer.complete(message);
            }
          } else if (message.has("method")) {
            synchronized (events) {
              events.add(message);
              eventWaiters.removeIf(waiter -> waiter.offer(message));
            }
          }
        } catch (IOException e) {
          disconnected.completeExceptionally(e);
        }
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      disconnected.complete(null);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      disconnected.complete(null);
    }
  }

  /** Ends the browser and every process it started, waiting for each, then deletes the profile. */
  @Override
  public void close() throws InterruptedException {
    List<ProcessHandle> children = process.descendants().toList();
    if (socket != null) {
      socket.abort();
    }
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
    for (ProcessHandle child : children) {
      child.destroy();
      try {
        child.onExit().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        child.destroyForcibly();
      }
    }
    deleteTree(profile);
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not delete Chromium's profile " + root, e);
    }
  }
}
