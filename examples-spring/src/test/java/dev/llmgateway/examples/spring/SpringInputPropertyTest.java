package dev.llmgateway.examples.spring;

import dev.llmgateway.examples.gateway.GatewayHost;
import dev.llmgateway.examples.gateway.HostInputPropertyTest;
import dev.llmgateway.examples.gateway.HostSettings;
import java.util.Map;

/**
 * No client input gets a 5xx from the Spring Boot host. Tomcat and Spring MVC answer some junk
 * themselves (a 400 page for a malformed request line, for example): any 4xx is fine.
 */
class SpringInputPropertyTest extends HostInputPropertyTest {
  @Override
  protected GatewayHost start(HostSettings settings) {
    return SpringHost.start(settings, Map.of());
  }
}
