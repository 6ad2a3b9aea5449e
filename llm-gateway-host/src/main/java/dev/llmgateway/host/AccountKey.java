package dev.llmgateway.host;

import dev.llmgateway.UserContext;
import java.util.Objects;

/**
 * Says who pays for a call: the account of a {@link CreditLedger} whose credits a user's calls
 * reserve and spend. {@link #USER} (the default of the SDK's ledgers) gives every user an account of
 * their own; {@link #COMPANY} makes every user of a company spend the company's credits, as the
 * reference design does; a host with another rule passes its own function, e.g. {@code user ->
 * user.role().equals("admin") ? "house" : user.companyId()}.
 *
 * <p>An implementation must be a pure function of the {@link UserContext}: the same user always
 * maps to the same account, on every host instance, and it must return a non-blank key quickly,
 * without I/O. Implementations must be thread-safe; the constants are.
 */
@FunctionalInterface
public interface AccountKey {
  /** Each user pays for their own calls: the account is the {@linkplain UserContext#userId() user id}. */
  AccountKey USER = UserContext::userId;

  /**
   * A company pays for the calls of all its users: the account is the {@linkplain
   * UserContext#companyId() company id}.
   */
  AccountKey COMPANY = UserContext::companyId;

  /**
   * Returns the account that pays for a user's calls.
   *
   * @param user the user making the call
   * @return the account key, non-blank
   */
  String accountOf(UserContext user);

  /**
   * Returns the account that pays for a user's calls, checked: a function that answers null or
   * blank is a bug in the host, reported here before any credit moves. The ledgers call this.
   *
   * @param user the user making the call
   * @return the non-blank account key
   * @throws IllegalStateException if {@link #accountOf} returned null or a blank string
   */
  default String requireAccountOf(UserContext user) {
    Objects.requireNonNull(user, "user");
    String account = accountOf(user);
    if (account == null || account.isBlank()) {
      throw new IllegalStateException("AccountKey " + this + " returned no account for user " + user.userId());
    }
    return account;
  }
}
