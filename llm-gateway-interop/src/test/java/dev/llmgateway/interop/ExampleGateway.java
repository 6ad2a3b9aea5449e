package dev.llmgateway.interop;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Operation;
import dev.llmgateway.Usage;
import dev.llmgateway.UserContext;
import dev.llmgateway.examples.gateway.GatewayExample;
import dev.llmgateway.examples.gateway.GatewayServer;
import dev.llmgateway.host.CreditPricing;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.host.RateLimiter;
import dev.llmgateway.host.Reservation;
import dev.llmgateway.host.Settlement;
import dev.llmgateway.host.SettlementEvent;
import dev.llmgateway.host.SettlementListener;
import dev.llmgateway.webhooks.WebhookSecret;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;

/**
 * The example gateway ({@link GatewayServer}, started with {@link GatewayExample#builder()}) in this
 * JVM, in front of the reference service: a scheme-1 client of the service, an in-memory ledger
 * with every user's deposit, the service's stream-token keys and webhook secret, and a recorder of
 * every settlement. Pricing is per token
 * (1 credit per prompt token, 10 per completion token), so a charge shows exactly which usage was
 * billed.
 */
final class ExampleGateway implements AutoCloseable {
  /** Each user's deposit. */
  static final long DEPOSIT = 1_000_000;
  /** Credits held per call until it is settled. */
  static final long ESTIMATE = 1_000;
  static final CreditPricing PRICING =
      (operation, usage) -> usage.promptTokens() + 10 * usage.completionTokens();
  static final String API = "/api/v1/llm-chat/recruiter";
  static final String WEBHOOK_PATH = "/webhooks/llm-chat/completion";

  private final LlmGatewayClient client;
  private final InMemoryCreditLedger ledger;
  private final GatewayServer server;
  private final Settlements settlements = new Settlements();

  private ExampleGateway(ReferenceService service, OkHttpClient http, Collection<UserContext> users,
      RateLimiter rateLimiter, int backlog) throws IOException {
    this.client = service.clientBuilder().okHttpClient(http).build();
    this.ledger = InMemoryCreditLedger.create();
    users.forEach(user -> ledger.deposit(user.userId(), DEPOSIT));
    try {
      this.server = GatewayExample.builder()
          .client(client)
          .users(users)
          .ledger(ledger)
          .streamTokenKeys(service.streamKeys())
          .webhookSecret(WebhookSecret.parse(service.webhookSecret()))
          .settlementListener(settlements)
          .gateway(settings -> settings.rateLimiter(rateLimiter).pricing(PRICING).estimate(request -> ESTIMATE))
          .port(0)
          .backlog(backlog)
          .start();
    } catch (IOException | RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** A gateway for {@code users} with the default rate limits and listen backlog. */
  static ExampleGateway start(ReferenceService service, OkHttpClient http, UserContext... users) throws IOException {
    return new ExampleGateway(service, http, List.of(users),
        dev.llmgateway.host.InMemoryRateLimiter.create(), 0);
  }

  /** A gateway for {@code users} with this rate limiter and listen backlog. */
  static ExampleGateway start(ReferenceService service, OkHttpClient http, Collection<UserContext> users,
      RateLimiter rateLimiter, int backlog) throws IOException {
    return new ExampleGateway(service, http, users, rateLimiter, backlog);
  }

  /** The credits {@link #PRICING} charges for {@code usage}. */
  static long charge(Usage usage) {
    return PRICING.credits(Operation.CHAT_STREAM, usage);
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.port() + path;
  }

  /** The gateway's webhook endpoint, where the service should send its completion webhooks. */
  String webhookUrl() {
    return url(WEBHOOK_PATH);
  }

  /** The {@code Authorization} header value of a signed-in user. */
  String bearer(UserContext user) {
    return "Bearer " + server.users().issue(user.userId());
  }

  InMemoryCreditLedger ledger() {
    return ledger;
  }

  Settlements settlements() {
    return settlements;
  }

  @Override
  public void close() {
    server.close();
    client.close();
    ledger.close();
  }

  /** Every settlement the gateway made, as its settlement listener saw them. Thread-safe. */
  static final class Settlements implements SettlementListener {
    /** One settlement. */
    record Settled(Reservation reservation, Settlement settlement) {}

    private final Queue<Settled> all = new ConcurrentLinkedQueue<>();
    private final BlockingQueue<Settled> applied = new LinkedBlockingQueue<>();
    private final Semaphore appliedPermits = new Semaphore(0);

    @Override
    public void onSettlement(SettlementEvent event) {
      Reservation reservation = event.reservation();
      Settlement settlement = event.settlement();
      Settled settled = new Settled(reservation, settlement);
      all.add(settled);
      if (settlement.applied()) {
        applied.add(settled);
        appliedPermits.release();
      }
    }

    /** Waits for the next settlement that changed the ledger; fails when none comes in time. */
    Settled next(Duration timeout) throws InterruptedException {
      Settled settled = applied.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (settled == null) {
        throw new AssertionError("No settlement within " + timeout.toMillis() + " ms");
      }
      return settled;
    }

    /** Waits until {@code count} settlements have changed the ledger in all; fails when they do not in time. */
    void awaitApplied(int count, Duration timeout) throws InterruptedException {
      if (!appliedPermits.tryAcquire(count, timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("Only " + appliedPermits.availablePermits() + " of " + count
            + " settlements within " + timeout.toMillis() + " ms");
      }
      appliedPermits.release(count);
    }

    /** Every settlement call for this request id, in order, including no-ops. */
    List<Settlement> of(String requestId) {
      List<Settlement> settlements = new ArrayList<>();
      for (Settled settled : all) {
        if (requestId.equals(settled.reservation().requestId())) {
          settlements.add(settled.settlement());
        }
      }
      return settlements;
    }

    /** How many settlement calls ended each way. */
    Map<Settlement, Long> counts() {
      return all.stream().collect(Collectors.groupingBy(Settled::settlement, Collectors.counting()));
    }
  }
}
