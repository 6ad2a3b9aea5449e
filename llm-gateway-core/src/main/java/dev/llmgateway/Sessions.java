package dev.llmgateway;

import org.jspecify.annotations.Nullable;

/**
 * The user's conversations on the service: list, read, delete. Obtained from {@link
 * LlmGatewayClient#sessions()}; thread-safe. Every call is validated, retried and audited like a
 * chat call.
 */
public interface Sessions {
  /** Page size used when none is given. */
  int DEFAULT_LIMIT = 10;

  /**
   * Lists the first page of the user's sessions.
   *
   * @param user the end user
   * @return the first page of at most {@value #DEFAULT_LIMIT} sessions
   * @throws ValidationException if the user context is invalid; nothing is sent
   * @throws LlmGatewayException for any other failure (see {@link LlmGatewayClient#chat})
   */
  default SessionPage list(UserContext user) {
    return list(user, DEFAULT_LIMIT, null);
  }

  /**
   * Lists one page of the user's sessions.
   *
   * @param user the end user
   * @param limit page size, 1 to 100
   * @param cursor the {@link SessionPage#nextCursor()} of the previous page, or null for the first
   * @return the page
   * @throws ValidationException if the limit, cursor or user context is invalid (see {@link
   *     RequestValidator#checkCursor}); nothing is sent
   * @throws LlmGatewayException for any other failure (see {@link LlmGatewayClient#chat})
   */
  default SessionPage list(UserContext user, int limit, @Nullable String cursor) {
    return list(user, limit, cursor, CallOptions.DEFAULTS);
  }

  /**
   * Lists one page of the user's sessions, with per-call options.
   *
   * @param user the end user
   * @param limit page size, 1 to 100
   * @param cursor the previous page's cursor, or null for the first page
   * @param options per-call options
   * @return the page
   * @throws ValidationException if an argument is invalid; nothing is sent
   * @throws LlmGatewayException for any other failure (see {@link LlmGatewayClient#chat})
   */
  SessionPage list(UserContext user, int limit, @Nullable String cursor, CallOptions options);

  /**
   * Reads one session with its messages.
   *
   * @param sessionId the session id
   * @param user the end user, who must own the session
   * @return the session
   * @throws NotFoundException if there is no such session
   * @throws PermissionDeniedException if it belongs to another user
   * @throws ValidationException if an argument is invalid; nothing is sent
   * @throws LlmGatewayException for any other failure (see {@link LlmGatewayClient#chat})
   */
  default Session get(String sessionId, UserContext user) {
    return get(sessionId, user, CallOptions.DEFAULTS);
  }

  /**
   * Reads one session with its messages, with per-call options.
   *
   * @param sessionId the session id
   * @param user the end user, who must own the session
   * @param options per-call options
   * @return the session
   * @throws NotFoundException if there is no such session
   * @throws PermissionDeniedException if it belongs to another user
   * @throws ValidationException if an argument is invalid; nothing is sent
   * @throws LlmGatewayException for any other failure (see {@link LlmGatewayClient#chat})
   */
  Session get(String sessionId, UserContext user, CallOptions options);

  /**
   * Deletes one session. If an earlier attempt of this same call may have deleted it before its
   * answer was lost, a {@code 404} on the retry counts as success.
   *
   * @param sessionId the session id
   * @param user the end user, who must own the session
   * @throws NotFoundException if there is no such session
   * @throws PermissionDeniedException if it belongs to another user
   * @throws ValidationException if an argument is invalid; nothing is sent
   * @throws LlmGatewayException for any other failure (see {@link LlmGatewayClient#chat})
   */
  default void delete(String sessionId, UserContext user) {
    delete(sessionId, user, CallOptions.DEFAULTS);
  }

  /**
   * Deletes one session, with per-call options.
   *
   * @param sessionId the session id
   * @param user the end user, who must own the session
   * @param options per-call options
   * @throws NotFoundException if there is no such session
   * @throws PermissionDeniedException if it belongs to another user
   * @throws ValidationException if an argument is invalid; nothing is sent
   * @throws LlmGatewayException for any other failure (see {@link LlmGatewayClient#chat})
   */
  void delete(String sessionId, UserContext user, CallOptions options);
}
