package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.ValidationException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The client address is host input: one normal form per client, anything else refused, never shown. */
class CallerTest {
  @ParameterizedTest
  @CsvSource({
      "192.0.2.1, 192.0.2.1",
      "0.0.0.0, 0.0.0.0",
      "255.255.255.255, 255.255.255.255",
      "::1, 0:0:0:0:0:0:0:1",
      "[::1], 0:0:0:0:0:0:0:1",
      "2001:DB8::7, 2001:db8:0:0:0:0:0:7",
      "2001:0db8:0000:0000:0000:0000:0000:0007, 2001:db8:0:0:0:0:0:7",
      "::ffff:192.0.2.1, 192.0.2.1",
      "::ffff:c000:201, 192.0.2.1",
      "fe80::1%eth0, fe80:0:0:0:0:0:0:1%eth0",
      "fe80::1%2, fe80:0:0:0:0:0:0:1%2",
  })
  void everyFormOfAnAddressHasOneNormalForm(String given, String normal) {
    assertThat(Caller.ofAddress(given).address()).isEqualTo(normal);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", " ", "192.0.2.1 ", " 192.0.2.1", "192.0.2.1\r\n", "192.0.2.1\u0000", "1.2.3", "1.2.3.4.5", "256.1.1.1",
      "01.2.3.4", "1.2.3.04", "0x7f.0.0.1", "localhost", "example.com", "abc", "deadbeef", ".::1", "::1::2",
      "12345::1", "[192.0.2.1]", "[::1", "::1]", "fe80::1%", "fe80::1%eth0\n", "fe80::1%a b", "::1%%2",
      "2001:db8::g", "1:2:3:4:5:6:7:8:9", "\u0661.2.3.4", "::ffff:1.2.3.256",
  })
  void anythingButAnAddressIsRefusedNamingTheFieldAndNotTheValue(String bad) {
    Throwable thrown = catchThrowable(() -> Caller.ofAddress(bad));

    assertThat(thrown).isInstanceOfSatisfying(ValidationException.class, e -> {
      assertThat(e.violations()).extracting(ValidationException.Violation::field).containsExactly(Caller.ADDRESS_FIELD);
      if (!bad.isBlank()) {
        assertThat(e.getMessage()).doesNotContain(bad.strip());
      }
    });
    assertThat(ErrorMapper.ofDefaults().toResponse(thrown).status()).isEqualTo(422);
  }

  @Test
  void anOverlongAddressIsRefused() {
    String widest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%"; // 46 characters
    String longest = widest + "z".repeat(Caller.MAX_ADDRESS_LENGTH - widest.length());
    assertThat(Caller.ofAddress(longest).address()).endsWith("%" + "z".repeat(18));
    assertThatThrownBy(() -> Caller.ofAddress(longest + "z")).isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> Caller.ofAddress("::" + "1".repeat(10_000))).isInstanceOf(ValidationException.class);
  }

  @Test
  void aSocketAddressGivesItsHostAddressWithoutThePort() throws UnknownHostException {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    assertThat(Caller.of(new InetSocketAddress(loopback, 54321)).address()).isEqualTo("127.0.0.1");
    assertThat(Caller.of(InetAddress.getByName("::1")).address()).isEqualTo("0:0:0:0:0:0:0:1");
  }

  @Test
  void anUnresolvedSocketAddressIsRefused() {
    assertThatThrownBy(() -> Caller.of(InetSocketAddress.createUnresolved("client.example", 80)))
        .isInstanceOf(ValidationException.class);
  }

  @Test
  void toStringShowsNeitherTheAddressNorKeyValues() {
    Caller caller = Caller.ofAddress("198.51.100.23").withKey("tenant", "secret-tenant");

    assertThat(caller.toString()).doesNotContain("198.51.100.23").doesNotContain("secret-tenant").contains("tenant");
    assertThat(Caller.unknown().address()).isNull();
  }

  @Test
  void extraKeysAreCheckedAndReplacedByName() {
    Caller caller = Caller.unknown().withKey("tenant", "a").withKey("tenant", "b");

    assertThat(caller.keys()).containsExactly(java.util.Map.entry("tenant", "b"));
    assertThatThrownBy(() -> Caller.unknown().withKey("ip", "x")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Caller.unknown().withKey("Tenant", "x")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RateLimitKeys.perCallerKey("user")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Caller.unknown().withKey("tenant", "a\nb")).isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> Caller.unknown().withKey("tenant", "")).isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> Caller.unknown().withKey("tenant", "x".repeat(Caller.MAX_KEY_VALUE_LENGTH + 1)))
        .isInstanceOf(ValidationException.class);
    Caller full = Caller.unknown();
    for (int i = 0; i < Caller.MAX_KEYS; i++) {
      full = full.withKey("k" + i, "v");
    }
    Caller eight = full;
    assertThatThrownBy(() -> eight.withKey("k9", "v")).isInstanceOf(IllegalArgumentException.class);
  }
}
