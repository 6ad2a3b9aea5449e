package dev.llmgateway.host;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Credits a {@link CreditLedger} holds for one call until the call is settled by {@link
 * CreditLedger#commit commit} or {@link CreditLedger#release release}. Immutable and thread-safe;
 * it is a receipt, not the state: whether it has been settled is known only to its ledger.
 *
 * @param id unique per reservation; what commit and release are idempotent on
 * @param user the user whose credits are held
 * @param operation the operation the credits were reserved for
 * @param credits the credits held, at least 0
 * @param createdAt when the reservation was made
 * @param expiresAt when the lease ends: a reservation still unsettled then is released by the
 *     ledger's reaper
 * @param requestId the call's request id ({@code X-Request-Id}), so that a completion webhook can
 *     {@linkplain CreditLedger#findByRequestId find} the reservation; null when not given
 */
public record Reservation(
    UUID id,
    UserContext user,
    Operation operation,
    long credits,
    Instant createdAt,
    Instant expiresAt,
    @Nullable String requestId) {
  /**
   * Checks the values.
   *
   * @param id unique per reservation
   * @param user the user whose credits are held
   * @param operation the operation
   * @param credits the credits held
   * @param createdAt when it was made
   * @param expiresAt when the lease ends
   * @param requestId the call's request id, or null
   * @throws IllegalArgumentException if {@code credits < 0} or {@code expiresAt} is before {@code
   *     createdAt}
   */
  public Reservation {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(operation, "operation");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
    if (credits < 0) {
      throw new IllegalArgumentException("credits < 0: " + credits);
    }
    if (expiresAt.isBefore(createdAt)) {
      throw new IllegalArgumentException("expiresAt " + expiresAt + " is before createdAt " + createdAt);
    }
  }
}
