/**
 * Host-side policies for a server that puts the LLM chat service behind itself: what a call may
 * cost, how often a user may call, what the host answers when a call fails, and how a stream
 * reaches the browser.
 *
 * <ul>
 *   <li><b>Authorization.</b> A {@link dev.llmgateway.host.ChatPolicy} says which user may do what
 *       (chat, stream, start a direct stream, list, read or delete sessions); {@link
 *       dev.llmgateway.host.ChatPolicy#allowAll()} by default, {@link
 *       dev.llmgateway.host.ChatPolicy#denyByDefault()} for rules. A refusal is a {@link
 *       dev.llmgateway.host.ForbiddenException} ({@code 403}).
 *   <li><b>Credits.</b> A {@link dev.llmgateway.host.CreditLedger} holds an estimate of a call's
 *       cost as a {@link dev.llmgateway.host.Reservation} before anything is sent, then settles it
 *       exactly once: {@link dev.llmgateway.host.CreditLedger#commit commit} the real cost (priced
 *       by a {@link dev.llmgateway.host.CreditPricing}) or {@link
 *       dev.llmgateway.host.CreditLedger#release release} it. {@link
 *       dev.llmgateway.host.InMemoryCreditLedger} is the single-JVM implementation. A stream that
 *       ended early is charged what a {@link dev.llmgateway.host.SettlementPolicy} decides.
 *   <li><b>Rate limits.</b> A {@link dev.llmgateway.host.RateLimiter} admits or refuses each call
 *       per user; {@link dev.llmgateway.host.InMemoryRateLimiter} applies {@link
 *       dev.llmgateway.host.RateLimits} (by default 100 calls and 10 stream starts per minute per
 *       user) with token buckets.
 *   <li><b>Responses.</b> {@link dev.llmgateway.host.Envelope} is the host's JSON shape {@code
 *       {success, message, data, meta}}; {@link dev.llmgateway.host.ErrorMapper} turns any
 *       exception into an {@link dev.llmgateway.host.ErrorResponse}: an HTTP status, an envelope
 *       with a fixed, user-safe message, and headers such as {@code Retry-After}.
 *   <li><b>Relay.</b> {@link dev.llmgateway.host.SseRelay} writes a {@link dev.llmgateway.ChatStream}
 *       to the host's own HTTP response as server-sent events, with heartbeats, and cancels the
 *       upstream call when the browser goes away; its {@link dev.llmgateway.host.RelayResult} says
 *       how it ended. {@link dev.llmgateway.host.ChatGateway#stream ChatGateway.stream} relays with
 *       it and settles the call's credits from the result.
 *   <li><b>Background answers.</b> {@link dev.llmgateway.host.ChatGateway#chatInBackground
 *       ChatGateway.chatInBackground} answers a chat on the client's callback executor and gives
 *       its {@link dev.llmgateway.host.ChatEvent}s (started, tokens, completed or failed) to the
 *       host's {@link dev.llmgateway.host.ChatEventPublisher}, for a host that pushes answers to
 *       its users instead of holding a connection open; the {@link
 *       dev.llmgateway.host.BackgroundChat} it returns names the chat, awaits or cancels it.
 * </ul>
 *
 * <p>The order {@link dev.llmgateway.host.ChatGateway} applies them in: the policy, validation,
 * the rate limiter, then the ledger, then the call; a refusal at any step means nothing was
 * reserved and nothing was sent (and a policy refusal takes no rate limit permit).
 */
@NullMarked
package dev.llmgateway.host;

import org.jspecify.annotations.NullMarked;
