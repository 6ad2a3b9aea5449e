-- llm-gateway-java: the tables of dev.llmgateway.jdbc.JdbcCreditLedger (PostgreSQL 12 or later).
-- Apply with JdbcCreditLedger.createSchema(dataSource), or let the host's Flyway run it from the
-- location classpath:db/migration/llm_gateway (its own history table, since its version numbers are
-- this module's). Idempotent: every statement is IF NOT EXISTS.

-- One row per paying account (a user id, a company id, or the host's AccountKey).
-- available: credits that can be reserved now (negative after a charge overran its reservation);
-- held: credits held by PENDING reservations.
CREATE TABLE IF NOT EXISTS llm_gateway_credit_accounts (
  account    VARCHAR(256) PRIMARY KEY,
  available  BIGINT NOT NULL DEFAULT 0,
  held       BIGINT NOT NULL DEFAULT 0 CHECK (held >= 0)
);

-- One row per reservation. state moves once, from PENDING to COMMITTED or RELEASED, by a statement
-- guarded by WHERE state = 'PENDING'; settled rows are deleted after the ledger's retention.
CREATE TABLE IF NOT EXISTS llm_gateway_credit_reservations (
  id           UUID PRIMARY KEY,
  seq          BIGINT GENERATED ALWAYS AS IDENTITY,
  account      VARCHAR(256) NOT NULL,
  user_id      VARCHAR(256) NOT NULL,
  company_id   VARCHAR(256) NOT NULL,
  role         VARCHAR(256) NOT NULL,
  company_role VARCHAR(256),
  operation    VARCHAR(32)  NOT NULL,
  credits      BIGINT       NOT NULL CHECK (credits >= 0),
  request_id   VARCHAR(256),
  state        VARCHAR(16)  NOT NULL CHECK (state IN ('PENDING', 'COMMITTED', 'RELEASED')),
  charged      BIGINT,
  created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
  expires_at   TIMESTAMP WITH TIME ZONE NOT NULL,
  settled_at   TIMESTAMP WITH TIME ZONE
);

-- At most one unsettled reservation per request id, across every instance.
CREATE UNIQUE INDEX IF NOT EXISTS llm_gateway_credit_reservations_pending_request
  ON llm_gateway_credit_reservations (request_id) WHERE state = 'PENDING';
-- findByRequestId: the latest reservation made with a request id.
CREATE INDEX IF NOT EXISTS llm_gateway_credit_reservations_request
  ON llm_gateway_credit_reservations (request_id, seq);
-- The reaper: expired PENDING reservations, and settled ones past the retention.
CREATE INDEX IF NOT EXISTS llm_gateway_credit_reservations_expiry
  ON llm_gateway_credit_reservations (expires_at) WHERE state = 'PENDING';
CREATE INDEX IF NOT EXISTS llm_gateway_credit_reservations_settled
  ON llm_gateway_credit_reservations (settled_at) WHERE state <> 'PENDING';
