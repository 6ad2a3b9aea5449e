package dev.llmgateway.internal;

import dev.llmgateway.AuditSink;
import dev.llmgateway.CallInfo;
import dev.llmgateway.CallOptions;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.ChatResponse;
import dev.llmgateway.ChatStream;
import dev.llmgateway.GatewayListener;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.Sessions;
import dev.llmgateway.StreamHandle;
import dev.llmgateway.StreamListener;
import dev.llmgateway.StreamOptions;
import dev.llmgateway.UserContext;
import org.jspecify.annotations.Nullable;

/**
 * What {@code llm-gateway-host} needs of a client beyond its public API: chat calls that hand the
 * host the listener of the call they create, so that the host reports the call's credit
 * reservation and settlement to it. Implemented by {@link LlmGatewayClient}. Not API.
 */
public abstract class HostAccess {
  private static volatile @Nullable HostAccess instance;

  /** Told of a call's listener when the call is created, before its {@code callStart}. */
  @FunctionalInterface
  public interface ListenerHook {
    /**
     * Receives the call and the listener it reports to (the client's shared listener, or the
     * shared one and the call's own).
     */
    void created(CallInfo call, GatewayListener listener);
  }

  /** Registers the implementation; called once, by {@link LlmGatewayClient}. */
  public static void set(HostAccess access) {
    instance = access;
  }

  /** The implementation. */
  public static HostAccess get() {
    HostAccess access = instance;
    if (access == null) {
      try {
        // Initializing the client class registers the implementation.
        Class.forName(LlmGatewayClient.class.getName(), true, HostAccess.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e);
      }
      access = instance;
      if (access == null) {
        throw new IllegalStateException("LlmGatewayClient did not register its HostAccess");
      }
    }
    return access;
  }

  /**
   * {@link LlmGatewayClient#chat(ChatRequest, UserContext, CallOptions)}, telling {@code hook} of its
   * listener and recording the call's one audit event (a validation refusal included) in {@code
   * auditSink} instead of the client's sink.
   */
  public abstract ChatResponse chat(
      LlmGatewayClient client, ChatRequest request, UserContext user, CallOptions options, ListenerHook hook,
      AuditSink auditSink);

  /**
   * {@link LlmGatewayClient#chatStream(ChatRequest, UserContext, StreamOptions)}, telling {@code hook}
   * of its listener and auditing to {@code auditSink} as {@link #chat} does.
   */
  public abstract ChatStream chatStream(
      LlmGatewayClient client, ChatRequest request, UserContext user, StreamOptions options, ListenerHook hook,
      AuditSink auditSink);

  /**
   * {@link LlmGatewayClient#chatStream(ChatRequest, UserContext, StreamOptions, StreamListener)}, telling
   * {@code hook} of its listener and auditing to {@code auditSink} as {@link #chat} does. Throws only
   * before the stream begins (validation, a closed client); every later failure reaches {@code listener}.
   */
  public abstract StreamHandle chatStream(
      LlmGatewayClient client, ChatRequest request, UserContext user, StreamOptions options,
      StreamListener listener, ListenerHook hook, AuditSink auditSink);

  /** The client's {@link LlmGatewayClient#sessions() session calls}, each audited to {@code auditSink}. */
  public abstract Sessions sessions(LlmGatewayClient client, AuditSink auditSink);

  /** The client's settings: its audit sink, shared listener, clock and ticker. */
  public abstract ClientConfig config(LlmGatewayClient client);
}
