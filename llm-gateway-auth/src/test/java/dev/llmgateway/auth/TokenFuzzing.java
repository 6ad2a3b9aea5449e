package dev.llmgateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.auth.internal.StrictJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * What the verifier fuzz tests share: how a fuzz input becomes a token, and what must hold of an
 * accepted token and of a refusal.
 *
 * <p>A fuzz input is {@code [mode][rest...]}. Mode {@code '0'} (any byte {@code % 3 == 0}): the
 * rest, decoded as UTF-8, is the token as sent. Mode {@code '1'} and {@code '2'}: the rest is
 * {@code header-bytes \n payload-bytes}, base64url-encoded and signed with HMAC-SHA256 under the
 * active secret ({@code '1'}) or the older one ({@code '2'}) of {@link #KEYS}, whatever the header
 * says, so that the fuzzer reaches the checks after the signature with arbitrary JSON.
 */
final class TokenFuzzing {
  static final Instant NOW = Instant.parse("2026-11-20T10:00:00Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  static final JwtKeySet KEYS = JwtKeySet.builder().activeKey(Fixtures.KID, Fixtures.SECRET)
      .verificationKey(Fixtures.OLD_KID, Fixtures.OLD_SECRET).build();
  private static final Duration LEEWAY = ServiceJwtVerifier.DEFAULT_LEEWAY;

  /** A token made from a fuzz input, and how. */
  static final class Input {
    final String token;
    final @Nullable String signedWith;
    final byte[] header;
    final byte[] payload;

    private Input(String token, @Nullable String signedWith, byte[] header, byte[] payload) {
      this.token = token;
      this.signedWith = signedWith;
      this.header = header;
      this.payload = payload;
    }
  }

  private TokenFuzzing() {}

  static Input decode(byte[] raw) {
    int mode = raw.length == 0 ? 0 : (raw[0] & 0xFF) % 3;
    byte[] rest = raw.length == 0 ? new byte[0] : Arrays.copyOfRange(raw, 1, raw.length);
    if (mode == 0) {
      return new Input(new String(rest, StandardCharsets.UTF_8), null, new byte[0], new byte[0]);
    }
    int newline = indexOf(rest, (byte) '\n');
    byte[] header = newline < 0 ? rest : Arrays.copyOfRange(rest, 0, newline);
    byte[] payload = newline < 0 ? new byte[0] : Arrays.copyOfRange(rest, newline + 1, rest.length);
    String secret = mode == 1 ? Fixtures.SECRET : Fixtures.OLD_SECRET;
    return new Input(Fixtures.hs256(header, payload, secret), secret, header, payload);
  }

  /** Reads a seed of a fuzz test's corpus, to check that the corpus reaches what it should. */
  static byte[] seed(Class<?> fuzzTest, String method, String name) {
    String path = fuzzTest.getSimpleName() + "Inputs/" + method + "/" + name;
    try (InputStream in = fuzzTest.getResourceAsStream(path)) {
      assertThat(in).as(path).isNotNull();
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int indexOf(byte[] bytes, byte b) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Checks what must hold when a verifier accepted {@code input}: it was signed here with the key
   * its {@code kid} names (nobody else can sign), its header and payload are exactly one JSON
   * object each, alg is HS256, aud is exactly {@code audience}, and the times fit.
   *
   * @return the payload
   */
  static ObjectNode checkAccepted(Input input, String audience) {
    assertThat(input.signedWith).as("only a token signed with a key of the set can pass").isNotNull();
    ObjectNode header = StrictJson.parseObject(input.header);
    ObjectNode payload = StrictJson.parseObject(input.payload);
    assertThat(header).isNotNull();
    assertThat(payload).isNotNull();
    assertThat(header.get("alg").textValue()).isEqualTo("HS256");
    assertThat(header.has("crit")).isFalse();
    JsonNode kid = header.get("kid");
    String expectedSecret = kid == null || kid.textValue().equals(Fixtures.KID) ? Fixtures.SECRET : Fixtures.OLD_SECRET;
    assertThat(input.signedWith).isEqualTo(expectedSecret);
    JsonNode aud = payload.get("aud");
    assertThat(aud.isArray() ? aud.size() == 1 && audience.equals(aud.get(0).textValue()) : audience.equals(aud.textValue()))
        .as("aud %s", aud).isTrue();
    long iat = payload.get("iat").asLong();
    long exp = payload.get("exp").asLong();
    assertThat(exp - iat).isBetween(0L, ServiceJwtVerifier.MAX_LIFETIME.toSeconds());
    assertThat(Instant.ofEpochSecond(iat)).isBeforeOrEqualTo(NOW.plus(LEEWAY));
    assertThat(Instant.ofEpochSecond(exp).plus(LEEWAY)).isAfter(NOW);
    return payload;
  }

  /** Checks a refusal: the documented prefix, then printable ASCII only: nothing copied from the input. */
  static void checkRefusal(TokenVerificationException e, String kind) {
    assertThat(e.reason()).isNotNull();
    assertThat(e.getMessage())
        .startsWith(kind + " rejected (" + e.reason() + "): ")
        .matches("[ -~]{1,300}")
        .doesNotContain(Fixtures.SECRET, Fixtures.OLD_SECRET, Fixtures.KID, Fixtures.OLD_KID);
  }
}
