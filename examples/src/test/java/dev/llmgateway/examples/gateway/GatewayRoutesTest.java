package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.ValidationException;
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
}
