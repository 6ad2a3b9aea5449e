package dev.llmgateway.benchmarks;

import dev.llmgateway.internal.Ids;
import java.nio.ByteBuffer;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One request id or idempotency key, as {@code LlmGatewayClient} and {@code ChatGateway} draw them
 * per request, on 1 and 2 threads:
 *
 * <ul>
 *   <li>{@code ids}: the SDK's {@link Ids#randomUuid()} (striped DRBGs, unpredictable);
 *   <li>{@code threadLocalRandom}: what {@code Ids} did before, {@code ThreadLocalRandom} (fast,
 *       but one id reveals the next);
 *   <li>{@code jdkRandomUuid}: {@link UUID#randomUUID()} (unpredictable, one JVM-wide lock).
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class IdsBenchmark {
  /** The SDK, 1 thread. */
  @Benchmark
  public String ids() {
    return Ids.randomUuid();
  }

  /** The SDK, 2 threads. */
  @Benchmark
  @Threads(2)
  public String ids2Threads() {
    return Ids.randomUuid();
  }

  /** Before: ThreadLocalRandom, 1 thread. */
  @Benchmark
  public String threadLocalRandom() {
    return threadLocalRandomUuid();
  }

  /** Before: ThreadLocalRandom, 2 threads. */
  @Benchmark
  @Threads(2)
  public String threadLocalRandom2Threads() {
    return threadLocalRandomUuid();
  }

  /** The JDK's UUID.randomUUID(), 1 thread. */
  @Benchmark
  public String jdkRandomUuid() {
    return UUID.randomUUID().toString();
  }

  /** The JDK's UUID.randomUUID(), 2 threads. */
  @Benchmark
  @Threads(2)
  public String jdkRandomUuid2Threads() {
    return UUID.randomUUID().toString();
  }

  private static final ThreadLocal<SecureRandom> DRBG = ThreadLocal.withInitial(() -> {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  /** The alternative not taken: a Hash_DRBG per thread, 1 thread. */
  @Benchmark
  public String threadLocalDrbg() {
    byte[] bytes = new byte[16];
    DRBG.get().nextBytes(bytes);
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    long most = (buffer.getLong() & ~0xF000L) | 0x4000L;
    long least = (buffer.getLong() & ~0xC000000000000000L) | 0x8000000000000000L;
    return new UUID(most, least).toString();
  }

  /** {@code Ids.randomUuid()} as it was before it became unpredictable. */
  static String threadLocalRandomUuid() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long most = (random.nextLong() & ~0xF000L) | 0x4000L;
    long least = (random.nextLong() & ~0xC000000000000000L) | 0x8000000000000000L;
    return new UUID(most, least).toString();
  }
}
