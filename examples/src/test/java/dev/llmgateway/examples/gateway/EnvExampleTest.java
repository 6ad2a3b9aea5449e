package dev.llmgateway.examples.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.llmgateway.LlmGatewayClient;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The repository's {@code .env.example} lists exactly the environment variables the example hosts
 * read, each with its meaning and default. What the code reads is found, not listed here: every
 * {@code ENV_*} string constant of the client ({@link LlmGatewayClient}) and of the JDK example's
 * classes (by reflection over its compiled classes), and every {@code ${VARIABLE...}} placeholder
 * of the Spring example's {@code application.properties}.
 */
class EnvExampleTest {
  /** {@code #NAME=value}: a variable of the file (commented out, so copying the file sets nothing). */
  private static final Pattern VARIABLE = Pattern.compile("#([A-Z][A-Z0-9_]*)=.*");
  /** A placeholder naming an environment variable ({@code ${random.value}} and properties are not). */
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)[:}]");
  private static final String EXAMPLES_PACKAGE = "dev/llmgateway/examples";

  @Test
  void everyVariableTheHostsReadIsListedAndEveryListedOneIsRead() throws Exception {
    Set<String> listed = entries().keySet();
    Set<String> read = new TreeSet<>(envConstants());
    read.addAll(springPlaceholders());

    assertThat(read).as("the code reads some variables (the scan found them)")
        .contains(LlmGatewayClient.ENV_BASE_URL, GatewayExample.ENV_PORT, GatewayExample.ENV_DISABLED_COMPANIES,
            "LLM_STREAM_TOKEN_SECRET");
    assertThat(listed).as("variables read by the hosts but missing from .env.example")
        .containsAll(read);
    assertThat(read).as("variables in .env.example that no host reads").containsAll(listed);
  }

  @Test
  void everyListedVariableSaysWhatItMeansAndItsDefault() throws IOException {
    Map<String, List<String>> entries = entries();

    assertThat(entries).isNotEmpty();
    entries.forEach((name, comment) -> {
      assertThat(comment).as(name + ": a comment line saying what it means, before its Default line")
          .anySatisfy(line -> assertThat(line).doesNotStartWith("Default:").isNotBlank());
      assertThat(comment).as(name + ": a line starting with 'Default:'")
          .anySatisfy(line -> assertThat(line).startsWith("Default:").hasSizeGreaterThan("Default: ".length()));
    });
  }

  /** The variables of {@code .env.example}, each with the comment lines right before it (without {@code # }). */
  private static Map<String, List<String>> entries() throws IOException {
    Map<String, List<String>> entries = new LinkedHashMap<>();
    List<String> comment = new ArrayList<>();
    for (String line : Files.readAllLines(repositoryRoot().resolve(".env.example"), StandardCharsets.UTF_8)) {
      Matcher variable = VARIABLE.matcher(line);
      if (variable.matches()) {
        assertThat(entries).as("listed twice: " + variable.group(1)).doesNotContainKey(variable.group(1));
        entries.put(variable.group(1), List.copyOf(comment));
        comment.clear();
      } else if (line.startsWith("# ")) {
        comment.add(line.substring(2).strip());
      } else {
        assertThat(line).as("a line that is neither a comment nor #NAME=value").satisfiesAnyOf(
            l -> assertThat(l).isBlank(), l -> assertThat(l).isEqualTo("#"));
        comment.clear();
      }
    }
    return entries;
  }

  /** The values of the {@code ENV_*} string constants of the client and of the example's classes. */
  private static Set<String> envConstants() throws IOException, URISyntaxException, ClassNotFoundException {
    Set<String> names = new TreeSet<>(envConstants(LlmGatewayClient.class));
    Path classes = Path.of(GatewayExample.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Path> classFiles;
    try (Stream<Path> files = Files.walk(classes.resolve(EXAMPLES_PACKAGE))) {
      classFiles = files.filter(f -> f.toString().endsWith(".class")).toList();
    }
    assertThat(classFiles).as("the example's compiled classes").isNotEmpty();
    for (Path file : classFiles) {
      String name = classes.relativize(file).toString().replace(file.getFileSystem().getSeparator(), ".");
      Class<?> type = Class.forName(name.substring(0, name.length() - ".class".length()), false,
          EnvExampleTest.class.getClassLoader());
      names.addAll(envConstants(type));
    }
    return names;
  }

  private static Set<String> envConstants(Class<?> type) {
    Set<String> names = new TreeSet<>();
    for (Field field : type.getDeclaredFields()) {
      int modifiers = field.getModifiers();
      if (field.getName().startsWith("ENV_") && Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers)
          && field.getType() == String.class) {
        try {
          field.setAccessible(true);
          names.add((String) field.get(null));
        } catch (IllegalAccessException e) {
          throw new AssertionError("cannot read " + type.getName() + "." + field.getName(), e);
        }
      }
    }
    return names;
  }

  /** The environment variables the Spring example's {@code application.properties} reads. */
  private static Set<String> springPlaceholders() throws IOException {
    String properties = Files.readString(
        repositoryRoot().resolve(Path.of("examples-spring", "src", "main", "resources", "application.properties")),
        StandardCharsets.UTF_8);
    Set<String> names = new TreeSet<>();
    for (String line : properties.lines().toList()) {
      if (line.startsWith("#")) {
        continue;
      }
      Matcher placeholder = PLACEHOLDER.matcher(line);
      while (placeholder.find()) {
        names.add(placeholder.group(1));
      }
    }
    assertThat(names).as("the Spring example's placeholders").isNotEmpty();
    return names;
  }

  /** The directory above the build's working directory that holds {@code .env.example}. */
  private static Path repositoryRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(".env.example")) && Files.isDirectory(dir.resolve("examples-spring"))) {
        return dir;
      }
    }
    throw new AssertionError(".env.example not found above " + Path.of("").toAbsolutePath());
  }
}
