package dev.llmgateway.redis;

import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatEvent;
import dev.llmgateway.host.ChatEventPublisher;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.BaseRedisAsyncCommands;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ChatEventPublisher} that sends each event of a background chat ({@code
 * ChatGateway.chatInBackground}) to its user's Redis Pub/Sub channel: {@code PUBLISH <channel>
 * <event.toJson()>}, so that whichever host instance holds the user's push connection (WebSocket,
 * server-sent events) receives it.
 *
 * <p><b>Channels.</b> One per user: {@code <channelPrefix><companyId>:<userId>}, for example {@code
 * llm-gateway:chat-events:acme:u-42} with the {@linkplain #DEFAULT_CHANNEL_PREFIX default prefix}.
 * In the ids, {@code %} is written {@code %25} and {@code :} is written {@code %3A}, so that two
 * users never share a channel; ids without them appear as they are. A subscriber computes its
 * user's channel with {@link #channel(String, UserContext)} (or {@link #channelOf(UserContext)})
 * and subscribes to it exactly ({@code SUBSCRIBE}, not a pattern). The message is the event's
 * stable JSON ({@link ChatEvent#toJson()}).
 *
 * <pre>{@code
 * ChatGateway gateway = ChatGateway.builder()
 *     .client(client).ledger(ledger)
 *     .eventPublisher(RedisChatEventPublisher.create(connection))
 *     .build();
 * // On the instance holding the user's browser connection:
 * pubSub.sync().subscribe(RedisChatEventPublisher.channel(RedisChatEventPublisher.DEFAULT_CHANNEL_PREFIX, user));
 * }</pre>
 *
 * <p><b>Never blocks.</b> {@link #publish} hands the command to Lettuce and returns; it does not
 * wait for Redis. One chat's events are published in order (they come one at a time, and Lettuce
 * sends a connection's commands in order). Redis Pub/Sub delivers at most once: a subscriber that
 * is not connected when an event is published misses it, so a page should also be able to read the
 * finished answer from the user's session.
 *
 * <p><b>Failures</b> (Redis down, the command refused) are counted ({@link #failures()}) and logged
 * at WARN, the first and then every 1,000th, with the exception's class only, never the event's
 * text or ids; they are never thrown, so the chat and its settlement go on.
 *
 * <p>Thread-safe and lock-free. The connection is the host's: shared, never closed here.
 */
public final class RedisChatEventPublisher implements ChatEventPublisher {
  /** Default prefix of the users' channels. */
  public static final String DEFAULT_CHANNEL_PREFIX = "llm-gateway:chat-events:";

  private static final Logger LOG = LoggerFactory.getLogger(RedisChatEventPublisher.class);
  /** After the first failure, one in this many is logged. */
  private static final long LOG_EVERY = 1000;

  private final BaseRedisAsyncCommands<String, String> redis;
  private final String channelPrefix;
  private final LongAdder published = new LongAdder();
  private final LongAdder failures = new LongAdder();

  private RedisChatEventPublisher(Builder b) {
    this.redis = b.commands;
    this.channelPrefix = b.channelPrefix;
  }

  /**
   * Returns a publisher on the {@linkplain #DEFAULT_CHANNEL_PREFIX default channels}.
   *
   * @param connection the host's connection; shared, never closed by the publisher
   * @return a new publisher
   */
  public static RedisChatEventPublisher create(StatefulRedisConnection<String, String> connection) {
    return builder(connection).build();
  }

  /**
   * Starts a builder.
   *
   * @param connection the host's connection; shared, never closed by the publisher
   * @return a new builder
   */
  public static Builder builder(StatefulRedisConnection<String, String> connection) {
    return new Builder(Objects.requireNonNull(connection, "connection").async());
  }

  /**
   * Starts a builder for a Redis Cluster (a cluster's {@code PUBLISH} reaches subscribers on every
   * node).
   *
   * @param connection the host's cluster connection; shared, never closed by the publisher
   * @return a new builder
   */
  public static Builder builder(StatefulRedisClusterConnection<String, String> connection) {
    return new Builder(Objects.requireNonNull(connection, "connection").async());
  }

  /**
   * Returns the channel of a user's events: {@code <channelPrefix><companyId>:<userId>}, with
   * {@code %} and {@code :} in the ids written {@code %25} and {@code %3A}.
   *
   * @param channelPrefix the publisher's prefix, for example {@link #DEFAULT_CHANNEL_PREFIX}
   * @param user the user
   * @return the channel to subscribe to
   * @throws IllegalArgumentException if {@code channelPrefix} is empty
   */
  public static String channel(String channelPrefix, UserContext user) {
    Objects.requireNonNull(user, "user");
    return channel(RedisCalls.checkPrefix(channelPrefix, "channelPrefix"), user.companyId(), user.userId());
  }

  /**
   * Returns the channel this publisher sends a user's events to.
   *
   * @param user the user
   * @return the channel to subscribe to
   */
  public String channelOf(UserContext user) {
    Objects.requireNonNull(user, "user");
    return channel(channelPrefix, user.companyId(), user.userId());
  }

  private static String channel(String prefix, String companyId, String userId) {
    StringBuilder channel = new StringBuilder(prefix.length() + companyId.length() + userId.length() + 8)
        .append(prefix);
    escape(channel, companyId).append(':');
    return escape(channel, userId).toString();
  }

  private static StringBuilder escape(StringBuilder channel, String id) {
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c == '%') {
        channel.append("%25");
      } else if (c == ':') {
        channel.append("%3A");
      } else {
        channel.append(c);
      }
    }
    return channel;
  }

  /**
   * Sends the event to its user's channel without waiting for Redis.
   *
   * @param event the event
   */
  @Override
  public void publish(ChatEvent event) {
    Objects.requireNonNull(event, "event");
    String channel = channel(channelPrefix, event.companyId(), event.userId());
    try {
      // The stage whenComplete returns is not needed: it completes when the command does.
      var unused = redis.publish(channel, event.toJson()).whenComplete((receivers, e) -> {
        if (e == null) {
          published.increment();
        } else {
          failed(e);
        }
      });
    } catch (RuntimeException e) { // a full request queue, a closed connection: refused at once
      failed(e);
    }
  }

  private void failed(Throwable e) {
    failures.increment();
    long count = failures.sum();
    if (count == 1 || count % LOG_EVERY == 0) {
      LOG.warn("Redis PUBLISH of a chat event failed ({}); {} failed so far, the events are lost",
          RedisCalls.unwrap(e).getClass().getName(), count);
    }
  }

  /**
   * Counts the events Redis accepted (whether or not a subscriber was listening).
   *
   * @return the count since the publisher was built
   */
  public long published() {
    return published.sum();
  }

  /**
   * Counts the events that could not be published (Redis failed or refused the command).
   *
   * @return the count since the publisher was built
   */
  public long failures() {
    return failures.sum();
  }

  @Override
  public String toString() {
    return "RedisChatEventPublisher{channelPrefix=" + channelPrefix + ", published=" + published.sum()
        + ", failures=" + failures.sum() + "}";
  }

  /** Builds a {@link RedisChatEventPublisher}. Not thread-safe. */
  public static final class Builder {
    private final BaseRedisAsyncCommands<String, String> commands;
    private String channelPrefix = DEFAULT_CHANNEL_PREFIX;

    private Builder(BaseRedisAsyncCommands<String, String> commands) {
      this.commands = commands;
    }

    /**
     * Sets the prefix of every channel. Default {@link #DEFAULT_CHANNEL_PREFIX}.
     *
     * @param channelPrefix not empty
     * @return this builder
     * @throws IllegalArgumentException if {@code channelPrefix} is empty
     */
    public Builder channelPrefix(String channelPrefix) {
      this.channelPrefix = RedisCalls.checkPrefix(channelPrefix, "channelPrefix");
      return this;
    }

    /**
     * Builds the publisher. Sends nothing to Redis.
     *
     * @return a new publisher
     */
    public RedisChatEventPublisher build() {
      return new RedisChatEventPublisher(this);
    }
  }
}
