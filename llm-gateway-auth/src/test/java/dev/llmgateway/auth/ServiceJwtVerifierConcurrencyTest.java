package dev.llmgateway.auth;

import static dev.llmgateway.auth.Fixtures.KID;
import static dev.llmgateway.auth.Fixtures.OLD_KID;
import static dev.llmgateway.auth.Fixtures.OLD_SECRET;
import static dev.llmgateway.auth.Fixtures.OTHER_SECRET;
import static dev.llmgateway.auth.Fixtures.SECRET;
import static dev.llmgateway.auth.Fixtures.hs256;
import static dev.llmgateway.auth.Fixtures.header;
import static dev.llmgateway.auth.Fixtures.payload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.llmgateway.testkit.Concurrently;
import dev.llmgateway.testkit.MutableClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/** One verifier shared by threads: each check must use a Mac of its own per key (from a shared prototype). */
class ServiceJwtVerifierConcurrencyTest {
  private static final int THREADS = 4;
  private static final int TOKENS_PER_THREAD = 300;

  private final MutableClock clock = MutableClock.at("2026-11-20T10:00:00Z");
  private final long now = clock.instant().getEpochSecond();
  private final ServiceJwtVerifier verifier = ServiceJwtVerifier.builder()
      .keys(JwtKeySet.builder().activeKey(KID, SECRET).verificationKey(OLD_KID, OLD_SECRET).build())
      .clock(clock).build();

  @Test
  void threadsVerifyingWithTwoKeysAtOnceEachGetTheRightAnswer() throws Exception {
    List<Callable<Integer>> tasks = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int thread = t;
      tasks.add(() -> {
        int accepted = 0;
        for (int i = 0; i < TOKENS_PER_THREAD; i++) {
          String subject = "u" + thread + "x" + i;
          String claims = payload(now, 180, Map.of("sub", "\"" + subject + "\""));
          switch (i % 3) {
            case 0:
              assertThat(verifier.verify(hs256(header(KID), claims, SECRET)).userId()).isEqualTo(subject);
              accepted++;
              break;
            case 1:
              assertThat(verifier.verify(hs256(header(OLD_KID), claims, OLD_SECRET)).userId()).isEqualTo(subject);
              accepted++;
              break;
            default:
              String forged = hs256(header(KID), claims, OTHER_SECRET);
              assertThat(catchThrowableOfType(TokenVerificationException.class, () -> verifier.verify(forged))
                  .reason()).isEqualTo(TokenVerificationException.Reason.BAD_SIGNATURE);
          }
        }
        return accepted;
      });
    }
    assertThat(Concurrently.run(tasks)).containsOnly(TOKENS_PER_THREAD * 2 / 3);
  }
}
