package dev.llmgateway;

/**
 * The service operations, each with the JWT scope it needs (CONTRACT section 1). Auth strategies
 * use {@link #scope()} to ask for least privilege.
 */
public enum Operation {
  /** {@code POST /api/v1/llm-chat/recruiter/chat}. */
  CHAT("llm:chat:send"),
  /** {@code POST /api/v1/llm-chat/recruiter/chat/stream}. */
  CHAT_STREAM("llm:chat:send"),
  /** {@code GET /api/v1/llm-chat/recruiter/sessions}. */
  LIST_SESSIONS("llm:chat:read"),
  /** {@code GET /api/v1/llm-chat/recruiter/sessions/{id}}. */
  GET_SESSION("llm:chat:read"),
  /** {@code DELETE /api/v1/llm-chat/recruiter/sessions/{id}}. */
  DELETE_SESSION("llm:chat:delete");

  private final String scope;

  Operation(String scope) {
    this.scope = scope;
  }

  /**
   * Returns the scope a scheme-2 service JWT must carry for this operation.
   *
   * @return e.g. {@code llm:chat:send}
   */
  public String scope() {
    return scope;
  }
}
