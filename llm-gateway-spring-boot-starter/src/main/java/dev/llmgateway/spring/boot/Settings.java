package dev.llmgateway.spring.boot;

import dev.llmgateway.CircuitBreaker;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;

/** Applies the properties to the SDK's builders, whose setters check each value. */
final class Settings {
  private Settings() {}

  static void apply(LlmGatewayProperties p, LlmGatewayClient.Builder builder) {
    if (p.getBaseUrl() != null) {
      builder.baseUrl(p.getBaseUrl());
    }
    if (p.getServiceToken() != null) {
      builder.serviceToken(p.getServiceToken());
    }
    if (p.getSandbox() != null) {
      builder.sandbox(p.getSandbox());
    }
    LlmGatewayProperties.Retry retry = p.getRetry();
    builder.connectTimeout(p.getConnectTimeout())
        .timeout(p.getTimeout())
        .streamTimeout(p.getStreamTimeout())
        .maxConcurrentRequests(p.getMaxConcurrentRequests())
        .maxQueueWait(p.getMaxQueueWait())
        .healthTimeout(p.getHealth().getTimeout())
        .healthCacheTtl(p.getHealth().getCacheTtl())
        .retryPolicy(RetryPolicy.builder()
            .maxRetries(retry.getMaxRetries())
            .initialBackoff(retry.getInitialBackoff())
            .maxBackoff(retry.getMaxBackoff())
            .deadline(retry.getDeadline())
            .build());
  }

  static CircuitBreaker breaker(LlmGatewayProperties.Breaker breaker) {
    return breaker.isEnabled()
        ? CircuitBreaker.builder().failureThreshold(breaker.getFailureThreshold())
            .openDuration(breaker.getOpenDuration()).build()
        : CircuitBreaker.disabled();
  }
}
