/**
 * A {@link dev.llmgateway.host.CreditLedger} that several host instances share through a SQL
 * database: {@link dev.llmgateway.jdbc.JdbcCreditLedger} keeps balances and reservations in two
 * tables (PostgreSQL; the definitions ship as the migration {@code
 * db/migration/llm_gateway/V1__llm_gateway_credits.sql}) on the host's own {@link
 * javax.sql.DataSource}, and settles each reservation exactly once whichever instance commits,
 * releases or reaps it.
 */
@NullMarked
package dev.llmgateway.jdbc;

import org.jspecify.annotations.NullMarked;
