package dev.llmgateway.auth;

import dev.llmgateway.Operation;
import dev.llmgateway.auth.TokenVerificationException.Reason;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Verifies scheme-2 service JWTs the way the service does, for Java services on the receiving side
 * and for tests.
 *
 * <p>Checks, in order: the token is a JWT; {@code alg} is {@code HS256} (never {@code none}, RSA,
 * EC or another HMAC, whatever the header says); the {@code kid} names a key of the {@link
 * JwtKeySet} (a token without {@code kid} is checked against the active key); the signature; the
 * required claims {@code sub}, {@code company_id}, {@code scopes}, {@code exp}, {@code iat}, {@code
 * jti} with their types; {@code aud} (exactly the audience: a string, or an array holding only
 * it); {@code iss}; the lifetime {@code exp - iat}; {@code exp},
 * {@code iat} and (when present) {@code nbf} against the clock with the leeway; and, with {@link
 * #verify(String, String)}, the scope. A header or payload that is not exactly one JSON object
 * (JSON {@code null}, an array, trailing data, a name twice) is malformed. Every refusal is a
 * {@link TokenVerificationException} whose {@link TokenVerificationException#reason()} names the
 * failed rule; its message names the rule only, never a value from the token or the key set.
 *
 * <pre>{@code
 * ServiceJwtVerifier verifier = ServiceJwtVerifier.builder()
 *     .keys(JwtKeySet.of("2026-11", secret))
 *     .build();
 * VerifiedServiceToken principal = verifier.verify(bearerToken, "llm:chat:read");
 * }</pre>
 *
 * <p>Immutable and thread-safe: create one and share it.
 */
public final class ServiceJwtVerifier {
  /** Default allowance for clock skew. */
  public static final Duration DEFAULT_LEEWAY = Duration.ofSeconds(30);
  /** Default longest {@code exp - iat}, as the service enforces. */
  public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofSeconds(300);
  /** The longest {@code exp - iat} that may be configured: the contract's limit for both token kinds. */
  public static final Duration MAX_LIFETIME = Duration.ofSeconds(300);
  /** The largest leeway that may be configured. */
  public static final Duration MAX_LEEWAY = Duration.ofMinutes(5);

  private final JwtChecks checks;
  private final String audience;
  private final String issuer;

  private ServiceJwtVerifier(Builder builder, JwtKeySet keys) {
    this.audience = builder.audience;
    this.issuer = builder.issuer;
    this.checks = new JwtChecks("Service JWT", keys, audience, issuer, builder.leeway,
        builder.maxLifetime, builder.clock);
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
   * Verifies a token's signature and claims, not its scopes.
   *
   * @param token the compact JWT (without {@code Bearer })
   * @return the verified principal
   * @throws TokenVerificationException when any check fails; never contains the token
   */
  public VerifiedServiceToken verify(String token) {
    Objects.requireNonNull(token, "token");
    return new VerifiedServiceToken(checks.check(token));
  }

  /**
   * Verifies a token and that it grants {@code requiredScope}.
   *
   * @param token the compact JWT (without {@code Bearer })
   * @param requiredScope the scope the operation needs, e.g. {@code llm:chat:delete}
   * @return the verified principal
   * @throws TokenVerificationException when any check fails, with {@link
   *     Reason#INSUFFICIENT_SCOPE} when only the scope is missing
   */
  public VerifiedServiceToken verify(String token, String requiredScope) {
    Objects.requireNonNull(requiredScope, "requiredScope");
    VerifiedServiceToken principal = verify(token);
    if (!principal.hasScope(requiredScope)) {
      throw checks.fail(Reason.INSUFFICIENT_SCOPE, "token does not grant " + requiredScope);
    }
    return principal;
  }

  /**
   * Verifies a token and that it grants the scope of {@code operation}.
   *
   * @param token the compact JWT (without {@code Bearer })
   * @param operation the operation requested
   * @return the verified principal
   * @throws TokenVerificationException as {@link #verify(String, String)}
   */
  public VerifiedServiceToken verify(String token, Operation operation) {
    return verify(token, operation.scope());
  }

  /** Shows the settings, never a secret. */
  @Override
  public String toString() {
    return "ServiceJwtVerifier{aud=" + audience + ", iss=" + issuer + ", leeway="
        + checks.leeway().toSeconds() + "s}";
  }

  /** Builds a {@link ServiceJwtVerifier}. Not thread-safe. */
  public static final class Builder {
    private @Nullable JwtKeySet keys;
    private String audience = ServiceJwtMinter.DEFAULT_AUDIENCE;
    private String issuer = ServiceJwtMinter.DEFAULT_ISSUER;
    private Duration leeway = DEFAULT_LEEWAY;
    private Duration maxLifetime = DEFAULT_MAX_LIFETIME;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * Sets the keys tokens may be signed with, chosen by {@code kid}. Required.
     *
     * @param keys the key set
     * @return this builder
     */
    public Builder keys(JwtKeySet keys) {
      this.keys = Objects.requireNonNull(keys, "keys");
      return this;
    }

    /**
     * Sets the audience {@code aud} must equal (a one-element array holding it is accepted too).
     * Default {@value ServiceJwtMinter#DEFAULT_AUDIENCE}.
     *
     * @param audience the audience
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder audience(String audience) {
      this.audience = ServiceJwtMinter.nonBlank(audience, "audience");
      return this;
    }

    /**
     * Sets the issuer {@code iss} must equal. Default {@value ServiceJwtMinter#DEFAULT_ISSUER}.
     *
     * @param issuer the issuer
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder issuer(String issuer) {
      this.issuer = ServiceJwtMinter.nonBlank(issuer, "issuer");
      return this;
    }

    /**
     * Sets the allowance for clock skew on {@code exp}, {@code iat} and {@code nbf}. Default 30 s.
     *
     * @param leeway from zero to 5 minutes
     * @return this builder
     * @throws IllegalArgumentException if outside that range
     */
    public Builder leeway(Duration leeway) {
      this.leeway = checkLeeway(leeway);
      return this;
    }

    /**
     * Sets the longest {@code exp - iat} accepted. Default 300 s.
     *
     * @param maxLifetime from 1 s to {@link #MAX_LIFETIME} (300 s, the contract's limit)
     * @return this builder
     * @throws IllegalArgumentException if outside that range
     */
    public Builder maxLifetime(Duration maxLifetime) {
      this.maxLifetime = checkMaxLifetime(maxLifetime);
      return this;
    }

    /**
     * Sets the clock tokens are checked against. Default {@link Clock#systemUTC()}.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the verifier.
     *
     * @return the verifier
     * @throws IllegalStateException if no keys were set
     */
    public ServiceJwtVerifier build() {
      if (keys == null) {
        throw new IllegalStateException("ServiceJwtVerifier needs keys: call keys(JwtKeySet)");
      }
      return new ServiceJwtVerifier(this, keys);
    }
  }

  static Duration checkLeeway(Duration leeway) {
    Objects.requireNonNull(leeway, "leeway");
    if (leeway.isNegative() || leeway.compareTo(MAX_LEEWAY) > 0) {
      throw new IllegalArgumentException("leeway must be between 0 and 5 minutes, was " + leeway);
    }
    return leeway;
  }

  static Duration checkMaxLifetime(Duration maxLifetime) {
    Objects.requireNonNull(maxLifetime, "maxLifetime");
    if (maxLifetime.compareTo(Duration.ofSeconds(1)) < 0 || maxLifetime.compareTo(MAX_LIFETIME) > 0) {
      throw new IllegalArgumentException("maxLifetime must be between 1 s and " + MAX_LIFETIME.toSeconds()
          + " s (the contract allows service JWTs and stream tokens at most 300 s), was " + maxLifetime);
    }
    return maxLifetime;
  }
}
