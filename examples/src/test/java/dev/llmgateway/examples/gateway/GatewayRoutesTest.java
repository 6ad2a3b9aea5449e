package dev.llmgateway.examples.gateway;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.ValidationException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The routes' parsing of what a browser sends, without a server. */
class GatewayRoutesTest {
  @Test
  void theChatPageIsReadOnceNotOnEveryRequest() throws Exception {
    assertThat(GatewayRoutes.staticFile("/").orElseThrow()).isSameAs(GatewayRoutes.staticFile("/index.html").orElseThrow());
    assertThat(GatewayRoutes.staticFile("/chat.js").orElseThrow()).isSameAs(GatewayRoutes.staticFile("/chat.js").orElseThrow());
    assertThat(GatewayRoutes.staticFile("/nothing.js")).isEmpty();
    assertThat(GatewayRoutes.staticFile("/../pom.xml")).isEmpty();
  }

  @Test
  void unpairedSurrogatesAreFoundAndPairsAreNot() {
    assertThat(GatewayRoutes.hasUnpairedSurrogate("plain é€中")).isFalse();
    assertThat(GatewayRoutes.hasUnpairedSurrogate("\ud83d\ude00")).isFalse();
    assertThat(GatewayRoutes.hasUnpairedSurrogate("\ud800")).isTrue();
    assertThat(GatewayRoutes.hasUnpairedSurrogate("a\ud800b")).isTrue();
    assertThat(GatewayRoutes.hasUnpairedSurrogate("\ude00\ud83d")).isTrue();
    assertThat(GatewayRoutes.hasUnpairedSurrogate("\ud83d\ude00\udc00")).isTrue();
  }

  @Test
  void queryStringsKeepEveryValueOfARepeatedParameter() {
    assertThat(GatewayServer.query(null)).isEmpty();
    assertThat(GatewayServer.query("limit=5&limit=6&&cursor&a+b=%C3%A9"))
        .isEqualTo(Map.of("limit", List.of("5", "6"), "cursor", List.of(""), "a b", List.of("é")));
  }

  @Test
  void aMalformedEscapeIsAViolationNamingTheParameter() {
    assertThatThrownBy(() -> GatewayServer.query("limit=%ZZ&%G1=2"))
        .isInstanceOfSatisfying(ValidationException.class, e -> assertThat(e.violations())
            .extracting(ValidationException.Violation::field).containsExactly("limit", "query"));
  }

  @Test
  void aBodyOfItsDeclaredLengthIsReadIntoOneArrayOfThatSize() throws Exception {
    byte[] sent = "{\"query\":\"Find senior Rails engineers in Berlin\"}".getBytes(UTF_8);
    RecordingStream in = new RecordingStream(sent);

    byte[] body = GatewayRoutes.readBody(in, sent.length);

    assertThat(body).isEqualTo(sent);
    assertThat(in.arrays).as("the arrays read into").allSatisfy(array -> assertThat(array).isSameAs(body));
  }

  @Test
  void theDeclaredLengthNeverChangesWhatIsRead() throws Exception {
    int max = GatewayRoutes.MAX_BODY_BYTES;
    for (int size : new int[] {0, 1, 50, max - 1, max, max + 1, 3 * max}) {
      byte[] sent = new byte[size];
      Arrays.fill(sent, (byte) 'x');
      for (long declared : new long[] {-1, 0, 1, size - 1, size, size + 1, max, max + 1, Long.MAX_VALUE}) {
        String what = size + " bytes declared as " + declared;
        if (size > max) {
          assertThatThrownBy(() -> GatewayRoutes.readBody(new ByteArrayInputStream(sent), declared)).as(what)
              .isInstanceOf(GatewayRoutes.RequestTooLargeException.class);
        } else {
          assertThat(GatewayRoutes.readBody(new ByteArrayInputStream(sent), declared)).as(what).isEqualTo(sent);
        }
      }
    }
  }

  @Test
  void aBodyCutOffBeforeItsDeclaredLengthIsUnreadable() {
    InputStream cut = new InputStream() {
      private int left = 10;

      @Override
      public int read() throws IOException {
        if (left-- > 0) {
          return 'x';
        }
        throw new IOException("connection reset");
      }
    };
    assertThatThrownBy(() -> GatewayRoutes.readBody(cut, 100)).isInstanceOf(GatewayRoutes.UnreadableBodyException.class);
  }

  /** A body that remembers the arrays it was read into. */
  private static final class RecordingStream extends ByteArrayInputStream {
    final List<byte[]> arrays = new ArrayList<>();

    RecordingStream(byte[] body) {
      super(body);
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) {
      arrays.add(b);
      return super.read(b, off, len);
    }
  }
}
