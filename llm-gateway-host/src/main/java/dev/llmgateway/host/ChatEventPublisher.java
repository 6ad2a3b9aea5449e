package dev.llmgateway.host;

/**
 * Where the events of a chat answered in the background ({@link ChatGateway#chatInBackground})
 * go: the host's push channel to the user, such as a Redis Pub/Sub channel ({@code
 * RedisChatEventPublisher} in {@code llm-gateway-redis}), Spring's {@code ApplicationEventPublisher},
 * or the host's own WebSocket or server-sent-event subscriptions. Set with {@link
 * ChatGateway.Builder#eventPublisher}.
 *
 * <p><b>Order and threads.</b> For one chat, {@link #publish} receives one {@link ChatEvent.Started},
 * then a {@link ChatEvent.Token} per piece of the answer, then exactly one {@link
 * ChatEvent.Completed} or {@link ChatEvent.Failed}, after the chat's credits were settled; in that
 * order, one at a time (never concurrently for one chat), on a thread of the client's callback
 * executor ({@link dev.llmgateway.LlmGatewayClient.Builder#callbackExecutor}), the thread reading
 * the chat's stream. Events of different chats may be published concurrently from different
 * threads, so an implementation must be thread-safe.
 *
 * <p><b>Do not block.</b> While {@link #publish} runs, the chat's stream is not read: hand the event
 * to an asynchronous channel or a bounded queue and return. A subscriber that cannot keep up is
 * the publisher's to drop, never the stream's to wait for.
 *
 * <p><b>Failures.</b> An exception {@link #publish} throws is logged at WARN (its class and the
 * chat's id, never its message or the event's text) and ignored: it does not stop the chat or its
 * settlement, and the chat's later events are still offered.
 */
@FunctionalInterface
public interface ChatEventPublisher {
  /**
   * Offers one event of a background chat to the host's channel.
   *
   * @param event the event; {@link ChatEvent#toJson()} gives its stable JSON form
   */
  void publish(ChatEvent event);
}
