package dev.llmgateway.sse;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.util.random.RandomGenerator;

/**
 * A fuzzer's input as a source of random choices, so that a generator written for seeded property
 * checks also makes the inputs of a fuzz test, and the fuzzer steers each choice. Once the input runs
 * out, every choice is the lowest value: lists end and weighted choices take their first option.
 */
final class FuzzedRandom implements RandomGenerator {
  private final FuzzedDataProvider data;

  FuzzedRandom(FuzzedDataProvider data) {
    this.data = data;
  }

  @Override
  public long nextLong() {
    return data.consumeLong();
  }

  @Override
  public long nextLong(long bound) {
    return nextLong(0, bound);
  }

  @Override
  public long nextLong(long origin, long bound) {
    return data.consumeLong(origin, bound - 1);
  }

  @Override
  public int nextInt() {
    return data.consumeInt();
  }

  @Override
  public int nextInt(int bound) {
    return nextInt(0, bound);
  }

  @Override
  public int nextInt(int origin, int bound) {
    return data.consumeInt(origin, bound - 1);
  }

  @Override
  public boolean nextBoolean() {
    return data.consumeBoolean();
  }
}
