package dev.llmgateway;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The answer to a {@link LlmGatewayClient#chat chat} call.
 *
 * @param sessionId the conversation this message belongs to; pass it back to continue
 * @param messageId the id of the answer message
 * @param intent what the service decided the user wants; {@link Intent#UNKNOWN} for values this
 *     SDK version does not know
 * @param rawIntent the intent exactly as the service sent it, or null when absent
 * @param answer the answer text
 * @param candidates suggested profiles; empty when none
 * @param actions proposed actions; empty when none
 * @param usage token counts, or null when the service sent none
 * @param model the model that answered, or null
 * @param requestId the {@code X-Request-Id} of the call (the service's echo when it sent one)
 * @param extra top-level fields this SDK version does not know, as plain Java values
 */
public record ChatResponse(
    String sessionId,
    String messageId,
    Intent intent,
    @Nullable String rawIntent,
    String answer,
    List<Candidate> candidates,
    List<Action> actions,
    @Nullable Usage usage,
    @Nullable String model,
    String requestId,
    Map<String, @Nullable Object> extra) {
  /** Copies the lists and maps. */
  public ChatResponse {
    candidates = List.copyOf(candidates);
    actions = List.copyOf(actions);
    extra = Values.copy(extra);
  }
}
