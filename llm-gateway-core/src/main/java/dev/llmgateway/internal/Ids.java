package dev.llmgateway.internal;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/** Request ids and idempotency keys: random version-4 UUIDs without SecureRandom's shared lock. */
public final class Ids {
  private Ids() {}

  public static String randomUuid() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long most = (random.nextLong() & ~0xF000L) | 0x4000L;
    long least = (random.nextLong() & ~(0xC000000000000000L)) | 0x8000000000000000L;
    return new UUID(most, least).toString();
  }
}
