package dev.llmgateway.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Request ids, idempotency keys and other ids that serve as capabilities or de-duplication keys:
 * random version-4 UUIDs that a third party cannot predict from ids it has seen.
 *
 * <p>Not {@code ThreadLocalRandom}: its output reveals its state (one id gives the next). Not
 * {@code UUID.randomUUID()}: its {@code SecureRandom} (NativePRNG on Linux) takes a JVM-wide lock
 * on every call (on 2 threads an id then costs about 1,700 ns instead of 180). Not a DRBG ({@code
 * SecureRandom.getInstance("DRBG")}, Hash_DRBG) per thread either: it costs about 9 times what the
 * AES keystream below costs per id ({@code IdsBenchmark}), and one per thread would mean one per
 * virtual thread. Instead the bytes come from a few AES-CTR generators seeded from the operating
 * system's entropy (see {@link Stripe}), each with its own lock and a buffer of 64 ids. A thread
 * starts at the stripe its id picks and takes the first one whose lock is free ({@code tryLock}),
 * so threads only wait for each other when every stripe is busy at once. There are about twice as
 * many stripes as processors (a power of two, 4 to 64), so this works for any number of threads,
 * virtual ones included, without a generator per thread.
 *
 * <p>Thread-safe.
 */
public final class Ids {
  /** Keystream bytes drawn under one key: 64 ids, so a refill's fixed cost is shared. */
  private static final int BUFFER_BYTES = 1024;
  private static final int ID_BYTES = 16;
  private static final int KEY_BYTES = 32;
  /** Seeds each stripe once; its lock is taken once per stripe, never per id. */
  private static final SecureRandom SEED_SOURCE = new SecureRandom();

  private static final Stripe[] STRIPES = stripes(Runtime.getRuntime().availableProcessors());
  private static final int MASK = STRIPES.length - 1;

  private Ids() {}

  /**
   * Returns a new random version-4 UUID as text.
   *
   * @return e.g. {@code 3b241101-e2bb-4255-8caf-4136c566a962}
   */
  public static String randomUuid() {
    Stripe stripe = lockedStripe();
    long most;
    long least;
    try {
      stripe.ensure(ID_BYTES);
      most = stripe.nextLong();
      least = stripe.nextLong();
    } finally {
      stripe.lock.unlock();
    }
    most = (most & ~0xF000L) | 0x4000L; // version 4
    least = (least & ~0xC000000000000000L) | 0x8000000000000000L; // IETF variant
    return new UUID(most, least).toString();
  }

  /** Returns a stripe whose lock the caller now holds. */
  private static Stripe lockedStripe() {
    int start = spread(Thread.currentThread().getId());
    for (int i = 0; i <= MASK; i++) {
      Stripe stripe = STRIPES[(start + i) & MASK];
      if (stripe.lock.tryLock()) {
        return stripe;
      }
    }
    // Every stripe busy at this instant: wait for this thread's own one.
    Stripe stripe = STRIPES[start & MASK];
    stripe.lock.lock();
    return stripe;
  }

  private static int spread(long threadId) {
    long h = threadId * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }

  private static Stripe[] stripes(int processors) {
    int count = Integer.highestOneBit(Math.max(4, Math.min(64, 2 * processors)) * 2 - 1);
    Stripe[] stripes = new Stripe[count];
    for (int i = 0; i < count; i++) {
      stripes[i] = new Stripe();
    }
    return stripes;
  }

  /**
   * One generator, its buffer and the lock guarding them: AES-256 in counter mode, each key used for
   * one refill only. A refill encrypts zeros into the buffer plus 32 more bytes, which become the
   * next key (the "fast key erasure" construction). The ids are AES-CTR keystream: without the key,
   * which never leaves this object, they cannot be told from random or predicted from one another.
   * The first key comes from the JDK's default {@link SecureRandom} (the operating system's
   * entropy).
   */
  private static final class Stripe {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final byte[] ZERO_IV = new byte[16];
    private static final byte[] ZEROS = new byte[BUFFER_BYTES + KEY_BYTES];

    final ReentrantLock lock = new ReentrantLock();
    private final byte[] stream = new byte[BUFFER_BYTES + KEY_BYTES];
    private int position = BUFFER_BYTES;
    private @Nullable Cipher cipher;
    private byte @Nullable [] key;

    /** Makes sure {@code bytes} more bytes are buffered; the caller holds {@link #lock}. */
    void ensure(int bytes) {
      if (position + bytes > BUFFER_BYTES) {
        refill();
      }
    }

    /** Returns the next 8 buffered bytes; the caller holds {@link #lock} and called {@link #ensure}. */
    long nextLong() {
      long value = (long) LONGS.get(stream, position);
      position += Long.BYTES;
      return value;
    }

    private void refill() {
      try {
        Cipher aes = cipher;
        byte[] current = key;
        if (aes == null || current == null) {
          aes = Cipher.getInstance("AES/CTR/NoPadding");
          current = new byte[KEY_BYTES];
          SEED_SOURCE.nextBytes(current);
          cipher = aes;
        }
        aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(current, "AES"), new IvParameterSpec(ZERO_IV));
        aes.doFinal(ZEROS, 0, ZEROS.length, stream, 0);
        System.arraycopy(stream, BUFFER_BYTES, current, 0, KEY_BYTES);
        Arrays.fill(stream, BUFFER_BYTES, stream.length, (byte) 0);
        key = current;
        position = 0;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("AES/CTR/NoPadding is required of every Java runtime", e);
      }
    }
  }
}
