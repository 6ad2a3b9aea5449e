package dev.llmgateway.internal;

import dev.llmgateway.AuditSink;
import dev.llmgateway.CallInfo;
import dev.llmgateway.Operation;
import dev.llmgateway.Usage;
import dev.llmgateway.UserContext;
import java.util.Map;
import java.util.function.Function;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * One validated logical call, ready to be sent as many times as the retry policy allows.
 *
 * @param body the serialized JSON body, complete before the first attempt; null for GET/DELETE
 * @param idempotencyKey sent as {@code Idempotency-Key} on every attempt; null for calls without
 * @param deleteSemantics a {@code 404} after an attempt whose outcome is unknown means done
 * @param direct the URL carries its own single-use credential (a stream token): no auth headers,
 *     no retries
 * @param auditMetadata the request's metadata as the audit keeps it ({@link AuditMetadata})
 * @param auditSink where the call's one audit event goes: the client's, or the host gateway's
 */
@SuppressWarnings("ArrayRecordComponent") // never compared or hashed; the body is not copied
public record CallSpec<T>(
    Operation operation,
    String method,
    HttpUrl url,
    byte @Nullable [] body,
    UserContext user,
    String requestId,
    @Nullable String idempotencyKey,
    String queryPreview,
    ResponseParser<T> parser,
    Function<T, @Nullable Usage> usageOf,
    boolean deleteSemantics,
    boolean direct,
    Map<String, String> auditMetadata,
    AuditSink auditSink) {

  /** Turns a 2xx body into the call's result: null for a call without one ({@code T} is {@code Void}). */
  @FunctionalInterface
  public interface ResponseParser<T> {
    @Nullable T parse(byte[] body, String requestId) throws Json.MalformedJsonException;
  }

  /** What listeners and the audit are told about the call. */
  public CallInfo info() {
    return new CallInfo(requestId, operation, method, url.encodedPath(), user.userId(), user.companyId(), queryPreview);
  }

  /** A short name for messages, e.g. {@code POST /api/v1/llm-chat/recruiter/chat}. */
  public String describe() {
    return method + " " + url.encodedPath();
  }
}
