package dev.llmgateway;

import dev.llmgateway.internal.ServiceTokenAuth;
import okhttp3.Request;

/**
 * Sets the credentials of each HTTP request to the service. The default is {@link
 * #serviceToken(String)} (CONTRACT scheme 1, gateway headers); the {@code llm-gateway-auth} module
 * adds scheme 2 (a scoped service JWT as {@code Authorization: Bearer}).
 *
 * <p>Called once per attempt, on the thread making the attempt, so implementations must be
 * thread-safe and fast (cache what is expensive). An implementation must not log or otherwise
 * reveal the credentials it sets, and its {@code toString()} must not contain them.
 */
@FunctionalInterface
public interface AuthStrategy {
  /**
   * Adds credentials to one request.
   *
   * @param request the request being built; set headers on it
   * @param user the end user the call is made for (already validated)
   * @param operation the operation, whose {@link Operation#scope()} is the least privilege needed
   * @throws LlmGatewayException if credentials cannot be produced
   */
  void authenticate(Request.Builder request, UserContext user, Operation operation);

  /**
   * Scheme 1: the shared service token in {@code X-Service-Token} plus the user headers {@code
   * X-User-Id}, {@code X-Company-Id}, {@code X-User-Role} and (when set) {@code X-Company-Role}.
   *
   * @param serviceToken the shared secret; never logged or shown by {@code toString()}
   * @return the strategy
   * @throws IllegalArgumentException if the token is blank or not printable ASCII
   */
  static AuthStrategy serviceToken(String serviceToken) {
    return new ServiceTokenAuth(serviceToken);
  }
}
