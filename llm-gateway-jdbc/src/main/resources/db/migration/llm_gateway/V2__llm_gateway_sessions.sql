-- llm-gateway-java: the table of dev.llmgateway.jdbc.JdbcSessionStore (PostgreSQL 12 or later), the host's
-- records of its users' conversations. Apply with JdbcSessionStore.createSchema(dataSource), or let the host's
-- Flyway run it with V1 from classpath:db/migration/llm_gateway. Idempotent: every statement is IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS llm_gateway_sessions (
  session_id       VARCHAR(256) PRIMARY KEY,
  user_id          VARCHAR(256) NOT NULL,
  company_id       VARCHAR(256) NOT NULL,
  owner_role       VARCHAR(256) NOT NULL,
  title            VARCHAR(100) NOT NULL,
  created_at       TIMESTAMP WITH TIME ZONE NOT NULL,
  last_activity_at TIMESTAMP WITH TIME ZONE NOT NULL,
  message_count    INTEGER NOT NULL CHECK (message_count >= 0),
  tokens           BIGINT  NOT NULL CHECK (tokens >= 0),
  credits          BIGINT  NOT NULL DEFAULT 0 CHECK (credits >= 0)
);

-- A user's recent sessions.
CREATE INDEX IF NOT EXISTS llm_gateway_sessions_owner
  ON llm_gateway_sessions (user_id, company_id, last_activity_at DESC, session_id);
-- The cleanup: idle sessions, oldest first.
CREATE INDEX IF NOT EXISTS llm_gateway_sessions_activity
  ON llm_gateway_sessions (last_activity_at, session_id);
