package dev.llmgateway.examples;

import dev.llmgateway.Candidate;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.ChatStream;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.SessionPage;
import dev.llmgateway.SessionSummary;
import dev.llmgateway.StreamCompletion;
import dev.llmgateway.UserContext;

/**
 * The README's demo: one chat, a streamed follow-up in the same session printed token by token,
 * and the user's session list.
 *
 * <p>Runs against the in-process sandbox unless {@code LLM_SERVICE_BASE_URL} and {@code
 * LLM_SERVICE_TOKEN} point at a real service.
 */
public final class Quickstart {
  private Quickstart() {}

  /**
   * Runs the demo.
   *
   * @param args an optional query
   */
  public static void main(String[] args) {
    boolean real = System.getenv(LlmGatewayClient.ENV_BASE_URL) != null
        && System.getenv(LlmGatewayClient.ENV_SERVICE_TOKEN) != null;
    String query = args.length > 0 ? String.join(" ", args) : "Find senior Rails engineers in Berlin";

    // The host authenticated this user itself; the SDK forwards who it is.
    UserContext user = UserContext.builder().userId("123").companyId("456").role("recruiter").build();

    try (LlmGatewayClient client = LlmGatewayClient.builder().sandbox(!real).build()) {
      System.out.println("LLM service: " + (client.isSandbox() ? "embedded sandbox" : client.baseUrl()));
      System.out.println();

      ChatResponse first = client.chat(ChatRequest.of(query), user);
      print(query, first);

      String followUp = "Which of them has the most Kubernetes experience?";
      System.out.println("> " + followUp + "   (streamed)");
      ChatRequest next = ChatRequest.builder().query(followUp).sessionId(first.sessionId()).build();
      try (ChatStream stream = client.chatStream(next, user)) {
        for (String token : stream.tokens()) {
          System.out.print(token);
          System.out.flush();
        }
        StreamCompletion done = stream.completion();
        System.out.println();
        System.out.println("  session " + done.sessionId() + ", finish " + done.finishReason()
            + (done.usage() == null ? "" : ", " + done.usage().totalTokens() + " tokens"));
        System.out.println();
      }

      SessionPage page = client.sessions().list(user);
      System.out.println("Your sessions:");
      for (SessionSummary s : page.sessions()) {
        System.out.printf("  %s  %-40s %d messages%n", s.sessionId(), s.title(), s.messageCount());
      }
    }
  }

  private static void print(String query, ChatResponse response) {
    System.out.println("> " + query);
    System.out.println("[" + response.intent().wireValue() + "] " + response.answer());
    for (Candidate c : response.candidates()) {
      System.out.printf("  - %s  %s, %s (score %.2f)%n", c.profileId(), c.name(), c.headline(), c.score());
    }
    System.out.println("  session " + response.sessionId() + ", request " + response.requestId()
        + (response.usage() == null ? "" : ", " + response.usage().totalTokens() + " tokens"));
    System.out.println();
  }
}
