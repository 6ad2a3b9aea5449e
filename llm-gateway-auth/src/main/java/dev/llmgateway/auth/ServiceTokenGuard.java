package dev.llmgateway.auth;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** Refuses JWT secrets that equal the scheme-1 service token (CONTRACT section 1). */
final class ServiceTokenGuard {
  /** The environment variable holding the scheme-1 service token. */
  static final String SERVICE_TOKEN_ENV = "LLM_SERVICE_TOKEN";

  private ServiceTokenGuard() {}

  /**
   * Throws when a secret of {@code keys} equals {@code explicit} or the value of {@value
   * #SERVICE_TOKEN_ENV}. The message names the rule and the source, never a value.
   */
  static void check(
      String owner, JwtKeySet keys, @Nullable String explicit, Function<String, @Nullable String> env) {
    if (explicit != null && matches(keys, explicit)) {
      throw new IllegalArgumentException(owner + " refused: a JWT secret in the key set equals the scheme-1"
          + " service token passed to serviceTokenToAvoid; scheme-2 JWTs must be signed with a different"
          + " secret (CONTRACT section 1)");
    }
    String fromEnv = env.apply(SERVICE_TOKEN_ENV);
    if (fromEnv != null && !fromEnv.isBlank() && matches(keys, fromEnv)) {
      throw new IllegalArgumentException(owner + " refused: a JWT secret in the key set equals the scheme-1"
          + " service token in environment variable " + SERVICE_TOKEN_ENV + "; scheme-2 JWTs must be"
          + " signed with a different secret (CONTRACT section 1)");
    }
  }

  private static boolean matches(JwtKeySet keys, String token) {
    // Both comparisons run every time, so the time taken does not tell which one matched.
    boolean exact = keys.containsSecret(token.getBytes(StandardCharsets.UTF_8));
    boolean stripped = keys.containsSecret(token.strip().getBytes(StandardCharsets.UTF_8));
    return exact || stripped;
  }
}
