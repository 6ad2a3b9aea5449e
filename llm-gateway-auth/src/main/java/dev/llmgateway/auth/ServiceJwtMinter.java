package dev.llmgateway.auth;

import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.RequestValidator;
import dev.llmgateway.UserContext;
import dev.llmgateway.ValidationException;
import dev.llmgateway.ValidationException.Violation;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Mints scheme-2 service JWTs (CONTRACT section 1): HS256, signed with the active key of a {@link
 * JwtKeySet} and naming it in the {@code kid} header, carrying {@code sub}, {@code company_id},
 * {@code role}, {@code company_role} (left out when the user has none), {@code scopes}, {@code
 * aud}, {@code iss}, {@code iat}, {@code exp} and a random {@code jti}.
 *
 * <pre>{@code
 * ServiceJwtMinter minter = ServiceJwtMinter.builder()
 *     .keys(JwtKeySet.of("2026-11", System.getenv("LLM_JWT_SECRET")))
 *     .build();
 * ServiceJwt jwt = minter.mint(user, List.of("llm:chat:read"));
 * }</pre>
 *
 * <p>Most hosts do not call this directly but hand it to {@link ServiceJwtAuth}, which caches the
 * tokens. Immutable and thread-safe: create one and share it.
 */
public final class ServiceJwtMinter {
  /** Default {@code aud}. */
  public static final String DEFAULT_AUDIENCE = "llm-chat";
  /** Default {@code iss}. */
  public static final String DEFAULT_ISSUER = "rails-api";
  /** Default lifetime ({@code exp - iat}). */
  public static final Duration DEFAULT_TTL = Duration.ofSeconds(180);
  /** Shortest lifetime accepted. */
  public static final Duration MIN_TTL = Duration.ofSeconds(30);
  /** Longest lifetime accepted: the service refuses tokens living longer. */
  public static final Duration MAX_TTL = Duration.ofSeconds(300);
  /** The environment variable whose value (the scheme-1 service token) no JWT secret may equal. */
  public static final String SERVICE_TOKEN_ENV = ServiceTokenGuard.SERVICE_TOKEN_ENV;

  private final JwtSigning signing;
  private final RequestValidator validator = RequestValidator.ofDefaults();
  private final String audience;
  private final String issuer;
  private final Duration ttl;
  private final String activeKeyId;

  private ServiceJwtMinter(Builder builder, JwtKeySet keys) {
    this.audience = builder.audience;
    this.issuer = builder.issuer;
    this.ttl = builder.ttl;
    this.activeKeyId = keys.activeKeyId();
    this.signing = new JwtSigning(keys, audience, issuer, ttl, builder.clock);
  }

  /**
   * Starts a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Mints a token for {@code user} granting exactly {@code scopes}.
   *
   * @param user the end user; ids and roles must pass {@link RequestValidator#checkUser}
   * @param scopes the scopes to grant, e.g. {@code llm:chat:send}; at least one, none blank
   * @return the token, valid for {@link #ttl()} from now
   * @throws ValidationException if the user's values are blank or unsafe
   * @throws IllegalArgumentException if {@code scopes} is empty or holds a blank scope
   * @throws LlmGatewayException if signing fails
   */
  public ServiceJwt mint(UserContext user, Collection<String> scopes) {
    Objects.requireNonNull(user, "user");
    List<String> granted = checkScopes(scopes);
    List<Violation> violations = new ArrayList<>();
    validator.checkUser(user, violations);
    RequestValidator.throwIfAny(violations, null);
    return signing.sign(user, granted, Map.of());
  }

  static List<String> checkScopes(Collection<String> scopes) {
    Objects.requireNonNull(scopes, "scopes");
    if (scopes.isEmpty()) {
      throw new IllegalArgumentException("scopes must not be empty: grant at least the scope the call needs");
    }
    for (String scope : scopes) {
      if (scope == null || scope.isBlank()) {
        throw new IllegalArgumentException("scopes must not contain null or blank entries");
      }
    }
    return List.copyOf(scopes);
  }

  /**
   * Returns the lifetime of minted tokens.
   *
   * @return {@code exp - iat}
   */
  public Duration ttl() {
    return ttl;
  }

  /**
   * Returns the {@code aud} of minted tokens.
   *
   * @return the audience
   */
  public String audience() {
    return audience;
  }

  /**
   * Returns the {@code iss} of minted tokens.
   *
   * @return the issuer
   */
  public String issuer() {
    return issuer;
  }

  /**
   * Returns the {@code kid} of the key that signs.
   *
   * @return the active key id
   */
  public String activeKeyId() {
    return activeKeyId;
  }

  Clock clock() {
    return signing.clock();
  }

  /** Shows the settings, never a secret. */
  @Override
  public String toString() {
    return "ServiceJwtMinter{kid=" + activeKeyId + ", aud=" + audience + ", iss=" + issuer + ", ttl="
        + ttl.toSeconds() + "s}";
  }

  /** Builds a {@link ServiceJwtMinter}. Not thread-safe. */
  public static final class Builder {
    private @Nullable JwtKeySet keys;
    private String audience = DEFAULT_AUDIENCE;
    private String issuer = DEFAULT_ISSUER;
    private Duration ttl = DEFAULT_TTL;
    private Clock clock = Clock.systemUTC();
    private @Nullable String serviceTokenToAvoid;
    private Function<String, @Nullable String> environment = System::getenv;

    private Builder() {}

    /**
     * Sets the signing keys; the active key signs. Required.
     *
     * @param keys the key set
     * @return this builder
     */
    public Builder keys(JwtKeySet keys) {
      this.keys = Objects.requireNonNull(keys, "keys");
      return this;
    }

    /**
     * Sets the {@code aud} claim. Default {@value #DEFAULT_AUDIENCE}.
     *
     * @param audience the audience
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder audience(String audience) {
      this.audience = nonBlank(audience, "audience");
      return this;
    }

    /**
     * Sets the {@code iss} claim. Default {@value #DEFAULT_ISSUER}.
     *
     * @param issuer the issuer
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder issuer(String issuer) {
      this.issuer = nonBlank(issuer, "issuer");
      return this;
    }

    /**
     * Sets the lifetime of minted tokens, in whole seconds. Default 180 s.
     *
     * @param ttl from 30 s to 300 s
     * @return this builder
     * @throws IllegalArgumentException if outside that range or not whole seconds
     */
    public Builder ttl(Duration ttl) {
      this.ttl = checkTtl(ttl, MIN_TTL, MAX_TTL);
      return this;
    }

    /**
     * Sets the clock that dates tokens. Default {@link Clock#systemUTC()}.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Names the scheme-1 service token, so that {@link #build()} refuses a key set holding it as a
     * JWT secret. Checked in addition to the environment variable {@value #SERVICE_TOKEN_ENV}.
     *
     * @param serviceToken the scheme-1 token; compared in constant time, never stored or shown
     * @return this builder
     */
    public Builder serviceTokenToAvoid(String serviceToken) {
      this.serviceTokenToAvoid = Objects.requireNonNull(serviceToken, "serviceToken");
      return this;
    }

    /**
     * Sets how environment variables are read, for {@value #SERVICE_TOKEN_ENV}. Default {@link
     * System#getenv(String)}; tests inject a map lookup.
     *
     * @param environment returns a variable's value, or null when unset
     * @return this builder
     */
    public Builder environment(Function<String, @Nullable String> environment) {
      this.environment = Objects.requireNonNull(environment, "environment");
      return this;
    }

    /**
     * Builds the minter.
     *
     * @return the minter
     * @throws IllegalStateException if no keys were set
     * @throws IllegalArgumentException if a JWT secret equals the scheme-1 service token
     */
    public ServiceJwtMinter build() {
      if (keys == null) {
        throw new IllegalStateException("ServiceJwtMinter needs keys: call keys(JwtKeySet.of(kid, secret))");
      }
      ServiceTokenGuard.check("ServiceJwtMinter", keys, serviceTokenToAvoid, environment);
      return new ServiceJwtMinter(this, keys);
    }
  }

  static String nonBlank(String value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isBlank()) {
      throw new IllegalArgumentException(name + " must not be blank");
    }
    return value;
  }

  static Duration checkTtl(Duration ttl, Duration min, Duration max) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.compareTo(min) < 0 || ttl.compareTo(max) > 0) {
      throw new IllegalArgumentException("ttl must be between " + min.toSeconds() + " s and " + max.toSeconds()
          + " s, was " + ttl.toMillis() + " ms");
    }
    if (ttl.toNanosPart() != 0) {
      throw new IllegalArgumentException("ttl must be whole seconds (iat and exp are seconds), was "
          + ttl.toMillis() + " ms");
    }
    return ttl;
  }
}
