package dev.llmgateway.benchmarks;

import dev.llmgateway.Operation;
import dev.llmgateway.host.InMemoryRateLimiter;
import dev.llmgateway.host.RateLimit;
import dev.llmgateway.host.RateLimiter.Decision;
import dev.llmgateway.host.RateLimits;
import dev.llmgateway.redis.RedisRateLimiter;
import dev.llmgateway.testkit.RedisServerExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One rate-limit decision for a stream start (both buckets) with {@link RedisRateLimiter} on a
 * throwaway loopback {@code redis-server} (started by the benchmark; Debian's {@code
 * redis-server} must be on the {@code PATH}), against a bare {@code PING} round trip on the same
 * connection and against {@link InMemoryRateLimiter}, in the same run. The limits never refuse,
 * so every decision writes both buckets.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RedisRateLimiterBenchmark {
  /** One permit per nanosecond with a burst of about two seconds: never refuses here. */
  private static final RateLimit UNLIMITED = new RateLimit(Integer.MAX_VALUE, Duration.ofNanos(Integer.MAX_VALUE),
      Integer.MAX_VALUE);
  private static final String KEY = "bench-user";

  /** The server, the connection and the limiters, shared by the benchmark's threads. */
  @State(Scope.Benchmark)
  public static class Redis {
    RedisServerExtension server;
    RedisClient client;
    StatefulRedisConnection<String, String> connection;
    RedisRateLimiter redisLimiter;
    InMemoryRateLimiter memoryLimiter;

    /** Starts the server and connects. */
    @Setup(Level.Trial)
    public void setUp() {
      server = new RedisServerExtension();
      server.start();
      client = RedisClient.create(server.uri());
      connection = client.connect();
      RateLimits limits = RateLimits.builder().calls(UNLIMITED).streamStarts(UNLIMITED).build();
      redisLimiter = RedisRateLimiter.builder(connection).limits(limits).build();
      memoryLimiter = InMemoryRateLimiter.create(limits);
    }

    /** Closes the connection and stops the server. */
    @TearDown(Level.Trial)
    public void tearDown() {
      connection.close();
      client.shutdown();
      server.stop();
    }
  }

  /**
   * A decision in Redis: one {@code EVALSHA} round trip.
   *
   * @param redis the shared state
   * @return the decision
   */
  @Benchmark
  public Decision redisDecision(Redis redis) {
    return redis.redisLimiter.tryAcquire(KEY, Operation.CHAT_STREAM);
  }

  /**
   * The floor: a bare {@code PING} round trip on the same connection.
   *
   * @param redis the shared state
   * @return the reply
   */
  @Benchmark
  public String ping(Redis redis) {
    return redis.connection.sync().ping();
  }

  /**
   * The same decision in this JVM's memory.
   *
   * @param redis the shared state
   * @return the decision
   */
  @Benchmark
  public Decision inMemoryDecision(Redis redis) {
    return redis.memoryLimiter.tryAcquire(KEY, Operation.CHAT_STREAM);
  }
}
