package dev.llmgateway.host;

import dev.llmgateway.StreamHandle;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * A chat being answered in the background ({@link ChatGateway#chatInBackground}): its events go to
 * the gateway's {@link ChatEventPublisher}, not to the caller. The host keeps it to know the chat's
 * id, to wait for its end or to cancel it; dropping it changes nothing.
 *
 * <p>{@link #cancel()} stops the chat's stream at once (the service sees the connection close). The
 * chat then ends as a relayed stream whose browser went away: its credits are settled once by the
 * gateway's {@link SettlementPolicy} for a cancelled delivery (nothing charged when no token had
 * arrived), and its last event is a {@link ChatEvent.Failed} with code {@code cancelled} ({@link
 * ErrorKind#CANCELLED}). A chat that had already completed is not changed by a cancel.
 *
 * <p>Thread-safe: any thread may cancel or wait.
 */
public final class BackgroundChat {
  private final String id;
  private final CompletableFuture<ChatEvent> completion = new CompletableFuture<>();
  private volatile @Nullable StreamHandle stream;
  private volatile boolean cancelled;

  BackgroundChat(String id) {
    this.id = Objects.requireNonNull(id, "id");
  }

  /**
   * Returns the chat's id: the request id of its call ({@code X-Request-Id}), and the {@link
   * ChatEvent#chatId()} of its events.
   *
   * @return the id
   */
  public String id() {
    return id;
  }

  /**
   * Returns a future that completes when the chat has ended, with its last event ({@link
   * ChatEvent.Completed} or {@link ChatEvent.Failed}), after its credits were settled and that
   * event was offered to the publisher. Failures of the service, timeouts and cancels complete it
   * normally, with a {@link ChatEvent.Failed}; it completes exceptionally only if the gateway itself
   * failed unexpectedly (an {@link Error}). Cancelling the returned future does not cancel the chat:
   * use {@link #cancel()}.
   *
   * @return a new future each call, completed with the chat's last event
   */
  public CompletableFuture<ChatEvent> completion() {
    return completion.copy();
  }

  /**
   * Returns whether the chat has ended: its credits are settled and its last event was published.
   *
   * @return true once {@link #completion()} is complete
   */
  public boolean isDone() {
    return completion.isDone();
  }

  /**
   * Cancels the chat: its stream stops at once, its credits are settled once as for a relay whose
   * browser went away, and its last event is a {@link ChatEvent.Failed} with code {@code
   * cancelled}. Does nothing once the chat has ended. Idempotent; safe from any thread, a {@link
   * ChatEventPublisher} included; does not wait for the chat to end ({@link #completion()} does).
   */
  public void cancel() {
    cancelled = true;
    StreamHandle s = stream;
    if (s != null) {
      s.cancel();
    }
  }

  /** Whether {@link #cancel()} was called. */
  boolean cancelRequested() {
    return cancelled;
  }

  /** Attaches the chat's stream, cancelling it if the chat was cancelled before. */
  void attach(StreamHandle handle) {
    stream = handle;
    if (cancelled) {
      handle.cancel();
    }
  }

  /** Ends the chat with its last event. */
  void complete(ChatEvent last) {
    completion.complete(last);
  }

  /** Ends the chat with a failure of the gateway itself. */
  void fail(Throwable failure) {
    completion.completeExceptionally(failure);
  }

  @Override
  public String toString() {
    return "BackgroundChat{id=" + id + ", done=" + completion.isDone() + ", cancelled=" + cancelled + "}";
  }
}
