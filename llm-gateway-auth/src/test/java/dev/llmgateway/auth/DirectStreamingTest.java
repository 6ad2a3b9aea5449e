package dev.llmgateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuthenticationException;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.StreamOptions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The direct-streaming flow: the host mints a stream token, the stream is read from its URL once. */
class DirectStreamingTest {
  private final MockWebServer service = new MockWebServer();
  private final List<VerifiedStreamToken> verified = new CopyOnWriteArrayList<>();
  private StreamTokenIssuer issuer;
  private LlmGatewayClient client;

  @BeforeEach
  void setUp() throws Exception {
    StreamTokenVerifier verifier = StreamTokenVerifier.builder().keys(Fixtures.keys()).build();
    service.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        // The service's side of CONTRACT section 4: verify the token, refuse a reused jti, stream.
        try {
          VerifiedStreamToken token = verifier.verify(request.getUrl().queryParameter("token"));
          verified.add(token);
        } catch (TokenVerificationException e) {
          return new MockResponse.Builder().code(401).body("{\"detail\":\"" + e.reason() + "\"}").build();
        }
        return new MockResponse.Builder().code(200).setHeader("Content-Type", "text/event-stream")
            .body("data: {\"type\":\"session\",\"session_id\":\"s1\",\"message_id\":\"m1\"}\n\n"
                + "data: {\"type\":\"token\",\"content\":\"Hi\"}\n\n"
                + "data: {\"type\":\"done\",\"finish_reason\":\"stop\"}\n\ndata: [DONE]\n\n")
            .build();
      }
    });
    service.start();
    issuer = StreamTokenIssuer.builder().keys(Fixtures.keys()).serviceBaseUrl(service.url("/").toString())
        .environment(Fixtures.NO_ENV).build();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("svc-token")
        .environment(Fixtures.NO_ENV).build();
  }

  @AfterEach
  void tearDown() {
    client.close();
    service.close();
  }

  @Test
  void theIssuedUrlStreamsOnceAndCarriesTheRequest() {
    StreamToken token = issuer.issue(ChatRequest.of("Find Rails engineers"), Fixtures.USER, "req-42");

    try (ChatStream stream = client.chatStreamFromUrl(token.url(), Fixtures.USER, StreamOptions.DEFAULTS)) {
      assertThat(stream.text()).isEqualTo("Hi");
    }
    assertThat(verified).singleElement().satisfies(v -> {
      assertThat(v.request().query()).isEqualTo("Find Rails engineers");
      assertThat(v.requestId()).isEqualTo("req-42");
    });

    assertThat(catchThrowable(() -> client.chatStreamFromUrl(token.url(), Fixtures.USER, StreamOptions.DEFAULTS)))
        .isInstanceOf(AuthenticationException.class);
  }
}
