package dev.llmgateway.interop;

import static dev.llmgateway.interop.Fixtures.ADA;
import static dev.llmgateway.interop.Fixtures.SEARCH_QUERY;
import static dev.llmgateway.interop.Fixtures.thrown;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.AuthStrategy;
import dev.llmgateway.AuthenticationException;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.NotFoundException;
import dev.llmgateway.PermissionDeniedException;
import dev.llmgateway.SessionSummary;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.ServiceJwtAuth;
import dev.llmgateway.auth.ServiceJwtMinter;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

@InteropTest
class AuthInteropTest {
  private final ReferenceService service;

  AuthInteropTest(ReferenceService service) {
    this.service = service;
  }

  private LlmGatewayClient jwtClient(JwtKeySet keys) {
    return service.clientBuilder().auth(ServiceJwtAuth.of(ServiceJwtMinter.builder().keys(keys).build())).build();
  }

  @Test
  void aWrongServiceTokenIsAnAuthenticationError() {
    try (LlmGatewayClient client = service.clientBuilder().serviceToken("not-the-service-token").build()) {
      AuthenticationException e = thrown(AuthenticationException.class,
          () -> client.chat(ChatRequest.of(SEARCH_QUERY), ADA));

      assertThat(e.status()).isEqualTo(401);
      assertThat(e.attempts()).isEqualTo(1);
    }
  }

  @Test
  void serviceJwtsCarryTheScopeOfEveryOperation() {
    try (LlmGatewayClient client = jwtClient(service.jwtKeys())) {
      ChatResponse answer = client.chat(ChatRequest.of(SEARCH_QUERY), ADA);
      String streamed;
      try (ChatStream stream = client.chatStream(ChatRequest.of(SEARCH_QUERY), ADA)) {
        streamed = stream.text();
      }
      List<SessionSummary> listed = client.sessions().list(ADA).sessions();
      int messages = client.sessions().get(answer.sessionId(), ADA).messages().size();
      client.sessions().delete(answer.sessionId(), ADA);

      assertThat(streamed).isEqualTo(answer.answer());
      assertThat(listed).hasSize(2);
      assertThat(messages).isEqualTo(2);
      assertThatThrownBy(() -> client.sessions().get(answer.sessionId(), ADA)).isInstanceOf(NotFoundException.class);
    }
  }

  @Test
  void serviceJwtsSignedWithTheKeyBeforeRotationAreAccepted() {
    try (LlmGatewayClient client = jwtClient(service.oldJwtKeys())) {
      assertThat(client.chat(ChatRequest.of(SEARCH_QUERY), ADA).answer()).isNotBlank();
    }
  }

  @Test
  void aServiceJwtSignedWithAnUnknownSecretIsAnAuthenticationError() {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    JwtKeySet forged = JwtKeySet.of(ReferenceService.JWT_KID, Base64.getEncoder().encode(secret));
    try (LlmGatewayClient client = jwtClient(forged)) {
      AuthenticationException e = thrown(AuthenticationException.class,
          () -> client.chat(ChatRequest.of(SEARCH_QUERY), ADA));

      assertThat(e.status()).isEqualTo(401);
    }
  }

  @Test
  void aServiceJwtWithoutTheNeededScopeIsPermissionDenied() {
    ServiceJwtMinter minter = ServiceJwtMinter.builder().keys(service.jwtKeys()).build();
    AuthStrategy readOnly = (request, user, operation) ->
        request.header("Authorization", "Bearer " + minter.mint(user, List.of("llm:chat:read")).token());
    try (LlmGatewayClient client = service.clientBuilder().auth(readOnly).build()) {
      PermissionDeniedException e = thrown(PermissionDeniedException.class,
          () -> client.chat(ChatRequest.of(SEARCH_QUERY), ADA));

      assertThat(e.status()).isEqualTo(403);
      assertThat(e.detail()).contains("llm:chat:send");
      assertThat(e.attempts()).isEqualTo(1);
    }
  }

  @Test
  void bothSchemesActForTheSameUser() {
    String sessionId;
    try (LlmGatewayClient headers = service.client()) {
      sessionId = headers.chat(ChatRequest.of(SEARCH_QUERY), ADA).sessionId();
    }

    try (LlmGatewayClient jwt = jwtClient(service.jwtKeys())) {
      assertThat(jwt.sessions().get(sessionId, ADA).sessionId()).isEqualTo(sessionId);
    }
  }
}
