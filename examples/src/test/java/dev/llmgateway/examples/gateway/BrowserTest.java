package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.AuditSink;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.webhooks.WebhookSecret;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The chat page in headless Chromium (Debian's package, installed by {@code .ci/run}): the page
 * signs in, asks, and the answer streamed with {@code EventSource} (direct streaming) appears in
 * the DOM. Fails (never skips) when Chromium is missing.
 *
 * <p>The relay path is read with {@code fetch} and a body reader, which headless Chromium's
 * {@code --dump-dom} with virtual time does not advance; it is covered over real HTTP by {@link
 * GatewayServerTest} instead.
 */
@Tag("browser")
class BrowserTest {
  private static final String CHROMIUM = "/usr/bin/chromium";

  private LlmGatewayClient client;
  private GatewayServer gateway;
  private Path profile;

  @BeforeEach
  void setUp() throws IOException {
    client = LlmGatewayClient.builder().sandbox(true).environment(name -> null).auditSink(AuditSink.none()).build();
    InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
    ledger.deposit(GatewayExample.DEMO_USER.userId(), 1_000);
    // Port 0 is not known to the page's direct-stream URL before binding: pick a free port first.
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    gateway = GatewayExample.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), client, ledger, false,
        WebhookSecret.ofBytes("browser-test-webhook-secret-0123456789".getBytes(StandardCharsets.UTF_8)));
    profile = Files.createTempDirectory("chromium-profile");
  }

  @AfterEach
  void tearDown() throws IOException {
    gateway.close();
    client.close();
    try (var files = Files.walk(profile)) {
      files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"direct"})
  void theStreamedAnswerAppearsInThePage(String mode) throws Exception {
    assertThat(new File(CHROMIUM)).as("Debian's chromium package (apt-get install chromium)").exists();
    Process chromium = new ProcessBuilder(List.of(CHROMIUM,
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--user-data-dir=" + profile, "--virtual-time-budget=20000", "--dump-dom",
        "http://localhost:" + gateway.port() + "/?ask=" + mode))
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    String dom = new String(chromium.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(chromium.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(dom).contains("I found 3 candidates");
    assertThat(dom).contains(mode.equals("relay") ? "Done: " : "Done (direct)");
  }
}
