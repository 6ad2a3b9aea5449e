/**
 * Host-side state shared by several host instances in Redis: {@link
 * dev.llmgateway.redis.RedisRateLimiter} and {@link dev.llmgateway.redis.RedisReplayStore}; and
 * {@link dev.llmgateway.redis.RedisChatEventPublisher}, which sends background chats' events to
 * their users' Pub/Sub channels.
 *
 * <p>The host passes its own Lettuce connection (standalone, Sentinel, master/replica or Redis
 * Cluster); nothing here creates, pools or closes one. Every key starts with a configurable prefix:
 *
 * <table>
 *   <caption>Keys</caption>
 *   <tr><th>key</th><th>value</th><th>expiry</th></tr>
 *   <tr><td>{@code llm-gateway:rl:{<key>}:calls}, {@code llm-gateway:rl:{<key>}:stream_starts}</td>
 *       <td>the bucket's theoretical arrival time, microseconds of Redis server time</td>
 *       <td>when the bucket is full again</td></tr>
 *   <tr><td>{@code llm-gateway:jti:<jti>}</td><td>{@code 1}</td>
 *       <td>the stream token's {@code exp} plus the verifier's leeway</td></tr>
 *   <tr><td>{@code llm-gateway:webhook:<webhook-id>}</td><td>{@code 1}</td>
 *       <td>the verifier's duplicate window</td></tr>
 * </table>
 *
 * <p>Pub/Sub channels (no keys): {@code llm-gateway:chat-events:<companyId>:<userId>}, a user's
 * background chat events as JSON ({@link dev.llmgateway.redis.RedisChatEventPublisher#channel}).
 */
@NullMarked
package dev.llmgateway.redis;

import org.jspecify.annotations.NullMarked;
