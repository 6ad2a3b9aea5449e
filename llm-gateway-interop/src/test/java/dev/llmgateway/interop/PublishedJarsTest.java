package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.auth.ServiceJwtAuth;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import dev.llmgateway.micrometer.GatewayMetrics;
import dev.llmgateway.opentelemetry.GatewayTracing;
import dev.llmgateway.redis.RedisRateLimiter;
import dev.llmgateway.sandbox.EmbeddedSandbox;
import dev.llmgateway.spring.boot.LlmGatewayProperties;
import dev.llmgateway.sse.SseReader;
import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.NullMarked;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every published jar promises about itself, checked on the packaged jars (the reactor's
 * {@code verify} has built them by the time this module's tests run): its {@code
 * Automatic-Module-Name} is its main package, and every package in it is {@code @NullMarked}.
 */
class PublishedJarsTest {

  /** Each published artifact with a class its jar holds. A new artifact is one more line. */
  static Stream<Arguments> publishedArtifacts() {
    return Stream.of(
        arguments("llm-gateway-core", LlmGatewayClient.class),
        arguments("llm-gateway-sse", SseReader.class),
        arguments("llm-gateway-auth", ServiceJwtAuth.class),
        arguments("llm-gateway-host", ChatGateway.class),
        arguments("llm-gateway-jdbc", JdbcCreditLedger.class),
        arguments("llm-gateway-redis", RedisRateLimiter.class),
        arguments("llm-gateway-micrometer", GatewayMetrics.class),
        arguments("llm-gateway-opentelemetry", GatewayTracing.class),
        arguments("llm-gateway-sandbox", EmbeddedSandbox.class),
        arguments("llm-gateway-spring-boot-starter", LlmGatewayProperties.class));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("publishedArtifacts")
  void theAutomaticModuleNameIsAPackageInsideTheJar(String artifactId, Class<?> knownClass)
      throws Exception {
    Path jar = jarOf(artifactId, knownClass);
    try (JarFile jarFile = new JarFile(jar.toFile())) {
      assertThat(jarFile.getManifest().getMainAttributes().getValue("Automatic-Module-Name"))
          .as("%s's manifest", artifactId)
          .isNotBlank();
    }

    ModuleDescriptor module = moduleOf(jar);
    assertThat(module.isAutomatic()).isTrue();
    assertThat(module.packages())
        .as("packages of %s, whose Automatic-Module-Name is %s", artifactId, module.name())
        .contains(module.name())
        .contains(knownClass.getPackageName());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("publishedArtifacts")
  void everyPackageInTheJarIsNullMarked(String artifactId, Class<?> knownClass) throws Exception {
    // NullAway checks only @NullMarked packages: one without it would go unchecked.
    List<String> unmarked = moduleOf(jarOf(artifactId, knownClass)).packages().stream()
        .filter(pkg -> !isNullMarked(pkg, knownClass.getClassLoader()))
        .sorted()
        .collect(Collectors.toList());

    assertThat(unmarked).as("packages of %s without @NullMarked in a package-info", artifactId).isEmpty();
  }

  private static boolean isNullMarked(String pkg, ClassLoader loader) {
    try {
      return Class.forName(pkg + ".package-info", false, loader).isAnnotationPresent(NullMarked.class);
    } catch (ClassNotFoundException noPackageInfo) {
      return false;
    }
  }

  /** The JDK's own reading of the jar as an automatic module: it refuses an invalid name. */
  private static ModuleDescriptor moduleOf(Path jar) {
    return ModuleFinder.of(jar).findAll().stream()
        .map(ModuleReference::descriptor)
        .findFirst()
        .orElseThrow();
  }

  /** The jar that holds {@code knownClass}; skips the test when the class is not in a jar. */
  private static Path jarOf(String artifactId, Class<?> knownClass) throws IOException, URISyntaxException {
    Path jar = Path.of(knownClass.getProtectionDomain().getCodeSource().getLocation().toURI());
    assumeTrue(
        Files.isRegularFile(jar),
        () -> knownClass.getName() + " was loaded from " + jar + ", not a jar: run the reactor's"
            + " verify (or package), not test, to check the jars");
    try (JarFile jarFile = new JarFile(jar.toFile())) {
      assertThat(jarFile.getManifest().getMainAttributes().getValue("Implementation-Title"))
          .as("the jar of %s", knownClass)
          .isEqualTo(artifactId);
    }
    return jar;
  }
}
