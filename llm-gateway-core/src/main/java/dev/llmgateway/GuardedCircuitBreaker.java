package dev.llmgateway;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the client's calls use in place of a host's {@link CircuitBreaker}: what the host's breaker
 * throws is logged and contained, so a broken breaker can neither leave a call unended nor break a
 * stream. A {@link #tryAcquire()} that throws refuses the attempt; a settlement that throws counts
 * as made; a {@link #remainingOpenTime()} that throws or answers nonsense reads as zero.
 */
final class GuardedCircuitBreaker implements CircuitBreaker {
  private static final Logger LOG = LoggerFactory.getLogger(LlmGatewayClient.class);

  private final CircuitBreaker breaker;

  GuardedCircuitBreaker(CircuitBreaker breaker) {
    this.breaker = breaker;
  }

  @Override
  public boolean tryAcquire() {
    try {
      return breaker.tryAcquire();
    } catch (RuntimeException e) {
      LOG.warn("The CircuitBreaker {} threw from tryAcquire; the attempt is refused", type(), e);
      return false;
    }
  }

  @Override
  public void onSuccess() {
    try {
      breaker.onSuccess();
    } catch (RuntimeException e) {
      thrown("onSuccess", e);
    }
  }

  @Override
  public void onFailure() {
    try {
      breaker.onFailure();
    } catch (RuntimeException e) {
      thrown("onFailure", e);
    }
  }

  @Override
  public void onIgnored() {
    try {
      breaker.onIgnored();
    } catch (RuntimeException e) {
      thrown("onIgnored", e);
    }
  }

  @Override
  public Duration remainingOpenTime() {
    try {
      Duration remaining = breaker.remainingOpenTime();
      return remaining == null || remaining.isNegative() ? Duration.ZERO : remaining;
    } catch (RuntimeException e) {
      thrown("remainingOpenTime", e);
      return Duration.ZERO;
    }
  }

  @Override
  public State state() {
    return breaker.state();
  }

  @Override
  public void addListener(StateListener listener) {
    breaker.addListener(listener);
  }

  @Override
  public void removeListener(StateListener listener) {
    breaker.removeListener(listener);
  }

  private void thrown(String method, RuntimeException e) {
    LOG.warn("The CircuitBreaker {} threw from {}; ignored", type(), method, e);
  }

  private String type() {
    return breaker.getClass().getName();
  }

  @Override
  public String toString() {
    return breaker.toString();
  }
}
