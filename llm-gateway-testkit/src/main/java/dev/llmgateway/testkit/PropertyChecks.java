package dev.llmgateway.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * Checks a property on seeded, repeatable generated inputs: case {@code i} draws its input from its
 * own random source, seeded from the run's seed and {@code i} alone, so the same seed gives the same
 * inputs on every machine and every run, and one case can be replayed without the others.
 *
 * <p>A failure lists the failing cases (up to {@value #MAX_FAILURES_SHOWN}), each with its index, its
 * input and what went wrong (both as {@link Generators#show(Object)} renders them: readable, cut
 * short), and says how to replay one; the first failure, whole, is the cause. Nothing shrinks the input, so generators should keep inputs
 * small enough to read, with only a few long ones.
 *
 * <p>System properties change a run: {@value #SEED_PROPERTY} the seed (default {@value
 * #DEFAULT_SEED}), {@value #RUNS_PROPERTY} the number of cases of every check (for a longer run by
 * hand), {@value #ONLY_PROPERTY} runs the one case of that index.
 *
 * <p>Thread-safe: holds no state.
 */
public final class PropertyChecks {
  /** The system property with the seed of the generated inputs. */
  public static final String SEED_PROPERTY = "llmgateway.test.seed";
  /** The system property with the number of cases, overriding each check's own. */
  public static final String RUNS_PROPERTY = "llmgateway.test.runs";
  /** The system property with the index of the one case to run, to replay a failure. */
  public static final String ONLY_PROPERTY = "llmgateway.test.only";
  /** The seed when {@value #SEED_PROPERTY} is not set. */
  public static final long DEFAULT_SEED = 0x5EED_2026L;
  /** How many failing cases a failure describes. */
  public static final int MAX_FAILURES_SHOWN = 5;

  private PropertyChecks() {}

  /**
   * Makes up an input from a source of random choices.
   *
   * @param <T> the input's type
   */
  @FunctionalInterface
  public interface Generator<T> {
    /**
     * Makes up one input. It must depend on {@code random} alone, so that a seed replays it.
     *
     * @param random the choices to draw from
     * @return the input
     */
    T generate(RandomGenerator random);
  }

  /**
   * What must hold for every input.
   *
   * @param <T> the input's type
   */
  @FunctionalInterface
  public interface Property<T> {
    /**
     * Checks one input.
     *
     * @param input the input
     * @throws Exception or an {@link AssertionError}, if the property does not hold
     */
    void check(T input) throws Exception;
  }

  /**
   * Checks {@code property} on {@code runs} generated inputs (or as many as {@value #RUNS_PROPERTY}
   * says, or the one {@value #ONLY_PROPERTY} names).
   *
   * @param <T> the input's type
   * @param runs the number of cases, at least 1
   * @param generator makes up each case's input
   * @param property what must hold for each
   * @throws AssertionError naming the seed, each failing case's index and input, if any case fails
   * @throws IllegalArgumentException if {@code runs} is below 1
   */
  public static <T> void forAll(int runs, Generator<T> generator, Property<T> property) {
    if (runs < 1) {
      throw new IllegalArgumentException("runs < 1: " + runs);
    }
    long seed = Long.getLong(SEED_PROPERTY, DEFAULT_SEED);
    int total = Integer.getInteger(RUNS_PROPERTY, runs);
    Integer only = Integer.getInteger(ONLY_PROPERTY);
    int first = only != null ? only : 0;
    int end = only != null ? only + 1 : total;
    List<String> shown = new ArrayList<>();
    Throwable firstFailure = null;
    int failed = 0;
    for (int i = first; i < end; i++) {
      T input = generator.generate(random(seed, i));
      Throwable failure = failure(input, property);
      if (failure != null) {
        failed++;
        if (firstFailure == null) {
          firstFailure = failure;
        }
        if (shown.size() < MAX_FAILURES_SHOWN) {
          shown.add(describe(input, failure, "#" + i + " "));
        }
      }
    }
    if (failed > 0) {
      throw new AssertionError(
          String.format(
              "%d of %d cases failed (seed %d; replay one with -D%s=%d -D%s=<index>):%n%s",
              failed, end - first, seed, SEED_PROPERTY, seed, ONLY_PROPERTY, String.join("\n", shown)),
          firstFailure);
    }
  }

  /**
   * Checks {@code property} on one input made elsewhere, such as by a fuzzer, so that a failure
   * shows the input.
   *
   * @param <T> the input's type
   * @param input the input
   * @param property what must hold for it
   * @throws AssertionError showing the input, if the property does not hold
   */
  public static <T> void check(T input, Property<T> property) {
    Throwable failure = failure(input, property);
    if (failure != null) {
      throw new AssertionError(describe(input, failure, ""), failure);
    }
  }

  /**
   * The random source of case {@code index} of a run with {@code seed}.
   *
   * @param seed the run's seed
   * @param index the case's index
   * @return a new random source, the same for the same arguments
   */
  public static RandomGenerator random(long seed, int index) {
    return new SplittableRandom(seed * 1_000_003L + index);
  }

  /** The input and the failure, both made readable and cut short (the cause keeps it whole). */
  private static String describe(Object input, Throwable failure, String prefix) {
    return prefix + "input: " + Generators.show(input) + "\n    -> " + Generators.show(failure);
  }

  private static <T> @Nullable Throwable failure(T input, Property<T> property) {
    Objects.requireNonNull(input, "input");
    try {
      property.check(input);
      return null;
    } catch (Exception | AssertionError e) {
      return e;
    }
  }
}
