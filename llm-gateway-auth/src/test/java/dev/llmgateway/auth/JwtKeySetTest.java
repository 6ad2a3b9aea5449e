package dev.llmgateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.webhooks.WebhookSecret;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

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

  /** Key material that is not a shared secret, each at least 32 bytes so that only its shape is wrong. */
  static Stream<String> asymmetricKeys() throws Exception {
    KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    String base64 = Base64.getMimeEncoder().encodeToString(rsa.getPublic().getEncoded());
    String pem = "-----BEGIN PUBLIC KEY-----\n" + base64 + "\n-----END PUBLIC KEY-----\n";
    return Stream.of(
        pem,
        pem.replace("\n", "\r\n"),
        "\n\n" + pem,
        "-----BEGIN RSA PUBLIC KEY-----\n" + base64 + "\n-----END RSA PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5\n-----END EC PRIVATE KEY-----",
        "---- BEGIN SSH2 PUBLIC KEY ----\nAAAAB3NzaC1yc2EAAAADAQABAAABAQC\n---- END SSH2 PUBLIC KEY ----",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7vbqajDhA user@host",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJtbm9wcXJzdHV2d3h5eg user@host",
        "ssh-dss AAAAB3NzaC1kc3MAAACBAP0e3gR9lUcFNH4ugCeRVdB1hP",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=",
        "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t",
        "ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20",
        "{\"kty\":\"oct\",\"k\":\"GawgguFyGrWKav7AX4VKUg\",\"alg\":\"HS256\"}",
        " {\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\"}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"}]}");
  }

  @ParameterizedTest
  @MethodSource("asymmetricKeys")
  void refusesAPublicKeyPemOpenSshKeyOrJwkAsAnHmacSecretSayingWhy(String key) {
    assertThat(key.getBytes(StandardCharsets.UTF_8).length).isGreaterThanOrEqualTo(JwtKeySet.MIN_SECRET_BYTES);

    for (Runnable build : List.<Runnable>of(
        () -> JwtKeySet.of("k1", key),
        () -> JwtKeySet.of("k1", key.getBytes(StandardCharsets.UTF_8)),
        () -> JwtKeySet.builder().activeKey("k2", Fixtures.SECRET).verificationKey("k1", key))) {
      assertThatThrownBy(build::run)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("kid k1")
          .hasMessageContaining("not a shared secret")
          .hasMessageContaining("algorithm confusion")
          .hasMessageNotContaining(key.strip().substring(0, 20));
    }
  }

  @ParameterizedTest
  @MethodSource("asymmetricKeys")
  void refusesTheSameKeyMaterialAsAWebhookSecret(String key) {
    assertThatThrownBy(() -> WebhookSecret.ofBytes(key.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a shared secret");
  }

  @Test
  void acceptsRandomAndPassphraseSecretsThatMerelyContainDashesOrBraces() {
    assertThat(JwtKeySet.of("k1", "-----not-a-pem-block-but-long-enough-----").activeKeyId()).isEqualTo("k1");
    assertThat(JwtKeySet.of("k1", "{\"purpose\":\"passphrase\",\"len\":\"long enough\"}").activeKeyId())
        .isEqualTo("k1");
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
