package dev.llmgateway.internal;

import dev.llmgateway.AuthStrategy;
import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import java.util.Objects;
import okhttp3.Request;

/** Scheme 1 of the contract: the shared service token plus the user headers. */
public final class ServiceTokenAuth implements AuthStrategy {
  private final String serviceToken;

  public ServiceTokenAuth(String serviceToken) {
    Objects.requireNonNull(serviceToken, "serviceToken");
    if (serviceToken.isBlank() || !Text.isHeaderSafe(serviceToken)) {
      throw new IllegalArgumentException(
          "serviceToken must be non-blank printable ASCII (it travels in the X-Service-Token header)");
    }
    this.serviceToken = serviceToken;
  }

  @Override
  public void authenticate(Request.Builder request, UserContext user, Operation operation) {
    request.header("X-Service-Token", serviceToken);
    request.header("X-User-Id", user.userId());
    request.header("X-Company-Id", user.companyId());
    request.header("X-User-Role", user.role());
    if (user.companyRole() != null) {
      request.header("X-Company-Role", user.companyRole());
    }
  }

  /** True when {@code token} is this strategy's token; lets other modules refuse to reuse it. */
  public boolean usesToken(String token) {
    return java.security.MessageDigest.isEqual(
        serviceToken.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        token.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "ServiceTokenAuth{serviceToken=<redacted>}";
  }
}
