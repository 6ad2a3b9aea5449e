package dev.llmgateway.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatEvent;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.testkit.RedisServerExtension;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The limiter, the stores and the chat event publisher over a cluster connection (a one-node
 * cluster, which checks slots).
 */
class RedisClusterTest {
  @RegisterExtension static final RedisServerExtension REDIS = RedisServerExtension.cluster();

  private RedisClusterClient client;
  private StatefulRedisClusterConnection<String, String> connection;

  @BeforeEach
  void connect() {
    client = RedisClusterClient.create(REDIS.uri());
    connection = client.connect();
  }

  @AfterEach
  void close() {
    connection.close();
    client.shutdown();
  }

  @Test
  void aStreamStartTouchesBothBucketsOfOneSlotInOneScript() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connection)
        .limits(RateLimits.builder().calls(RateLimit.of(3, Duration.ofHours(1)))
            .streamStarts(RateLimit.of(2, Duration.ofHours(1))).build())
        .build();
    String user = "user-" + UUID.randomUUID();

    assertThat(limiter.tryAcquire(user, Operation.CHAT_STREAM).allowed()).isTrue();
    assertThat(limiter.tryAcquire(user, Operation.CHAT_STREAM).allowed()).isTrue();
    assertThat(limiter.tryAcquire(user, Operation.CHAT_STREAM).limit()).isEqualTo(RateLimits.STREAM_STARTS);
    assertThat(limiter.tryAcquire(user, Operation.CHAT).allowed()).isTrue();
    assertThat(limiter.tryAcquire(user, Operation.CHAT).limit()).isEqualTo(RateLimits.CALLS);
    assertThat(limiter.failureCount()).isZero();
  }

  @Test
  void keysInDifferentSlotsAreDecidedKeyByKeyAsDocumented() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connection)
        .limits(RateLimits.builder().calls(RateLimit.of(1, Duration.ofHours(1))).streamStarts(null).build())
        .limits("ip:", RateLimits.builder().calls(RateLimit.of(5, Duration.ofHours(1))).streamStarts(null).build())
        .build();
    String run = UUID.randomUUID().toString();
    String ip = "ip:" + run;
    List<String> keys = List.of(ip, "user:" + run);

    // No CROSSSLOT failure: one script per key, in order, up to the first refusal.
    assertThat(limiter.tryAcquireAll(keys, Operation.CHAT).allowed()).isTrue();
    assertThat(limiter.tryAcquireAll(keys, Operation.CHAT).limit()).isEqualTo(RateLimits.CALLS);
    assertThat(limiter.failureCount()).isZero();
    // The weaker guarantee: the refused call took the address's permit before the user refused.
    int left = 0;
    while (limiter.tryAcquire(ip, Operation.CHAT).allowed()) {
      left++;
    }
    assertThat(left).isEqualTo(5 - 2);
  }

  @Test
  void keysInOneSlotAreStillDecidedAllOrNothingInOneScript() {
    RedisRateLimiter limiter = RedisRateLimiter.builder(connection)
        .limits(RateLimits.builder().calls(RateLimit.of(1, Duration.ofHours(1))).streamStarts(null).build())
        .limits("ip:", RateLimits.builder().calls(RateLimit.of(5, Duration.ofHours(1))).streamStarts(null).build())
        .build();
    String run = UUID.randomUUID().toString();
    String ip = "ip:" + run;
    int slot = SlotHash.getSlot(RedisRateLimiter.DEFAULT_KEY_PREFIX + "{" + ip + "}:calls");
    String user = null;
    for (int i = 0; user == null; i++) { // about one in 16384 names shares the slot: a few thousand tries
      String candidate = "user:" + i + "-" + run;
      if (SlotHash.getSlot(RedisRateLimiter.DEFAULT_KEY_PREFIX + "{" + candidate + "}:calls") == slot) {
        user = candidate;
      }
    }
    List<String> keys = List.of(ip, user);

    assertThat(limiter.tryAcquireAll(keys, Operation.CHAT).allowed()).isTrue();
    assertThat(limiter.tryAcquireAll(keys, Operation.CHAT).limit()).isEqualTo(RateLimits.CALLS);
    assertThat(limiter.failureCount()).isZero();
    int left = 0;
    while (limiter.tryAcquire(ip, Operation.CHAT).allowed()) {
      left++;
    }
    assertThat(left).isEqualTo(5 - 1);
  }

  @Test
  void theReplayStoreWorksOnACluster() {
    RedisReplayStore store = RedisReplayStore.builder(connection).keyPrefix(RedisReplayStore.STREAM_TOKEN_PREFIX).build();
    String id = UUID.randomUUID().toString();
    Instant expiresAt = Instant.now().plus(Duration.ofMinutes(5));

    assertThat(store.markUsed(id, expiresAt)).isTrue();
    assertThat(store.markUsed(id, expiresAt)).isFalse();
  }

  @Test
  void chatEventsArePublishedOverAClusterConnection() throws Exception {
    StatefulRedisClusterPubSubConnection<String, String> subscriber = client.connectPubSub();
    try {
      BlockingQueue<String> received = new LinkedBlockingQueue<>();
      subscriber.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String channel, String message) {
          received.add(channel + " " + message);
        }
      });
      RedisChatEventPublisher publisher = RedisChatEventPublisher.builder(connection).build();
      UserContext user = UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();
      subscriber.sync().subscribe(publisher.channelOf(user));

      publisher.publish(new ChatEvent.Started("r1", "u1", "c1"));

      assertThat(received.poll(10, TimeUnit.SECONDS))
          .isEqualTo("llm-gateway:chat-events:c1:u1 {\"type\":\"started\",\"chat_id\":\"r1\"}");
      assertThat(publisher.failures()).isZero();
    } finally {
      subscriber.close();
    }
  }
}
