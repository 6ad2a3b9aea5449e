package dev.llmgateway.compat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttp;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The versions actually loaded are the minimum ones the README states (passed in by the pom), so
 * this module fails when a pom change moves any of them instead of silently testing another.
 */
class PinnedVersionsTest {
  @Test
  void jacksonIsTheMinimumVersion() {
    String expected = expected("compat.jackson.version");
    assertThat(com.fasterxml.jackson.core.json.PackageVersion.VERSION.toString()).isEqualTo(expected);
    assertThat(com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION.toString()).isEqualTo(expected);
    assertThat(jarOf(JsonFactory.class)).isEqualTo("jackson-core-" + expected + ".jar");
    assertThat(jarOf(ObjectMapper.class)).isEqualTo("jackson-databind-" + expected + ".jar");
    assertThat(jarOf(JsonProperty.class)).isEqualTo("jackson-annotations-" + expected + ".jar");
  }

  @Test
  void okHttpAndMockWebServerAreTheMinimumVersion() {
    String expected = expected("compat.okhttp.version");
    assertThat(OkHttp.VERSION).isEqualTo(expected);
    assertThat(jarOf(OkHttpClient.class)).isEqualTo("okhttp-jvm-" + expected + ".jar");
    assertThat(jarOf(MockWebServer.class)).isEqualTo("mockwebserver3-" + expected + ".jar");
  }

  @Test
  void slf4jIsTheMinimumVersionWithTheTestProviderBound() {
    String expected = expected("compat.slf4j.version");
    assertThat(LoggerFactory.class.getPackage().getImplementationVersion()).isEqualTo(expected);
    assertThat(jarOf(LoggerFactory.class)).isEqualTo("slf4j-api-" + expected + ".jar");
    assertThat(LoggerFactory.getILoggerFactory().getClass().getName()).startsWith(RecordingSlf4jProvider.class.getName());
  }

  private static String expected(String property) {
    String version = System.getProperty(property);
    assertThat(version).as(property).isNotBlank();
    return version;
  }

  /** The file name of the jar {@code type} was loaded from. */
  private static String jarOf(Class<?> type) {
    String path = type.getProtectionDomain().getCodeSource().getLocation().getPath();
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
