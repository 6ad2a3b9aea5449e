package dev.llmgateway.examples.spring;

import dev.llmgateway.UserContext;
import dev.llmgateway.examples.gateway.ChatEventHub;
import dev.llmgateway.examples.gateway.DemoGateway;
import dev.llmgateway.examples.gateway.GatewayHost;
import dev.llmgateway.examples.gateway.HostSettings;
import dev.llmgateway.examples.gateway.SandboxService;
import dev.llmgateway.examples.gateway.UserTokens;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.spring.boot.ChatGatewayBuilderCustomizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts the Spring example for a test, as a Spring Boot application is configured: the test's
 * objects (client, ledger, listener, gateway settings, users) as beans of its own, which the
 * starter's then back off for, and its settings as properties on the command line, over {@code
 * application.properties}.
 */
final class SpringHost {
  private SpringHost() {}

  /**
   * Starts the example with the shared tests' settings.
   *
   * @param settings what the test varies
   * @param properties more properties ({@code name -> value})
   * @return the running example as a host
   */
  static GatewayHost start(HostSettings settings, Map<String, Object> properties) {
    List<String> args = new ArrayList<>();
    if (settings.client().isSandbox()) {
      // The sandbox's direct-stream URL names the port before Spring binds it: pick a free one first
      // (another program could take it in between: then the start fails).
      int port = freePort();
      args.add("--server.port=" + port);
      args.add("--llm-gateway.stream-tokens.service-base-url=" + SandboxService.baseUrl(port));
    } else {
      args.add("--server.port=0");
    }
    if (settings.webhookSecret() != null) {
      args.add("--llm-gateway.webhooks.secret=" + settings.webhookSecret());
    }
    if (settings.ledger() != null) {
      args.add("--" + SpringGatewayApplication.STARTING_CREDITS_PROPERTY + "=0"); // the test deposits
    }
    if (settings.relayHeartbeat() != null) {
      args.add("--llm-gateway.relay.heartbeat=" + settings.relayHeartbeat().toMillis() + "ms");
    }
    if (settings.disabledCompanies() != null) {
      args.add("--" + SpringGatewayApplication.DISABLED_COMPANIES_PROPERTY + "=" + settings.disabledCompanies());
    }
    properties.forEach((name, value) -> args.add("--" + name + "=" + value));
    SpringApplication application = new SpringApplication(SpringGatewayApplication.class);
    application.addInitializers(context -> register(context.getBeanFactory(), settings));
    return host(application.run(args.toArray(String[]::new)));
  }

  /** The test's own beans: the starter's of the same types back off. */
  private static void register(ConfigurableListableBeanFactory beans, HostSettings settings) {
    beans.registerSingleton("testClient", settings.client());
    if (settings.ledger() != null) {
      beans.registerSingleton("testLedger", settings.ledger());
    }
    if (settings.settlementListener() != null) {
      beans.registerSingleton("testSettlementListener", settings.settlementListener());
    }
    Consumer<ChatGateway.Builder> gateway = settings.gateway();
    if (gateway != null) {
      beans.registerSingleton("testGateway", (ChatGatewayBuilderCustomizer) gateway::accept);
    }
    List<UserContext> users = settings.users();
    if (users != null) {
      Map<String, UserContext> directory = new LinkedHashMap<>();
      users.forEach(user -> directory.put(user.userId(), user));
      beans.registerSingleton("testUsers",
          new UserTokens(DemoGateway.secret(new SecureRandom()), Clock.systemUTC(), directory));
    }
  }

  /**
   * A started Spring application as a host.
   *
   * @param context the application
   * @return the host (closing it closes the application)
   */
  static GatewayHost host(ConfigurableApplicationContext context) {
    return new GatewayHost() {
      @Override
      public int port() {
        return SpringGatewayApplication.port(context);
      }

      @Override
      public UserTokens users() {
        return context.getBean(UserTokens.class);
      }

      @Override
      public ChatEventHub events() {
        return context.getBean(ChatEventHub.class);
      }

      @Override
      public void close() {
        context.close();
      }
    };
  }

  /** A port free now (another program could take it before it is bound: then the start fails). */
  static int freePort() {
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
