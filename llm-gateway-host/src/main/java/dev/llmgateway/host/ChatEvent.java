package dev.llmgateway.host;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One event of a chat answered in the background ({@link ChatGateway#chatInBackground}), as given
 * to the host's {@link ChatEventPublisher}: {@link Started}, then a {@link Token} per piece of the
 * answer, then exactly one of {@link Completed} and {@link Failed}.
 *
 * <p>Every event names its chat ({@link #chatId()}: the request id of the call, the same as {@link
 * BackgroundChat#id()}, the {@code X-Request-Id} sent to the service and the audit event's) and the
 * user and company it answers, so a publisher can route it to that user's channel.
 *
 * <p><b>JSON.</b> {@link #toJson()} writes the event for the browser on one line, with only the
 * fields of its type, in this order; the user and company ids are not in it (the channel is the
 * user's). This shape is stable:
 *
 * <table>
 *   <caption>The JSON of each type</caption>
 *   <tr><th>type</th><th>JSON</th></tr>
 *   <tr><td>{@code started}</td><td>{@code {"type":"started","chat_id":"..."}}</td></tr>
 *   <tr><td>{@code token}</td><td>{@code {"type":"token","chat_id":"...","text":"..."}}</td></tr>
 *   <tr><td>{@code completed}</td><td>{@code {"type":"completed","chat_id":"...","session_id":"..." or
 *       null,"answer":"...","credits":12}}</td></tr>
 *   <tr><td>{@code failed}</td><td>{@code {"type":"failed","chat_id":"...","code":"...","message":"..."}}</td></tr>
 * </table>
 *
 * <p>Immutable and thread-safe.
 */
public sealed interface ChatEvent permits ChatEvent.Started, ChatEvent.Token, ChatEvent.Completed, ChatEvent.Failed {
  /**
   * Returns the chat this event belongs to: the request id of its call.
   *
   * @return the chat's id, {@link BackgroundChat#id()}
   */
  String chatId();

  /**
   * Returns the user the chat answers.
   *
   * @return the user's id, as in the {@link dev.llmgateway.UserContext}
   */
  String userId();

  /**
   * Returns the company of the user the chat answers.
   *
   * @return the company's id, as in the {@link dev.llmgateway.UserContext}
   */
  String companyId();

  /**
   * Returns the event's type, the {@code type} field of its JSON, for example to name a
   * server-sent event.
   *
   * @return {@code started}, {@code token}, {@code completed} or {@code failed}
   */
  String type();

  /**
   * Writes the event as one line of JSON, in the stable shape of its type (see {@link ChatEvent}).
   *
   * @return the JSON text, without the user's or company's id
   */
  String toJson();

  /**
   * The chat has begun: its credits are reserved and its stream is under way. Always the chat's
   * first event.
   *
   * @param chatId the chat's id (its request id)
   * @param userId the user's id
   * @param companyId the user's company's id
   */
  record Started(String chatId, String userId, String companyId) implements ChatEvent {
    /**
     * Checks the values.
     *
     * @param chatId the chat's id
     * @param userId the user's id
     * @param companyId the company's id
     * @throws NullPointerException if a value is null
     */
    public Started {
      ChatEvent.requireIds(chatId, userId, companyId);
    }

    @Override
    public String type() {
      return "started";
    }

    @Override
    public String toJson() {
      return ChatEvent.begin(type(), chatId, 0).append('}').toString();
    }
  }

  /**
   * A piece of the answer arrived.
   *
   * @param chatId the chat's id (its request id)
   * @param userId the user's id
   * @param companyId the user's company's id
   * @param text the piece of the answer text
   */
  record Token(String chatId, String userId, String companyId, String text) implements ChatEvent {
    /**
     * Checks the values.
     *
     * @param chatId the chat's id
     * @param userId the user's id
     * @param companyId the company's id
     * @param text the piece of text
     * @throws NullPointerException if a value is null
     */
    public Token {
      ChatEvent.requireIds(chatId, userId, companyId);
      Objects.requireNonNull(text, "text");
    }

    @Override
    public String type() {
      return "token";
    }

    @Override
    public String toJson() {
      StringBuilder json = ChatEvent.begin(type(), chatId, text.length() + 16);
      return ChatEvent.field(json, "text", text).append('}').toString();
    }
  }

  /**
   * The answer is complete and its credits are settled.
   *
   * @param chatId the chat's id (its request id)
   * @param userId the user's id
   * @param companyId the user's company's id
   * @param sessionId the conversation the answer belongs to, or null when the service named none
   * @param answer the whole answer text
   * @param credits the credits the ledger committed for the chat; 0 when nothing was committed (or
   *     when the ledger's write failed and is being retried: the {@link SettlementListener} hears
   *     its outcome)
   */
  record Completed(String chatId, String userId, String companyId, @Nullable String sessionId, String answer,
      long credits) implements ChatEvent {
    /**
     * Checks the values.
     *
     * @param chatId the chat's id
     * @param userId the user's id
     * @param companyId the company's id
     * @param sessionId the session, or null
     * @param answer the answer
     * @param credits the credits committed
     * @throws NullPointerException if a value other than {@code sessionId} is null
     * @throws IllegalArgumentException if {@code credits} is negative
     */
    public Completed {
      ChatEvent.requireIds(chatId, userId, companyId);
      Objects.requireNonNull(answer, "answer");
      if (credits < 0) {
        throw new IllegalArgumentException("credits must be >= 0: " + credits);
      }
    }

    @Override
    public String type() {
      return "completed";
    }

    @Override
    public String toJson() {
      StringBuilder json = ChatEvent.begin(type(), chatId, answer.length() + 64);
      ChatEvent.field(json, "session_id", sessionId);
      ChatEvent.field(json, "answer", answer);
      return json.append(",\"credits\":").append(credits).append('}').toString();
    }
  }

  /**
   * The chat ended without a complete answer (the service failed, the stream was cut off or timed
   * out, or the host {@linkplain BackgroundChat#cancel() cancelled} it: code {@code cancelled}); its
   * credits are settled.
   *
   * @param chatId the chat's id (its request id)
   * @param userId the user's id
   * @param companyId the user's company's id
   * @param code the machine-readable code an error envelope would carry ({@link ErrorKind#code()},
   *     as the gateway's {@link ErrorMapper} chose it), for example {@code stream_failed}
   * @param message the message an error envelope would carry: safe for the end user, no internal
   *     detail
   */
  record Failed(String chatId, String userId, String companyId, String code, String message) implements ChatEvent {
    /**
     * Checks the values.
     *
     * @param chatId the chat's id
     * @param userId the user's id
     * @param companyId the company's id
     * @param code the error code
     * @param message the user-safe message
     * @throws NullPointerException if a value is null
     */
    public Failed {
      ChatEvent.requireIds(chatId, userId, companyId);
      Objects.requireNonNull(code, "code");
      Objects.requireNonNull(message, "message");
    }

    @Override
    public String type() {
      return "failed";
    }

    @Override
    public String toJson() {
      StringBuilder json = ChatEvent.begin(type(), chatId, message.length() + 64);
      ChatEvent.field(json, "code", code);
      return ChatEvent.field(json, "message", message).append('}').toString();
    }
  }

  /** Checks the ids every event carries. */
  private static void requireIds(String chatId, String userId, String companyId) {
    Objects.requireNonNull(chatId, "chatId");
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(companyId, "companyId");
  }

  /** Starts the JSON of an event: its type and chat id, room for {@code more} characters. */
  private static StringBuilder begin(String type, String chatId, int more) {
    StringBuilder json = new StringBuilder(40 + chatId.length() + more).append("{\"type\":\"").append(type)
        .append('"');
    return field(json, "chat_id", chatId);
  }

  /** Appends {@code ,"name":value}, the value quoted and escaped as JSON, or {@code null}. */
  private static StringBuilder field(StringBuilder json, String name, @Nullable String value) {
    json.append(",\"").append(name).append("\":");
    if (value == null) {
      return json.append("null");
    }
    json.append('"');
    JsonStringEncoder.getInstance().quoteAsString(value, json);
    return json.append('"');
  }
}
