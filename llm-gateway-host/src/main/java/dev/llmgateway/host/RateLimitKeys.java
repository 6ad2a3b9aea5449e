package dev.llmgateway.host;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Which {@link RateLimiter} keys a call is counted against: a {@link ChatGateway} setting that turns
 * the call's user, {@link Caller} and operation into keys. The call passes only if every key's
 * limits allow it ({@link RateLimiter#tryAcquireAll}).
 *
 * <p>Every key starts with its namespace ({@value #USER}, {@value #COMPANY}, {@value
 * #CLIENT_ADDRESS}, or an extra key's name and a colon), so a user id can never collide with a
 * company id or an address, and a limiter can apply other limits per namespace ({@link
 * InMemoryRateLimiter.Builder#limits(String, RateLimits)}). The default, {@link #perUser()}, counts
 * every call against its user, as before this setting existed.
 *
 * <pre>{@code
 * // requests per user, and stream starts per client address
 * RateLimitKeys keys = RateLimitKeys.perUser()
 *     .and(RateLimitKeys.perClientAddress().onlyFor(Operation.CHAT_STREAM));
 * }</pre>
 *
 * <p>Implementations must be thread-safe and fast (called once per call, before anything is
 * reserved); those made here are immutable.
 */
@FunctionalInterface
public interface RateLimitKeys {
  /** The namespace of user keys: {@code user:} and {@link UserContext#userId()}. */
  String USER = "user:";
  /** The namespace of company keys: {@code company:} and {@link UserContext#companyId()}. */
  String COMPANY = "company:";
  /** The namespace of client address keys: {@code ip:} and {@link Caller#address()}. */
  String CLIENT_ADDRESS = "ip:";

  /**
   * Returns the keys a call is counted against.
   *
   * @param user the authenticated end user
   * @param caller what the host knows of the request
   * @param operation the call
   * @return the keys, each namespaced; empty when the call is not limited
   * @throws IllegalStateException if a key needs something the caller does not hold (the host did
   *     not pass it): the call is refused before anything is reserved
   */
  List<String> keys(UserContext user, Caller caller, Operation operation);

  /**
   * Counts every call against its user: {@code user:<userId>}. The default.
   *
   * @return the setting
   */
  static RateLimitKeys perUser() {
    return (user, caller, operation) -> List.of(USER + user.userId());
  }

  /**
   * Counts every call against its user's company: {@code company:<companyId>}.
   *
   * @return the setting
   */
  static RateLimitKeys perCompany() {
    return (user, caller, operation) -> List.of(COMPANY + user.companyId());
  }

  /**
   * Counts every call against the client's address: {@code ip:<address>} in {@link Caller}'s
   * normal form. A call whose caller has no address is refused with {@link IllegalStateException}
   * (a host that configures per-address limits must pass the address; a missing one is a bug, not
   * a reason to skip the limit).
   *
   * @return the setting
   */
  static RateLimitKeys perClientAddress() {
    return (user, caller, operation) -> {
      String address = caller.address();
      if (address == null) {
        throw new IllegalStateException(Caller.NO_ADDRESS);
      }
      return List.of(CLIENT_ADDRESS + address);
    };
  }

  /**
   * Counts every call against the client's network: {@code ip:<network>/<prefix>}, the address's
   * first {@code ipv4PrefixLength} or {@code ipv6PrefixLength} bits in {@link Caller}'s normal form
   * (zone dropped), e.g. {@code ip:2001:db8:0:0:0:0:0:0/64}. One IPv6 client usually holds a whole
   * /64 and can pick any address in it, so a per-address limit alone does not hold it: {@code
   * perClientNetwork(32, 64)} counts IPv4 clients by address and IPv6 clients by /64. The keys are in
   * the {@value #CLIENT_ADDRESS} namespace. A call whose caller has no address is refused with
   * {@link IllegalStateException}, as by {@link #perClientAddress()}.
   *
   * @param ipv4PrefixLength bits of an IPv4 address kept, 0 to 32
   * @param ipv6PrefixLength bits of an IPv6 address kept, 0 to 128
   * @return the setting
   * @throws IllegalArgumentException if a length is out of range
   */
  static RateLimitKeys perClientNetwork(int ipv4PrefixLength, int ipv6PrefixLength) {
    if (ipv4PrefixLength < 0 || ipv4PrefixLength > 32 || ipv6PrefixLength < 0 || ipv6PrefixLength > 128) {
      throw new IllegalArgumentException("prefix lengths must be 0 to 32 (IPv4) and 0 to 128 (IPv6): "
          + ipv4PrefixLength + ", " + ipv6PrefixLength);
    }
    return (user, caller, operation) -> {
      String network = caller.network(ipv4PrefixLength, ipv6PrefixLength);
      if (network == null) {
        throw new IllegalStateException(Caller.NO_ADDRESS);
      }
      return List.of(CLIENT_ADDRESS + network);
    };
  }

  /**
   * Counts every call against one of the caller's extra keys ({@link Caller#withKey}): {@code
   * <name>:<value>}. A call whose caller lacks the key is refused with {@link
   * IllegalStateException}.
   *
   * @param name the extra key's name, as {@link Caller#withKey} allows it
   * @return the setting
   * @throws IllegalArgumentException if the name is not allowed, or reserved
   */
  static RateLimitKeys perCallerKey(String name) {
    Caller.checkKeyName(name);
    String namespace = name + ":";
    return (user, caller, operation) -> {
      String value = caller.key(name);
      if (value == null) {
        throw new IllegalStateException("Rate limits per '" + name + "' need that key: pass a Caller with it "
            + "(Caller.withKey) to ChatGateway");
      }
      return List.of(namespace + value);
    };
  }

  /**
   * Returns the keys of this setting followed by those of another: the call must pass both.
   *
   * @param other the other setting
   * @return the combined setting
   */
  default RateLimitKeys and(RateLimitKeys other) {
    Objects.requireNonNull(other, "other");
    return (user, caller, operation) -> {
      List<String> first = keys(user, caller, operation);
      List<String> second = other.keys(user, caller, operation);
      if (second.isEmpty()) {
        return first;
      }
      if (first.isEmpty()) {
        return second;
      }
      List<String> both = new ArrayList<>(first.size() + second.size());
      both.addAll(first);
      both.addAll(second);
      return both;
    };
  }

  /**
   * Returns this setting applied to some operations only; other calls get no key from it.
   *
   * @param first an operation the keys apply to
   * @param more further operations
   * @return the restricted setting
   */
  default RateLimitKeys onlyFor(Operation first, Operation... more) {
    Set<Operation> operations = EnumSet.of(first, more);
    return (user, caller, operation) -> operations.contains(operation) ? keys(user, caller, operation) : List.of();
  }
}
