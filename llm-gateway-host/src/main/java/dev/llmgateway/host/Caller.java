package dev.llmgateway.host;

import dev.llmgateway.ValidationException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What the host knows of a call's HTTP request besides its user: the client's network address and
 * any further keys the host wants rate limits counted by (a tenant, an API key's id). {@link
 * ChatGateway} hands it to its {@link RateLimitKeys}, which turn it into the keys of the {@link
 * RateLimiter}. Immutable and thread-safe.
 *
 * <pre>{@code
 * Caller caller = Caller.of(exchange.getRemoteAddress());           // JDK HttpServer
 * Caller caller = Caller.ofAddress(request.getRemoteAddr());        // Servlet
 * gateway.chat(user, request, caller);
 * }</pre>
 *
 * <p><b>Which address.</b> Pass the address of the socket the request came in on. Behind a reverse
 * proxy or load balancer that is the proxy's address; the end user's is in a header such as {@code
 * X-Forwarded-For}, which any client can write. Trust such a header only when the host's own
 * configuration says the request came through a proxy it runs (and then take the address that proxy
 * added, the rightmost one it appended), never by default.
 *
 * <p><b>Validation and normal form.</b> The address is host input and is checked when the caller is
 * made, before anything is reserved or sent: an IPv4 address in dotted-quad form (four decimal
 * numbers 0 to 255, no leading zero), or an IPv6 address (any RFC 4291 text form, optionally in
 * brackets, optionally with a zone id of letters, digits, {@code _ . -}), at most {@value
 * #MAX_ADDRESS_LENGTH} characters; never a host name (nothing is looked up). It is kept in one
 * normal form, so that one client is one key: IPv4 as dotted quad, IPv4-mapped IPv6 ({@code
 * ::ffff:192.0.2.1}) as the IPv4 address, other IPv6 as eight lower-case hexadecimal groups without
 * leading zeros ({@code 2001:db8:0:0:0:0:0:1}), plus {@code %zone} when one was given. Anything else
 * is refused with a {@link ValidationException} naming {@value #ADDRESS_FIELD}, which {@link
 * ErrorMapper} answers with 422. The address appears in no exception message, log line or {@link
 * #toString()}.
 */
public final class Caller {
  /** The longest client address accepted, in characters (an IPv6 address with a zone id). */
  public static final int MAX_ADDRESS_LENGTH = 64;
  /** The most extra keys a caller holds. */
  public static final int MAX_KEYS = 8;
  /** The longest value of an extra key, in characters. */
  public static final int MAX_KEY_VALUE_LENGTH = 256;
  /** The field a refused address is reported under in a {@link ValidationException}. */
  public static final String ADDRESS_FIELD = "client_address";

  /** The names {@link RateLimitKeys} uses itself; an extra key may not take one. */
  static final Set<String> RESERVED_NAMES = Set.of("user", "company", "ip");

  private static final Caller UNKNOWN = new Caller(null, null, Map.of());
  private static final Pattern IPV4 =
      Pattern.compile("(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
  /** Starts with a hex digit or a colon and holds a colon: {@link InetAddress#getByName} then parses, never resolves. */
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:][0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
  private static final Pattern ZONE = Pattern.compile("[0-9A-Za-z_.-]{1,32}");
  private static final Pattern KEY_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
  private static final Pattern KEY_VALUE = Pattern.compile("[\\x21-\\x7e]+");

  private final @Nullable String address;
  /** The address's 4 or 16 bytes, without zone; never handed out. */
  private final byte @Nullable [] bytes;
  private final Map<String, String> keys;

  private Caller(@Nullable String address, byte @Nullable [] bytes, Map<String, String> keys) {
    this.address = address;
    this.bytes = bytes;
    this.keys = keys;
  }

  /**
   * Returns the caller of a call whose client address is not known: limits keyed by the address
   * cannot apply to it (see {@link RateLimitKeys#perClientAddress()}).
   *
   * @return the caller without address or keys
   */
  public static Caller unknown() {
    return UNKNOWN;
  }

  /**
   * Returns the caller at a socket's remote address, e.g. the JDK {@code HttpExchange}'s {@code
   * getRemoteAddress()}. The port is ignored.
   *
   * @param remote the remote end of the request's connection
   * @return the caller
   * @throws ValidationException if the address is unresolved (a host name, not an address)
   */
  public static Caller of(InetSocketAddress remote) {
    Objects.requireNonNull(remote, "remote");
    InetAddress address = remote.getAddress();
    if (address == null) {
      throw refused();
    }
    return of(address);
  }

  /**
   * Returns the caller at an address.
   *
   * @param address the client's address
   * @return the caller
   * @throws ValidationException if an IPv6 address's zone is not letters, digits, {@code _ . -}
   */
  public static Caller of(InetAddress address) {
    Objects.requireNonNull(address, "address");
    return ofAddress(address.getHostAddress());
  }

  /**
   * Returns the caller at an address given as text, e.g. a Servlet request's {@code getRemoteAddr()}
   * or the address a trusted proxy added to {@code X-Forwarded-For}. Never looks up a name.
   *
   * @param address an IPv4 or IPv6 address in the forms the class documentation lists
   * @return the caller, holding the address in normal form
   * @throws ValidationException naming {@value #ADDRESS_FIELD} if it is not such an address
   */
  public static Caller ofAddress(String address) {
    Objects.requireNonNull(address, "address");
    return parse(address);
  }

  /**
   * Returns this caller with one more key for {@link RateLimitKeys#perCallerKey(String)}, e.g. a
   * tenant or an API key's id. A key of the same name is replaced.
   *
   * @param name lower-case letters, digits, {@code _} and {@code -}, starting with a letter, at most
   *     32 characters; not {@code user}, {@code company} or {@code ip}
   * @param value 1 to {@value #MAX_KEY_VALUE_LENGTH} printable ASCII characters (no space or control
   *     character)
   * @return a new caller
   * @throws IllegalArgumentException if the name is not allowed or reserved, or the caller already
   *     holds {@value #MAX_KEYS} other keys
   * @throws ValidationException naming {@code name} if the value is not allowed (it may come from a
   *     request)
   */
  public Caller withKey(String name, String value) {
    checkKeyName(name);
    Objects.requireNonNull(value, "value");
    if (value.length() > MAX_KEY_VALUE_LENGTH || !KEY_VALUE.matcher(value).matches()) {
      throw new ValidationException(List.of(new ValidationException.Violation(name,
          "must be 1 to " + MAX_KEY_VALUE_LENGTH + " printable ASCII characters")), null);
    }
    if (!keys.containsKey(name) && keys.size() >= MAX_KEYS) {
      throw new IllegalArgumentException("a caller holds at most " + MAX_KEYS + " keys");
    }
    Map<String, String> more = new TreeMap<>(keys);
    more.put(name, value);
    return new Caller(address, bytes, Collections.unmodifiableMap(more));
  }

  /**
   * Returns the client's address in normal form.
   *
   * @return the address, or null when not known
   */
  public @Nullable String address() {
    return address;
  }

  /**
   * Returns the value of an extra key.
   *
   * @param name the key's name
   * @return the value, or null when this caller has no such key
   */
  public @Nullable String key(String name) {
    return keys.get(Objects.requireNonNull(name, "name"));
  }

  /**
   * Returns the extra keys.
   *
   * @return an unmodifiable map from name to value, ordered by name
   */
  public Map<String, String> keys() {
    return keys;
  }

  /** Says whether an address is known and which keys are held; never their values. */
  @Override
  public String toString() {
    return "Caller{address=" + (address == null ? "unknown" : "known") + ", keys=" + keys.keySet() + "}";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Caller && Objects.equals(((Caller) o).address, address) && ((Caller) o).keys.equals(keys);
  }

  @Override
  public int hashCode() {
    return Objects.hash(address, keys);
  }

  /**
   * The network of the address: its first {@code prefixLength} bits (IPv4 prefix for an IPv4
   * address, else the IPv6 one), in normal form with {@code /length}; null when no address is known.
   */
  @Nullable String network(int ipv4PrefixLength, int ipv6PrefixLength) {
    if (bytes == null) {
      return null;
    }
    int prefix = bytes.length == 4 ? ipv4PrefixLength : ipv6PrefixLength;
    byte[] masked = bytes.clone();
    for (int i = 0; i < masked.length; i++) {
      int keep = Math.max(0, Math.min(8, prefix - 8 * i));
      masked[i] = (byte) (masked[i] & (0xff << (8 - keep)));
    }
    try {
      return InetAddress.getByAddress(masked).getHostAddress() + "/" + prefix;
    } catch (UnknownHostException impossible) { // 4 or 16 bytes
      throw new IllegalStateException(impossible);
    }
  }

  /** The message of a call without the address its rate limit keys need. */
  static final String NO_ADDRESS = "Rate limits per client address need the address: pass a Caller with it "
      + "(e.g. Caller.of(exchange.getRemoteAddress())) to ChatGateway";

  static void checkKeyName(String name) {
    Objects.requireNonNull(name, "name");
    if (!KEY_NAME.matcher(name).matches() || RESERVED_NAMES.contains(name)) {
      throw new IllegalArgumentException("key name must be 1 to 32 of a-z 0-9 _ -, starting with a letter, and not "
          + "user, company or ip: " + name);
    }
  }

  private static Caller parse(String raw) {
    if (raw.isEmpty() || raw.length() > MAX_ADDRESS_LENGTH) {
      throw refused();
    }
    if (IPV4.matcher(raw).matches()) {
      byte[] bytes = new byte[4];
      int part = 0;
      for (int i = 0; i < raw.length(); i++) {
        char c = raw.charAt(i);
        if (c == '.') {
          part++;
        } else {
          bytes[part] = (byte) ((bytes[part] & 0xff) * 10 + (c - '0'));
        }
      }
      return new Caller(raw, bytes, Map.of());
    }
    String text = raw;
    if (text.startsWith("[") && text.endsWith("]")) {
      text = text.substring(1, text.length() - 1);
    }
    String zone = null;
    int percent = text.indexOf('%');
    if (percent >= 0) {
      zone = text.substring(percent + 1);
      text = text.substring(0, percent);
      if (!ZONE.matcher(zone).matches()) {
        throw refused();
      }
    }
    if (!IPV6.matcher(text).matches()) {
      throw refused();
    }
    InetAddress parsed;
    try {
      parsed = InetAddress.getByName(text); // a literal with a colon: parsed, never looked up
    } catch (UnknownHostException | RuntimeException e) {
      throw refused();
    }
    if (!(parsed instanceof Inet6Address)) {
      return new Caller(parsed.getHostAddress(), parsed.getAddress(), Map.of()); // IPv4-mapped: the IPv4 client it is
    }
    String normal = parsed.getHostAddress().toLowerCase(Locale.ROOT);
    return new Caller(zone == null ? normal : normal + "%" + zone, parsed.getAddress(), Map.of());
  }

  private static ValidationException refused() {
    return new ValidationException(List.of(new ValidationException.Violation(ADDRESS_FIELD,
        "must be an IPv4 or IPv6 address of at most " + MAX_ADDRESS_LENGTH + " characters")), null);
  }
}
