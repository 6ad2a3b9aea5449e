package dev.llmgateway.benchmarks;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.interfaces.DecodedJWT;
import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import dev.llmgateway.auth.JwtKeySet;
import dev.llmgateway.auth.ServiceJwtAuth;
import dev.llmgateway.auth.ServiceJwtMinter;
import dev.llmgateway.auth.ServiceJwtVerifier;
import dev.llmgateway.auth.VerifiedServiceToken;
import dev.llmgateway.webhooks.VerifiedWebhook;
import dev.llmgateway.webhooks.WebhookSecret;
import dev.llmgateway.webhooks.WebhookSigner;
import dev.llmgateway.webhooks.WebhookVerifier;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import okhttp3.Request;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-request work of llm-gateway-auth, against java-jwt used by hand in the same run:
 *
 * <ul>
 *   <li>{@link #sdkMint} ({@code ServiceJwtMinter.mint}: validation, claims, a random {@code jti},
 *       HS256) against {@link #rawMint} ({@code JWT.create()} with the same claims, {@code
 *       UUID.randomUUID()} for the {@code jti}, {@code sign});
 *   <li>{@link #sdkCachedAuth}: {@code ServiceJwtAuth.authenticate} when the user's token is
 *       cached (what each request of a client with service-JWT auth pays), beside {@link
 *       #rawHeader}: OkHttp setting the same header, which is part of it;
 *   <li>{@link #sdkVerify} ({@code ServiceJwtVerifier.verify(token, Operation.CHAT)}: signature,
 *       claims, lifetime, scope) against {@link #rawVerify} (a prebuilt java-jwt {@code
 *       JWTVerifier} with audience, issuer and leeway, then the {@code scopes} claim checked);
 *   <li>{@link #webhookVerify}: {@code WebhookVerifier.verify} of a 1 KiB completion webhook
 *       (HMAC-SHA256, strict JSON parse, the id recorded); the ids cycle through {@value #WEBHOOK_IDS}
 *       signed deliveries, so later rounds are (reported) redeliveries.
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
// A longer warm-up than the other benchmarks: on a loaded 2-core machine the JIT's compiler threads
// get little CPU, and after 3 x 1 s, even 5 x 2 s, these paths (java-jwt, Jackson, HMAC) were
// still partly interpreted in some runs (10-40x the compiled time per operation).
@Warmup(iterations = 8, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AuthBenchmark {
  static final int WEBHOOK_IDS = 1 << 16;
  private static final String SECRET = "benchmark-only-secret-of-at-least-32-bytes!";
  private static final String KEY_ID = "k1";
  private static final List<String> SCOPES = List.of(Operation.CHAT.scope());

  private final UserContext user = UserContext.builder().userId("123").companyId("456").role("recruiter")
      .companyRole("owner").build();
  private ServiceJwtMinter minter;
  private ServiceJwtAuth auth;
  private ServiceJwtVerifier verifier;
  private Algorithm algorithm;
  private JWTVerifier rawVerifier;
  private String token;
  private String bearer;
  private final Request.Builder request = new Request.Builder().url("http://127.0.0.1/");
  private WebhookVerifier webhooks;
  private byte[] webhookBody;
  private Map<String, String>[] webhookHeaders;
  private int webhook;

  /** Builds the keys, a token, and the signed webhook deliveries. */
  @Setup
  @SuppressWarnings("unchecked")
  public void setUp() {
    JwtKeySet keys = JwtKeySet.of(KEY_ID, SECRET);
    minter = ServiceJwtMinter.builder().keys(keys).environment(name -> null).build();
    auth = ServiceJwtAuth.of(minter);
    verifier = ServiceJwtVerifier.builder().keys(keys).build();
    algorithm = Algorithm.HMAC256(SECRET.getBytes(StandardCharsets.UTF_8));
    rawVerifier = JWT.require(algorithm).withAudience(ServiceJwtMinter.DEFAULT_AUDIENCE)
        .withIssuer(ServiceJwtMinter.DEFAULT_ISSUER).acceptLeeway(30).build();
    token = minter.mint(user, SCOPES).token();
    bearer = "Bearer " + token;

    WebhookSecret secret = WebhookSecret.ofBytes("benchmark-only-webhook-secret-bytes".getBytes(StandardCharsets.UTF_8));
    webhooks = WebhookVerifier.builder().secret(secret).build();
    webhookBody = webhookBody(1024);
    WebhookSigner signer = WebhookSigner.of(secret);
    Instant now = Instant.now();
    webhookHeaders = new Map[WEBHOOK_IDS];
    for (int i = 0; i < WEBHOOK_IDS; i++) {
      webhookHeaders[i] = signer.headers("msg_" + i, now, webhookBody);
    }
  }

  /** The SDK: mint a service JWT (uncached). */
  @Benchmark
  public Object sdkMint() {
    return minter.mint(user, SCOPES);
  }

  /** Baseline: the same token with java-jwt by hand. */
  @Benchmark
  public String rawMint() {
    Instant now = Instant.now();
    return JWT.create().withKeyId(KEY_ID).withSubject(user.userId()).withClaim("company_id", user.companyId())
        .withClaim("role", "recruiter").withClaim("company_role", "owner")
        .withArrayClaim("scopes", new String[] {Operation.CHAT.scope()})
        .withAudience(ServiceJwtMinter.DEFAULT_AUDIENCE).withIssuer(ServiceJwtMinter.DEFAULT_ISSUER)
        .withIssuedAt(now).withExpiresAt(now.plusSeconds(180)).withJWTId(UUID.randomUUID().toString())
        .sign(algorithm);
  }

  /** The SDK: a request's {@code Authorization} header from the token cache. */
  @Benchmark
  @Warmup(iterations = 4, time = 1) // a map lookup and a header: compiled long before 4 s
  public Request.Builder sdkCachedAuth() {
    auth.authenticate(request, user, Operation.CHAT);
    return request;
  }

  /**
   * Baseline of {@link #sdkCachedAuth}: OkHttp's {@code Request.Builder.header} with a token the
   * caller already holds, what a hand-written client pays per request for the same header (OkHttp
   * checks every character of the value).
   */
  @Benchmark
  @Warmup(iterations = 4, time = 1) // a few lines of code: compiled long before 4 s
  public Request.Builder rawHeader() {
    return request.header("Authorization", bearer);
  }

  /** The SDK: verify a service JWT and its scope. */
  @Benchmark
  public VerifiedServiceToken sdkVerify() {
    return verifier.verify(token, Operation.CHAT);
  }

  /** Baseline: java-jwt's verifier and a scope check by hand. */
  @Benchmark
  public DecodedJWT rawVerify() {
    DecodedJWT jwt = rawVerifier.verify(token);
    List<String> scopes = jwt.getClaim("scopes").asList(String.class);
    if (scopes == null || !scopes.contains(Operation.CHAT.scope())) {
      throw new IllegalStateException("scope missing");
    }
    return jwt;
  }

  /** The SDK: verify a signed 1 KiB completion webhook. */
  @Benchmark
  public VerifiedWebhook webhookVerify() {
    Map<String, String> headers = webhookHeaders[webhook++ & (WEBHOOK_IDS - 1)];
    return webhooks.verify(headers::get, webhookBody);
  }

  static byte[] webhookBody(int size) {
    String before = "{\"type\":\"chat.completed\",\"data\":{\"request_id\":\"5f0c6a9e-3b7d-4a41-9a35-2d1f0e8b7c11\","
        + "\"session_id\":\"sess_8f14e45f\",\"message_id\":\"msg_01\",\"user_id\":\"123\",\"company_id\":\"456\","
        + "\"status\":\"completed\",\"finish_reason\":\"stop\","
        + "\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":48,\"total_tokens\":168},"
        + "\"completed_at\":\"2026-11-20T10:05:00Z\",\"note\":\"";
    String after = "\"}}";
    StringBuilder pad = new StringBuilder();
    while (before.length() + pad.length() + after.length() < size) {
      pad.append('x');
    }
    return (before + pad + after).getBytes(StandardCharsets.UTF_8);
  }
}
