package dev.llmgateway.host;

import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Holds credits for a call before it is sent and settles them exactly once after it ends.
 *
 * <p>The life of a reservation: {@link #reserve} holds the estimated credits (or throws {@link
 * InsufficientCreditsException}, holding nothing); then one of {@link #commit} (charge the real
 * cost, return the rest) or {@link #release} (return everything) takes effect. Both are idempotent
 * per {@linkplain Reservation#id() reservation id}, and exactly one of them ever takes effect: of
 * any number of calls, from any threads, in any order, the first to settle wins and every other
 * call is a no-op that returns why ({@link Settlement#ALREADY_COMMITTED}, {@link
 * Settlement#ALREADY_RELEASED}, {@link Settlement#UNKNOWN}). A reservation left unsettled past its
 * {@linkplain Reservation#expiresAt() lease} is released by the ledger's reaper, so a host that
 * crashes mid-call does not hold credits forever.
 *
 * <p>Typical use by a host:
 *
 * <pre>{@code
 * Reservation r = ledger.reserve(user, Operation.CHAT, estimate, requestId); // may throw: send nothing
 * try {
 *   ChatResponse answer = client.chat(request, user, CallOptions.withRequestId(requestId));
 *   // the reported usage; an estimate from the texts when the service reported none
 *   Usage usage = policy.usageFor(Delivery.completed(request.query(), answer));
 *   ledger.commit(r, pricing.credits(r.operation(), usage));
 * } catch (RuntimeException e) {
 *   ledger.release(r, "call failed");
 *   throw e;
 * }
 * }</pre>
 *
 * <p>Implementations must be thread-safe, must never let concurrent reservations for one account
 * spend more than the account has, and must make settlement atomic. Whose account a user's calls
 * spend is an {@link AccountKey} (the user's own by default, or the company's). {@link
 * InMemoryCreditLedger} serves one JVM; hosts with several instances use a ledger over a shared
 * store, such as {@code JdbcCreditLedger} of the {@code llm-gateway-jdbc} module (one SQL row per
 * reservation, settled with {@code UPDATE ... WHERE state = 'PENDING'}).
 */
public interface CreditLedger {
  /**
   * Holds credits for a call.
   *
   * @param user the user making the call; the ledger's {@link AccountKey} names the account charged
   * @param operation the operation about to be called
   * @param estimatedCredits the credits to hold, at least 0
   * @param requestId the call's request id, so that {@link #findByRequestId} finds the reservation
   *     (for a completion webhook); null when not needed
   * @return the reservation, to settle later
   * @throws InsufficientCreditsException if the account's available credits do not cover {@code
   *     estimatedCredits}; nothing was held
   * @throws IllegalArgumentException if {@code estimatedCredits < 0}
   * @throws IllegalStateException if an unsettled reservation already holds {@code requestId}
   * @throws LlmGatewayException if the ledger's store fails; nothing was held
   */
  Reservation reserve(UserContext user, Operation operation, long estimatedCredits, @Nullable String requestId);

  /**
   * Holds credits for a call that no webhook needs to find.
   *
   * @param user the user to charge
   * @param operation the operation about to be called
   * @param estimatedCredits the credits to hold, at least 0
   * @return the reservation, to settle later
   * @throws InsufficientCreditsException if the user's available credits do not cover {@code
   *     estimatedCredits}; nothing was held
   * @throws IllegalArgumentException if {@code estimatedCredits < 0}
   * @throws LlmGatewayException if the ledger's store fails; nothing was held
   */
  default Reservation reserve(UserContext user, Operation operation, long estimatedCredits) {
    return reserve(user, operation, estimatedCredits, null);
  }

  /**
   * Charges a reservation and returns the credits it held beyond the charge. A charge above the
   * reservation is taken in full: the work was done, so the user's balance may drop below zero by
   * the overrun, and later reservations have to cover it first.
   *
   * @param reservation a reservation of this ledger
   * @param credits the real cost, at least 0
   * @return {@link Settlement#COMMITTED} if this call settled the reservation; otherwise a no-op
   *     result saying why
   * @throws IllegalArgumentException if {@code credits < 0}
   * @throws LlmGatewayException if the ledger's store fails; the reservation is then unchanged and
   *     the call may be repeated
   */
  Settlement commit(Reservation reservation, long credits);

  /**
   * Returns every credit a reservation held: the call failed before it cost anything, or was
   * refused.
   *
   * @param reservation a reservation of this ledger
   * @param reason why, for logs and audit (e.g. {@code "rate limited upstream"}); never shown to
   *     users
   * @return {@link Settlement#RELEASED} if this call settled the reservation; otherwise a no-op
   *     result saying why
   * @throws LlmGatewayException if the ledger's store fails; the reservation is then unchanged and
   *     the call may be repeated
   */
  Settlement release(Reservation reservation, String reason);

  /**
   * Finds the reservation made with a request id, so that a completion webhook (which carries the
   * request id) can settle it. Settled reservations are found too while the ledger remembers them;
   * settling one again is then a reported no-op.
   *
   * @param requestId the request id given to {@link #reserve}
   * @return the latest reservation made with it, or empty when there is none or it was forgotten
   * @throws LlmGatewayException if the ledger's store fails
   */
  Optional<Reservation> findByRequestId(String requestId);
}
