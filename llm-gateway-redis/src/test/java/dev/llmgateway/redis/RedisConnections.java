package dev.llmgateway.redis;

import dev.llmgateway.testkit.RedisServerExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.util.ArrayList;
import java.util.List;

/** The connections a test opens to the fixture's server, as a host would: all closed at the end. */
final class RedisConnections implements AutoCloseable {
  private final RedisClient client;
  private final List<StatefulRedisConnection<String, String>> open = new ArrayList<>();

  RedisConnections(RedisServerExtension redis) {
    this.client = RedisClient.create(redis.uri());
  }

  /** A new connection, standing for one host instance. */
  StatefulRedisConnection<String, String> connect() {
    StatefulRedisConnection<String, String> connection = client.connect();
    open.add(connection);
    return connection;
  }

  @Override
  public void close() {
    open.forEach(StatefulRedisConnection::close);
    client.shutdown();
  }
}
