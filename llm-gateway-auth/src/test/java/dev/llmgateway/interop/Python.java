package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs src/test/python/interop.py with Debian's /usr/bin/python3 (not the first python3 on PATH,
 * which may lack python3-jwt). Missing Python or PyJWT fails the test: .ci/setup installs them.
 */
final class Python {
  static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final long TIMEOUT_SECONDS = 60;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Python() {}

  /** Runs one command of the helper with {@code input} as JSON on stdin; returns its JSON output. */
  static JsonNode run(String command, Map<String, ?> input) throws Exception {
    assertThat(PYTHON)
        .as("the interop tests need Debian's /usr/bin/python3 with python3-jwt (.ci/setup installs it)")
        .isExecutable();
    Path script = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
        .resolve("src/test/python/interop.py");
    assertThat(script).as("interop helper script").isRegularFile();
    Path stdout = Files.createTempFile("interop-", ".out");
    Path stderr = Files.createTempFile("interop-", ".err");
    try {
      ProcessBuilder builder = new ProcessBuilder(PYTHON.toString(), script.toString(), command)
          .redirectOutput(stdout.toFile())
          .redirectError(stderr.toFile());
      builder.environment().remove("PYTHONPATH");
      builder.environment().remove("PYTHONHOME");
      builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
      Process process = builder.start();
      try (OutputStream in = process.getOutputStream()) {
        in.write(MAPPER.writeValueAsBytes(input));
      }
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("python3 interop.py " + command + " did not finish in " + TIMEOUT_SECONDS + " s");
      }
      assertThat(process.exitValue())
          .as("python3 interop.py %s failed (is python3-jwt installed? .ci/setup installs it):%n%s", command,
              Files.readString(stderr, StandardCharsets.UTF_8))
          .isZero();
      return MAPPER.readTree(Files.readAllBytes(stdout));
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }
}
