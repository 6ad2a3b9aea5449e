package dev.llmgateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JwtKeySetTest {
  private static final String SHORT_SECRET = "only-31-bytes-long-secret-xxxxx";

  @Test
  void refusesSecretShorterThan32BytesNamingTheRuleNotTheSecret() {
    assertThat(SHORT_SECRET.getBytes(StandardCharsets.UTF_8)).hasSize(31);

    assertThatThrownBy(() -> JwtKeySet.of("k1", SHORT_SECRET))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 32 bytes")
        .hasMessageNotContaining(SHORT_SECRET);
  }

  @Test
  void acceptsSecretOfExactly32Bytes() {
    assertThat(JwtKeySet.of("k1", new byte[32]).activeKeyId()).isEqualTo("k1");
  }

  @Test
  void refusesShortOlderKeyToo() {
    assertThatThrownBy(() -> JwtKeySet.builder().activeKey("k2", Fixtures.SECRET).verificationKey("k1", new byte[16]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("kid k1");
  }

  @Test
  void refusesTheSameKidTwice() {
    assertThatThrownBy(() -> JwtKeySet.builder().activeKey("k1", Fixtures.SECRET).verificationKey("k1", Fixtures.OLD_SECRET))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("already");
  }

  @Test
  void refusesKidWithSpaces() {
    assertThatThrownBy(() -> JwtKeySet.of("key one", Fixtures.SECRET)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void acceptsKidsOfPrintableAsciiUpToTheMaximumLength() {
    String longest = "k".repeat(JwtKeySet.MAX_KEY_ID_LENGTH);
    assertThat(JwtKeySet.of(longest, Fixtures.SECRET).activeKeyId()).isEqualTo(longest);
    assertThat(JwtKeySet.of("!~", Fixtures.SECRET).activeKeyId()).isEqualTo("!~");

    for (String bad : new String[] {"", longest + "k", "k\u007f", "k\u00e9", "k\t"}) {
      assertThatThrownBy(() -> JwtKeySet.of(bad, Fixtures.SECRET)).as("kid %s", bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void refusesToBuildWithoutAnActiveKey() {
    assertThatThrownBy(() -> JwtKeySet.builder().verificationKey("k1", Fixtures.SECRET).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("activeKey");
  }

  @Test
  void listsTheActiveKeyFirst() {
    JwtKeySet keys = JwtKeySet.builder().verificationKey("old", Fixtures.OLD_SECRET).activeKey("new", Fixtures.SECRET)
        .build();

    assertThat(keys.keyIds()).containsExactly("new", "old");
  }

  @Test
  void copiesTheSecretSoLaterChangesDoNotLeakIn() {
    byte[] secret = Fixtures.SECRET.getBytes(StandardCharsets.UTF_8);
    JwtKeySet keys = JwtKeySet.of("k1", secret);
    secret[0] ^= 1;

    assertThat(keys.activeSecret()).isEqualTo(Fixtures.SECRET.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void showsKeyIdsButNoSecretInToString() {
    JwtKeySet keys = JwtKeySet.builder().activeKey("new", Fixtures.SECRET).verificationKey("old", Fixtures.OLD_SECRET)
        .build();

    assertThat(keys.toString()).contains("new", "old").doesNotContain(Fixtures.SECRET, Fixtures.OLD_SECRET);
  }
}
