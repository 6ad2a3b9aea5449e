package dev.llmgateway.spring.boot;

import dev.llmgateway.AuthStrategy;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.ReplayStore;
import dev.llmgateway.auth.ServiceJwtAuth;
import dev.llmgateway.auth.ServiceJwtMinter;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.util.Objects;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * When {@code llm-gateway-auth} is on the classpath: the service JWT ({@code
 * llm-gateway.auth.jwt-secret}), the stream-token issuer ({@code llm-gateway.stream-tokens.secret})
 * and the webhook verifier ({@code llm-gateway.webhooks.secret}), each when its secret is set and
 * the host has no bean of its type.
 */
@AutoConfiguration(before = LlmGatewayAutoConfiguration.class, after = LlmGatewayRedisAutoConfiguration.class)
@ConditionalOnClass(ServiceJwtAuth.class)
public class LlmGatewayAuthAutoConfiguration {
  /** Creates the configuration; Spring calls it. */
  public LlmGatewayAuthAutoConfiguration() {}

  /**
   * Scheme 2 for the client: a scoped service JWT per user, signed with {@code auth.jwt-secret}.
   *
   * @param properties the properties
   * @return the strategy the auto-configured client uses
   * @throws IllegalArgumentException if the secret, issuer, audience or lifetime is invalid
   */
  @Bean
  @ConditionalOnMissingBean(AuthStrategy.class)
  @ConditionalOnPropertyText("llm-gateway.auth.jwt-secret")
  public ServiceJwtAuth llmGatewayServiceJwtAuth(LlmGatewayProperties properties) {
    LlmGatewayProperties.Auth auth = properties.getAuth();
    ServiceJwtMinter.Builder minter = ServiceJwtMinter.builder()
        .keys(JwtKeySet.of(auth.getJwtKeyId(), Objects.requireNonNull(auth.getJwtSecret())));
    if (auth.getIssuer() != null) {
      minter.issuer(auth.getIssuer());
    }
    if (auth.getAudience() != null) {
      minter.audience(auth.getAudience());
    }
    if (auth.getTtl() != null) {
      minter.ttl(auth.getTtl());
    }
    if (properties.getServiceToken() != null) {
      minter.serviceTokenToAvoid(properties.getServiceToken());
    }
    return ServiceJwtAuth.of(minter.build());
  }

  /**
   * Mints the stream tokens of direct browser streams, signed with {@code stream-tokens.secret}.
   *
   * @param properties the properties
   * @param client the client (its base URL and validator)
   * @return the issuer
   * @throws IllegalArgumentException if the secret, URL or lifetime is invalid
   */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnPropertyText("llm-gateway.stream-tokens.secret")
  public StreamTokenIssuer llmGatewayStreamTokenIssuer(LlmGatewayProperties properties, LlmGatewayClient client) {
    LlmGatewayProperties.StreamTokens tokens = properties.getStreamTokens();
    StreamTokenIssuer.Builder issuer = StreamTokenIssuer.builder()
        .keys(JwtKeySet.of(tokens.getKeyId(), Objects.requireNonNull(tokens.getSecret())))
        .serviceBaseUrl(tokens.getServiceBaseUrl() != null ? tokens.getServiceBaseUrl() : client.baseUrl().toString())
        .validator(client.validator());
    if (tokens.getTtl() != null) {
      issuer.ttl(tokens.getTtl());
    }
    if (properties.getServiceToken() != null) {
      issuer.serviceTokenToAvoid(properties.getServiceToken());
    }
    return issuer.build();
  }

  /**
   * Verifies the service's completion webhooks with {@code webhooks.secret}; webhook ids are
   * remembered in the {@code llmGatewayWebhookReplayStore} bean when there is one (Redis), else in
   * memory.
   *
   * @param properties the properties
   * @param idStore the store of seen webhook ids, if any
   * @return the verifier
   * @throws IllegalArgumentException if the secret is not {@code whsec_} and base64 of at least 24
   *     bytes, or the tolerance is invalid
   */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnPropertyText("llm-gateway.webhooks.secret")
  public WebhookVerifier llmGatewayWebhookVerifier(LlmGatewayProperties properties,
      @Qualifier(LlmGatewayRedisAutoConfiguration.WEBHOOK_REPLAY_STORE) ObjectProvider<ReplayStore> idStore) {
    LlmGatewayProperties.Webhooks webhooks = properties.getWebhooks();
    WebhookVerifier.Builder verifier = WebhookVerifier.builder()
        .secret(WebhookSecret.parse(Objects.requireNonNull(webhooks.getSecret())));
    if (webhooks.getTolerance() != null) {
      verifier.tolerance(webhooks.getTolerance());
    }
    idStore.ifAvailable(verifier::idStore);
    return verifier.build();
  }
}
