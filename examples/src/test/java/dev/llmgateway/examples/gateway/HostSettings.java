package dev.llmgateway.examples.gateway;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.host.SettlementListener;
import dev.llmgateway.webhooks.WebhookSecret;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * What the host API's shared test cases vary, whichever server hosts the gateway: each host's test
 * turns it into its own configuration (the JDK host: {@link #example()}; the Spring Boot host:
 * beans and properties). Always on a free port. Not thread-safe.
 */
public final class HostSettings {
  private @Nullable LlmGatewayClient client;
  private @Nullable CreditLedger ledger;
  private @Nullable String webhookSecret;
  private @Nullable SettlementListener settlementListener;
  private @Nullable Duration relayHeartbeat;
  private @Nullable List<UserContext> users;
  private @Nullable Consumer<ChatGateway.Builder> gateway;
  private @Nullable String disabledCompanies;

  private HostSettings() {}

  /** @return settings with nothing set: give at least a client */
  public static HostSettings builder() {
    return new HostSettings();
  }

  /** @param client the service's client (the test closes it) @return this */
  public HostSettings client(LlmGatewayClient client) {
    this.client = Objects.requireNonNull(client, "client");
    return this;
  }

  /** @param ledger the ledger (the test deposits; no starting credits are given) @return this */
  public HostSettings ledger(CreditLedger ledger) {
    this.ledger = Objects.requireNonNull(ledger, "ledger");
    return this;
  }

  /** @param whsec the webhook secret, {@code whsec_<base64>} @return this */
  public HostSettings webhookSecret(String whsec) {
    this.webhookSecret = Objects.requireNonNull(whsec, "whsec");
    return this;
  }

  /** @param listener told of every settlement @return this */
  public HostSettings settlementListener(SettlementListener listener) {
    this.settlementListener = Objects.requireNonNull(listener, "listener");
    return this;
  }

  /** @param heartbeat the relay's heartbeat @return this */
  public HostSettings relayHeartbeat(Duration heartbeat) {
    this.relayHeartbeat = Objects.requireNonNull(heartbeat, "heartbeat");
    return this;
  }

  /** @param users who may sign in (the first is the demo's) @return this */
  public HostSettings users(List<UserContext> users) {
    this.users = List.copyOf(users);
    return this;
  }

  /**
   * @param commaSeparated the companies the assistant is off for, as {@value
   *     GatewayExample#ENV_DISABLED_COMPANIES} holds them
   * @return this
   */
  public HostSettings disabledCompanies(String commaSeparated) {
    this.disabledCompanies = Objects.requireNonNull(commaSeparated, "commaSeparated");
    return this;
  }

  /** @return the companies the assistant is off for, comma-separated, or null for none */
  public @Nullable String disabledCompanies() {
    return disabledCompanies;
  }

  /** @param customizer more settings of the {@link ChatGateway}, applied last @return this */
  public HostSettings gateway(Consumer<ChatGateway.Builder> customizer) {
    this.gateway = Objects.requireNonNull(customizer, "customizer");
    return this;
  }

  /** @return the client */
  public LlmGatewayClient client() {
    return Objects.requireNonNull(client, "no client");
  }

  /** @return the ledger, or null for the host's own */
  public @Nullable CreditLedger ledger() {
    return ledger;
  }

  /** @return the webhook secret, or null for one made up at start */
  public @Nullable String webhookSecret() {
    return webhookSecret;
  }

  /** @return the settlement listener, or null */
  public @Nullable SettlementListener settlementListener() {
    return settlementListener;
  }

  /** @return the relay's heartbeat, or null for the default */
  public @Nullable Duration relayHeartbeat() {
    return relayHeartbeat;
  }

  /** @return the users, or null for the demo user */
  public @Nullable List<UserContext> users() {
    return users;
  }

  /** @return the gateway customizer, or null */
  public @Nullable Consumer<ChatGateway.Builder> gateway() {
    return gateway;
  }

  /** @return these settings for the JDK host ({@link GatewayExample.Builder}), on port 0 */
  public GatewayExample.Builder example() {
    GatewayExample.Builder example = GatewayExample.builder().client(client()).port(0);
    if (ledger != null) {
      example.ledger(ledger);
    }
    if (webhookSecret != null) {
      example.webhookSecret(WebhookSecret.parse(webhookSecret));
    }
    if (settlementListener != null) {
      example.settlementListener(settlementListener);
    }
    if (relayHeartbeat != null) {
      example.relayHeartbeat(relayHeartbeat);
    }
    if (users != null) {
      example.users(users);
    }
    if (disabledCompanies != null) {
      example.disabledCompanies(ExamplePolicy.companies(disabledCompanies));
    }
    if (gateway != null) {
      example.gateway(gateway);
    }
    return example;
  }
}
