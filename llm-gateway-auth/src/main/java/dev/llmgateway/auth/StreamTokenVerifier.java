package dev.llmgateway.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.TokenVerificationException.Reason;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Verifies stream tokens the way the service does (CONTRACT section 4), for Java services on the
 * receiving side and for tests.
 *
 * <p>Runs every check of {@link ServiceJwtVerifier} with {@code aud} exactly {@value
 * StreamTokenIssuer#DEFAULT_AUDIENCE} (so a token whose {@code aud} also names {@code llm-chat}
 * is refused: one token cannot be both a service JWT and a stream token), then requires the
 * {@code role}, {@code req} and {@code rid} claims and the scope {@code llm:chat:send}, and last
 * records the {@code jti} in a {@link ReplayStore}: a second use of a token is refused with {@link
 * Reason#REPLAYED}. Because the {@code req} claim is signed, a token whose request was altered
 * fails with {@link Reason#BAD_SIGNATURE}.
 *
 * <p>The default replay store is {@link ReplayStore#inMemory} (one JVM; fails closed when full),
 * remembering each {@code jti} until its token's {@code exp} plus the leeway, after which the token
 * is refused as expired anyway. Immutable and thread-safe: create one and share it.
 */
public final class StreamTokenVerifier {
  private final JwtChecks checks;
  private final ReplayStore replayStore;
  private final String audience;

  private StreamTokenVerifier(Builder builder, JwtKeySet keys, ReplayStore replayStore) {
    this.audience = builder.audience;
    this.replayStore = replayStore;
    this.checks = new JwtChecks("Stream token", keys, audience, builder.issuer, builder.leeway,
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
   * Verifies a stream token and records its {@code jti} as used.
   *
   * @param token the compact JWT from the {@code token} query parameter
   * @return the request, user and request id the token carries
   * @throws TokenVerificationException when any check fails ({@link Reason#REPLAYED} for a second
   *     use); never contains the token
   * @throws LlmGatewayException if the replay store cannot record the id
   */
  public VerifiedStreamToken verify(String token) {
    Objects.requireNonNull(token, "token");
    JwtChecks.Verified claims = checks.check(token);
    String role = checks.requireText(claims.payload, "role");
    if (!claims.scopes.contains(StreamTokenIssuer.SCOPE)) {
      throw checks.fail(Reason.INSUFFICIENT_SCOPE, "token does not grant " + StreamTokenIssuer.SCOPE);
    }
    ChatRequest request = request(claims.payload);
    String requestId = checks.requireText(claims.payload, "rid");
    UserContext user = UserContext.builder()
        .userId(claims.subject)
        .companyId(claims.companyId)
        .role(role)
        .companyRole(claims.companyRole)
        .build();
    if (!replayStore.markUsed(claims.jti, claims.expiresAt.plus(checks.leeway()))) {
      throw checks.fail(Reason.REPLAYED, "jti was already used; stream tokens are single-use");
    }
    return new VerifiedStreamToken(request, user, requestId, claims.jti, claims.expiresAt);
  }

  private ChatRequest request(ObjectNode payload) {
    checks.requirePresent(payload, "req");
    JsonNode req = payload.get("req");
    if (!(req instanceof ObjectNode)) {
      throw checks.fail(Reason.INVALID_CLAIM, "req must be a JSON object");
    }
    ObjectNode fields = (ObjectNode) req;
    return ChatRequest.builder()
        .query(requireReqText(fields, "query"))
        .sessionId(optionalReqText(fields, "session_id"))
        .userIntent(optionalReqText(fields, "user_intent"))
        .profileId(optionalReqText(fields, "profile_id"))
        .build();
  }

  private String requireReqText(ObjectNode req, String name) {
    JsonNode node = req.get(name);
    if (node == null || !node.isTextual()) {
      throw checks.fail(Reason.INVALID_CLAIM, "req." + name + " must be a string");
    }
    return node.textValue();
  }

  private @Nullable String optionalReqText(ObjectNode req, String name) {
    JsonNode node = req.get(name);
    return node == null || node.isNull() ? null : requireReqText(req, name);
  }

  /** Shows the settings, never a secret. */
  @Override
  public String toString() {
    return "StreamTokenVerifier{aud=" + audience + ", replayStore=" + replayStore + "}";
  }

  /** Builds a {@link StreamTokenVerifier}. Not thread-safe. */
  public static final class Builder {
    private @Nullable JwtKeySet keys;
    private String audience = StreamTokenIssuer.DEFAULT_AUDIENCE;
    private String issuer = ServiceJwtMinter.DEFAULT_ISSUER;
    private Duration leeway = ServiceJwtVerifier.DEFAULT_LEEWAY;
    private Duration maxLifetime = ServiceJwtVerifier.DEFAULT_MAX_LIFETIME;
    private Clock clock = Clock.systemUTC();
    private @Nullable ReplayStore replayStore;

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
     * Default {@value StreamTokenIssuer#DEFAULT_AUDIENCE}.
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
     * Sets the allowance for clock skew. Default 30 s.
     *
     * @param leeway from zero to 5 minutes
     * @return this builder
     * @throws IllegalArgumentException if outside that range
     */
    public Builder leeway(Duration leeway) {
      this.leeway = ServiceJwtVerifier.checkLeeway(leeway);
      return this;
    }

    /**
     * Sets the longest {@code exp - iat} accepted. Default 300 s.
     *
     * @param maxLifetime from 1 s to {@link ServiceJwtVerifier#MAX_LIFETIME} (300 s, the contract's
     *     limit)
     * @return this builder
     * @throws IllegalArgumentException if outside that range
     */
    public Builder maxLifetime(Duration maxLifetime) {
      this.maxLifetime = ServiceJwtVerifier.checkMaxLifetime(maxLifetime);
      return this;
    }

    /**
     * Sets the clock tokens are checked against; also the default replay store's clock. Default
     * {@link Clock#systemUTC()}.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets where used {@code jti}s are recorded. Default: {@link ReplayStore#inMemory} with this
     * builder's clock and {@value ReplayStore#DEFAULT_MAX_ENTRIES} entries. Services running several
     * instances need a shared store.
     *
     * @param replayStore the store
     * @return this builder
     */
    public Builder replayStore(ReplayStore replayStore) {
      this.replayStore = Objects.requireNonNull(replayStore, "replayStore");
      return this;
    }

    /**
     * Builds the verifier.
     *
     * @return the verifier
     * @throws IllegalStateException if no keys were set
     */
    public StreamTokenVerifier build() {
      if (keys == null) {
        throw new IllegalStateException("StreamTokenVerifier needs keys: call keys(JwtKeySet)");
      }
      ReplayStore store =
          replayStore != null ? replayStore : ReplayStore.inMemory(clock, ReplayStore.DEFAULT_MAX_ENTRIES);
      return new StreamTokenVerifier(this, keys, store);
    }
  }
}
