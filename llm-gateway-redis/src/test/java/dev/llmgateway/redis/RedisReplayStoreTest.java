package dev.llmgateway.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.ChatRequest;
import dev.llmgateway.TransportException;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.StreamToken;
import dev.llmgateway.auth.StreamTokenIssuer;
import dev.llmgateway.auth.StreamTokenVerifier;
import dev.llmgateway.auth.TokenVerificationException;
import dev.llmgateway.host.ErrorMapper;
import dev.llmgateway.testkit.RedisServerExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RedisReplayStoreTest {
  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final JwtKeySet KEYS =
      JwtKeySet.of("k1", "a-test-secret-of-at-least-32-bytes!!".getBytes(StandardCharsets.UTF_8));

  private RedisConnections connections;
  private String id;

  @BeforeEach
  void connect() {
    connections = new RedisConnections(REDIS);
    id = UUID.randomUUID().toString();
  }

  @AfterEach
  void close() {
    connections.close();
  }

  @Test
  void anIdUsedOnOneInstanceIsAReplayOnAnother() {
    RedisReplayStore a = RedisReplayStore.forStreamTokens(connections.connect());
    RedisReplayStore b = RedisReplayStore.forStreamTokens(connections.connect());
    Instant expiresAt = Instant.now().plus(Duration.ofMinutes(5));

    assertThat(a.markUsed(id, expiresAt)).isTrue();
    assertThat(b.markUsed(id, expiresAt)).isFalse();
    assertThat(a.markUsed(id, expiresAt)).isFalse();
  }

  @Test
  void ofConcurrentFirstUsesExactlyOneWins() throws Exception {
    RedisReplayStore a = RedisReplayStore.forWebhooks(connections.connect());
    RedisReplayStore b = RedisReplayStore.forWebhooks(connections.connect());
    Instant expiresAt = Instant.now().plus(Duration.ofMinutes(5));
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        RedisReplayStore store = i % 2 == 0 ? a : b;
        results.add(pool.submit(() -> {
          start.await();
          return store.markUsed(id, expiresAt);
        }));
      }
      start.countDown();
      int firsts = 0;
      for (Future<Boolean> result : results) {
        firsts += result.get(30, TimeUnit.SECONDS) ? 1 : 0;
      }
      assertThat(firsts).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theIdExpiresAtExpiresAtAndKindsDoNotMix() {
    RedisReplayStore tokens = RedisReplayStore.forStreamTokens(connections.connect());
    RedisReplayStore webhooks = RedisReplayStore.forWebhooks(connections.connect());
    Instant expiresAt = Instant.now().plus(Duration.ofMinutes(2));

    assertThat(tokens.markUsed(id, expiresAt)).isTrue();
    assertThat(webhooks.markUsed(id, expiresAt)).isTrue();

    long pexpireAt = Long.parseLong(REDIS.command("PEXPIRETIME " + RedisReplayStore.STREAM_TOKEN_PREFIX + id)
        .substring(1));
    assertThat(pexpireAt).isEqualTo(expiresAt.toEpochMilli());
    assertThat(REDIS.command("EXISTS " + RedisReplayStore.WEBHOOK_PREFIX + id)).isEqualTo(":1");
  }

  @Test
  void anIdWhoseTimeIsPastIsNotKept() {
    RedisReplayStore store = RedisReplayStore.forStreamTokens(connections.connect());
    Instant past = Instant.now().minus(Duration.ofHours(1));

    assertThat(store.markUsed(id, past)).isTrue();
    assertThat(REDIS.command("EXISTS " + RedisReplayStore.STREAM_TOKEN_PREFIX + id)).isEqualTo(":0");
  }

  @Test
  void aForgottenIdIsAFirstUseAgain() {
    RedisReplayStore store = RedisReplayStore.forWebhooks(connections.connect());
    Instant expiresAt = Instant.now().plus(Duration.ofMinutes(5));
    assertThat(store.markUsed(id, expiresAt)).isTrue();

    store.forget(id);

    assertThat(store.markUsed(id, expiresAt)).isTrue();
  }

  @Test
  void failsClosedWithARetryable503WhenRedisIsDown() {
    RedisReplayStore store = RedisReplayStore.builder(connections.connect())
        .keyPrefix(RedisReplayStore.STREAM_TOKEN_PREFIX).timeout(Duration.ofMillis(300)).build();
    REDIS.stop();

    assertThatThrownBy(() -> store.markUsed(id, Instant.now().plus(Duration.ofMinutes(5))))
        .isInstanceOfSatisfying(TransportException.class, e -> {
          assertThat(e.isRetryable()).isTrue();
          assertThat(e.getMessage()).doesNotContain(id);
          assertThat(ErrorMapper.ofDefaults().toResponse(e).status()).isEqualTo(503);
        });
    assertThatThrownBy(() -> store.forget(id)).isInstanceOf(TransportException.class);
  }

  @Test
  void failsClosedWhenRedisHangs() {
    RedisReplayStore store = RedisReplayStore.builder(connections.connect())
        .keyPrefix(RedisReplayStore.WEBHOOK_PREFIX).timeout(Duration.ofMillis(300)).build();
    REDIS.freeze();
    try {
      assertThatThrownBy(() -> store.markUsed(id, Instant.now().plus(Duration.ofMinutes(5))))
          .isInstanceOf(TransportException.class)
          .hasMessageContaining("did not answer within");
    } finally {
      REDIS.thaw();
    }
  }

  @Test
  void aStreamTokenVerifiedOnOneInstanceIsRefusedOnAnother() {
    StreamToken token = StreamTokenIssuer.builder().keys(KEYS).serviceBaseUrl("https://llm.example")
        .environment(name -> null).build()
        .issue(ChatRequest.builder().query("hello").build(), UserContext.builder().userId("u1").companyId("c1").role("member").build(), "req-1");
    StreamTokenVerifier a = StreamTokenVerifier.builder().keys(KEYS)
        .replayStore(RedisReplayStore.forStreamTokens(connections.connect())).build();
    StreamTokenVerifier b = StreamTokenVerifier.builder().keys(KEYS)
        .replayStore(RedisReplayStore.forStreamTokens(connections.connect())).build();

    assertThat(a.verify(token.token()).requestId()).isEqualTo("req-1");
    assertThatThrownBy(() -> b.verify(token.token())).isInstanceOf(TokenVerificationException.class);
  }

  @Test
  void buildingNeedsAPrefixAndAPositiveTimeout() {
    var connection = connections.connect();
    assertThatThrownBy(() -> RedisReplayStore.builder(connection).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("keyPrefix");
    assertThatThrownBy(() -> RedisReplayStore.builder(connection).keyPrefix(""))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyPrefix");
    assertThatThrownBy(() -> RedisReplayStore.builder(connection).timeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout");
  }
}
