package dev.llmgateway.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

class RedisServerExtensionTest {

  @Test
  void aMissingRedisServerFailsSayingHowToInstallIt() {
    RedisServerExtension redis = new RedisServerExtension("no-such-redis-server-here", false);

    assertThatThrownBy(redis::start)
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("install Debian's redis-server");
    assertThat(redis.isRunning()).isFalse();
  }

  @Test
  void stopsAndStartsAgainOnTheSamePortEmpty() {
    RedisServerExtension redis = new RedisServerExtension();
    redis.start();
    try {
      int port = redis.port();
      assertThat(redis.command("SET k v")).isEqualTo("+OK");

      redis.stop();
      assertThat(redis.isRunning()).isFalse();
      assertThatThrownBy(() -> redis.command("PING")).isInstanceOf(UncheckedIOException.class);

      redis.start();
      assertThat(redis.port()).isEqualTo(port);
      assertThat(redis.command("PING")).isEqualTo("+PONG");
      assertThat(redis.command("EXISTS k")).isEqualTo(":0");
    } finally {
      redis.stop();
    }
    assertThat(redis.isRunning()).isFalse();
  }
}
