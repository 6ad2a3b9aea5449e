package dev.llmgateway.jdbc;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Hands out one given (real) connection first, then the connections of a pool: lets a test give a
 * ledger a connection the database has already closed, as a pool that did not validate it would.
 */
final class FirstConnectionDataSource implements DataSource {
  private final AtomicReference<Connection> first;
  private final DataSource rest;

  FirstConnectionDataSource(Connection first, DataSource rest) {
    this.first = new AtomicReference<>(first);
    this.rest = rest;
  }

  @Override
  public Connection getConnection() throws SQLException {
    Connection c = first.getAndSet(null);
    return c != null ? c : rest.getConnection();
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return getConnection();
  }

  @Override
  public PrintWriter getLogWriter() throws SQLException {
    return rest.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) throws SQLException {
    rest.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) throws SQLException {
    rest.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() throws SQLException {
    return rest.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return rest.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    return rest.unwrap(iface);
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) throws SQLException {
    return rest.isWrapperFor(iface);
  }
}
