package dev.llmgateway.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class IdsTest {
  private static final long VERSION_BITS = 0xF000L;
  private static final long VARIANT_BITS = 0xC000000000000000L;

  @Test
  void idsAreRandomVersion4UuidsInTheirTextForm() {
    String id = Ids.randomUuid();

    UUID uuid = UUID.fromString(id);
    assertThat(uuid.toString()).isEqualTo(id);
    assertThat(uuid.version()).isEqualTo(4);
    assertThat(uuid.variant()).isEqualTo(2);
  }

  @Test
  void thePredictorBelowComputesTheNextIdOfAThreadLocalRandomGenerator() {
    // Guards the next test: the predictor works on what Ids used to do.
    String id = threadLocalRandomUuid();
    String next = threadLocalRandomUuid();

    assertThat(ThreadLocalRandomPredictor.next(id)).contains(next);
  }

  @Test
  void theNextIdCannotBeComputedFromThePreviousOne() {
    for (int i = 0; i < 100; i++) {
      String id = Ids.randomUuid();
      String next = Ids.randomUuid();

      assertThat(ThreadLocalRandomPredictor.next(id)).as("prediction from %s", id).isNotEqualTo(Optional.of(next));
    }
  }

  @Test
  void idsDrawnOnManyThreadsAtOnceAreAllDistinct() throws Exception {
    int threads = 8;
    int perThread = 5_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<List<String>>> drawn = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        drawn.add(pool.submit(() -> {
          start.await();
          List<String> ids = new ArrayList<>(perThread);
          for (int i = 0; i < perThread; i++) {
            ids.add(Ids.randomUuid());
          }
          return ids;
        }));
      }
      start.countDown();
      Set<String> all = new HashSet<>();
      for (Future<List<String>> ids : drawn) {
        all.addAll(ids.get(30, TimeUnit.SECONDS));
      }

      assertThat(all).hasSize(threads * perThread);
    } finally {
      pool.shutdownNow();
    }
  }

  /** What {@code Ids.randomUuid()} was before ids had to be unpredictable. */
  private static String threadLocalRandomUuid() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long most = (random.nextLong() & ~VERSION_BITS) | 0x4000L;
    long least = (random.nextLong() & ~VARIANT_BITS) | 0x8000000000000000L;
    return new UUID(most, least).toString();
  }

  /**
   * Computes the next UUID a thread draws from {@code ThreadLocalRandom} from the one before. Each
   * {@code nextLong()} is {@code mix64(seed += gamma)} with an invertible {@code mix64} and a
   * per-thread odd {@code gamma} (the golden gamma plus twice the thread id): one UUID holds 122 of
   * the 128 bits of two consecutive outputs, enough to recover the seed and the gamma.
   */
  static final class ThreadLocalRandomPredictor {
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;
    private static final long M1 = 0xff51afd7ed558ccdL;
    private static final long M2 = 0xc4ceb9fe1a85ec53L;

    private ThreadLocalRandomPredictor() {}

    static Optional<String> next(String id) {
      UUID uuid = UUID.fromString(id);
      long most = uuid.getMostSignificantBits();
      long least = uuid.getLeastSignificantBits();
      for (long version = 0; version < 16; version++) {
        long seed = unmix64((most & ~VERSION_BITS) | (version << 12));
        for (long variant = 0; variant < 4; variant++) {
          long gamma = unmix64((least & ~VARIANT_BITS) | (variant << 62)) - seed;
          long threadPart = gamma - GOLDEN_GAMMA;
          if (threadPart >= 0 && threadPart < (1L << 40) && (threadPart & 1) == 0) {
            long nextMost = (mix64(seed + 2 * gamma) & ~VERSION_BITS) | 0x4000L;
            long nextLeast = (mix64(seed + 3 * gamma) & ~VARIANT_BITS) | 0x8000000000000000L;
            return Optional.of(new UUID(nextMost, nextLeast).toString());
          }
        }
      }
      return Optional.empty();
    }

    private static long mix64(long z) {
      z = (z ^ (z >>> 33)) * M1;
      z = (z ^ (z >>> 33)) * M2;
      return z ^ (z >>> 33);
    }

    private static long unmix64(long z) {
      z ^= z >>> 33;
      z *= inverse(M2);
      z ^= z >>> 33;
      z *= inverse(M1);
      return z ^ (z >>> 33);
    }

    /** The inverse of an odd number modulo 2^64 (Newton's iteration). */
    private static long inverse(long odd) {
      long x = odd;
      for (int i = 0; i < 6; i++) {
        x *= 2 - odd * x;
      }
      return x;
    }
  }
}
