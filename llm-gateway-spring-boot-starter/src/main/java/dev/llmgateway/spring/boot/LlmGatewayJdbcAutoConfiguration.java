package dev.llmgateway.spring.boot;

import dev.llmgateway.host.CreditLedger;
import dev.llmgateway.jdbc.JdbcCreditLedger;
import javax.sql.DataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.context.annotation.Bean;

/**
 * When {@code llm-gateway-jdbc} is on the classpath and the context has one {@link DataSource}: the
 * credit ledger in that database (PostgreSQL), shared by every instance. Its tables are created at
 * startup only with {@code llm-gateway.jdbc.create-schema=true}; otherwise run {@link
 * JdbcCreditLedger#MIGRATION_RESOURCE} with the host's migrations.
 */
@AutoConfiguration(before = LlmGatewayHostAutoConfiguration.class, afterName = {
    "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
    "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration"})
@ConditionalOnClass({JdbcCreditLedger.class, DataSource.class})
public class LlmGatewayJdbcAutoConfiguration {
  /** Creates the configuration; Spring calls it. */
  public LlmGatewayJdbcAutoConfiguration() {}

  /**
   * The ledger, closed with the context.
   *
   * @param dataSource the application's data source
   * @param properties the properties ({@code jdbc.create-schema}, {@code jdbc.reaper-interval})
   * @return the ledger the auto-configured {@code ChatGateway} uses
   * @throws dev.llmgateway.jdbc.CreditStoreException if the schema was to be created and could not
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(CreditLedger.class)
  @ConditionalOnSingleCandidate(DataSource.class)
  public JdbcCreditLedger llmGatewayCreditLedger(DataSource dataSource, LlmGatewayProperties properties) {
    if (properties.getJdbc().isCreateSchema()) {
      JdbcCreditLedger.createSchema(dataSource);
    }
    JdbcCreditLedger.Builder ledger = JdbcCreditLedger.builder(dataSource);
    if (properties.getJdbc().getReaperInterval() != null) {
      ledger.reaperInterval(properties.getJdbc().getReaperInterval());
    }
    return ledger.build();
  }
}
