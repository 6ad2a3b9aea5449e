package dev.llmgateway.jdbc;

import dev.llmgateway.host.StateStoreException;
import java.sql.SQLException;
import org.jspecify.annotations.Nullable;

/**
 * The database behind a {@link JdbcCreditLedger} failed: no connection could be had, a statement
 * ran past the {@linkplain JdbcCreditLedger.Builder#statementTimeout statement timeout}, or the
 * database refused it. The operation did not take effect (a {@code reserve} held nothing, a {@code
 * commit} or {@code release} left the reservation as it was) unless the connection was lost after
 * the database applied it, in which case repeating a settlement answers {@link
 * dev.llmgateway.host.Settlement#ALREADY_COMMITTED} or {@link
 * dev.llmgateway.host.Settlement#ALREADY_RELEASED}: nothing is ever applied twice. {@link
 * dev.llmgateway.host.ErrorMapper} answers {@code 503} with {@code Retry-After: 1}, and {@link
 * #isRetryable()} is true. The message names the operation and the SQLState, never a credential;
 * the cause is the driver's {@link SQLException}. Immutable and thread-safe.
 */
public final class CreditStoreException extends StateStoreException {
  private static final long serialVersionUID = 1L;
  /** The SQLState of a statement cancelled by its timeout ({@code query_canceled}). */
  static final String QUERY_CANCELED = "57014";

  private final @Nullable String sqlState;

  /**
   * Creates the exception.
   *
   * @param operation what the ledger was doing, e.g. {@code "reserve"}
   * @param requestId the request id of the call concerned, or null
   * @param cause the driver's failure
   */
  public CreditStoreException(String operation, @Nullable String requestId, SQLException cause) {
    super("Credit ledger: " + operation + " failed (SQLState " + cause.getSQLState()
        + (QUERY_CANCELED.equals(cause.getSQLState()) ? ", statement timeout" : "") + ")", requestId, cause);
    this.sqlState = cause.getSQLState();
  }

  /**
   * Returns the SQLState of the failure.
   *
   * @return the five-character SQLState, or null when the driver gave none
   */
  public @Nullable String sqlState() {
    return sqlState;
  }

  /**
   * Tells whether a statement ran past the ledger's statement timeout and was cancelled.
   *
   * @return true for SQLState {@code 57014}
   */
  public boolean timedOut() {
    return QUERY_CANCELED.equals(sqlState);
  }
}
