package dev.llmgateway.internal;

import dev.llmgateway.CallInfo;
import dev.llmgateway.GatewayListener;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import okhttp3.Request;
import org.jspecify.annotations.Nullable;

/**
 * The {@link GatewayListener.HeaderSink} of one attempt: adds a listener's headers (trace
 * propagation) to the request, refusing any header the request has already, the SDK's own, HTTP's
 * own, and invalid names or values. Used by the one thread sending the attempt.
 */
final class AttemptHeaders implements GatewayListener.HeaderSink {
  /**
   * Lower-case names a listener may never set, whether or not this request has them: the SDK's
   * (CONTRACT sections 1-3), HTTP's own and hop-by-hop headers, and credentials of any kind.
   */
  private static final Set<String> RESERVED = Set.of(
      "authorization", "proxy-authorization", "cookie", "x-service-token", "x-request-id",
      "idempotency-key", "accept", "accept-encoding", "content-type", "content-length",
      "content-encoding", "transfer-encoding", "user-agent", "host", "connection", "keep-alive",
      "te", "trailer", "upgrade", "expect", "range", "if-match", "if-none-match");
  /** Lower-case prefixes a listener may never use: the contract's identity headers. */
  private static final String[] RESERVED_PREFIXES = {"x-user-", "x-company-", "x-service-"};

  private final Request request;
  /** What {@link #request} was built from; the added headers go there. */
  private final Request.Builder builder;
  private String @Nullable [] added;
  private int count;
  private boolean open = true;

  private AttemptHeaders(Request request, Request.Builder builder) {
    this.request = request;
    this.builder = builder;
  }

  /**
   * Asks {@code listener} for the attempt's extra headers.
   *
   * @param request the attempt's request, as built by {@code builder}
   * @param builder what built {@code request} (not changed since): the added headers go there,
   *     rather than into a copy of the request's
   * @return {@code request} itself when none were added, else the builder's new request with them
   */
  static Request add(Request request, Request.Builder builder, GatewayListener listener, CallInfo info, int attempt) {
    AttemptHeaders sink = new AttemptHeaders(request, builder);
    try {
      listener.attemptHeaders(info, attempt, sink);
    } catch (RuntimeException e) {
      LoggingListener.threw(e);
    } finally {
      sink.open = false;
    }
    return sink.count == 0 ? request : builder.build();
  }

  @Override
  public void set(String name, String value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    if (!open) {
      throw new IllegalStateException(
          "header " + safeName(name) + " not added: the attempt's request was already sent"
              + " (add headers only during GatewayListener.attemptHeaders)");
    }
    checkName(name);
    checkValue(name, value);
    String lower = name.toLowerCase(Locale.ROOT);
    if (request.header(name) != null || isAdded(lower)) {
      throw new IllegalArgumentException("header " + name + " not added: the request has it already");
    }
    if (count == MAX_HEADERS) {
      throw new IllegalArgumentException(
          "header " + name + " not added: at most " + MAX_HEADERS + " headers may be added per attempt");
    }
    String[] names = added;
    if (names == null) {
      names = new String[MAX_HEADERS];
      added = names;
    }
    names[count++] = lower;
    builder.header(name, value);
  }

  private boolean isAdded(String lower) {
    String[] names = added;
    for (int i = 0; i < count; i++) {
      if (Objects.requireNonNull(names)[i].equals(lower)) {
        return true;
      }
    }
    return false;
  }

  private static void checkName(String name) {
    if (name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "header name must be 1 to " + MAX_NAME_LENGTH + " characters, was " + name.length());
    }
    for (int i = 0; i < name.length(); i++) {
      if (!isTokenChar(name.charAt(i))) {
        throw new IllegalArgumentException(
            "header " + safeName(name) + " not added: a header name is an HTTP token"
                + " (letters, digits and !#$%&'*+-.^_`|~)");
      }
    }
    String lower = name.toLowerCase(Locale.ROOT);
    boolean reserved = RESERVED.contains(lower);
    for (String prefix : RESERVED_PREFIXES) {
      reserved |= lower.startsWith(prefix);
    }
    if (reserved) {
      throw new IllegalArgumentException("header " + name + " not added: the SDK or HTTP sets it");
    }
  }

  private static void checkValue(String name, String value) {
    if (value.length() > MAX_VALUE_LENGTH) {
      throw new IllegalArgumentException(
          "header " + name + " not added: its value is longer than " + MAX_VALUE_LENGTH + " characters");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c > 0x7e) {
        throw new IllegalArgumentException(
            "header " + name + " not added: its value holds a character other than visible ASCII,"
                + " space and tab (CR and LF are refused)");
      }
    }
  }

  /** RFC 9110 {@code tchar}. */
  private static boolean isTokenChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  /** The name for a message: as is when it is a token, else its length only. */
  private static String safeName(String name) {
    for (int i = 0; i < name.length(); i++) {
      if (!isTokenChar(name.charAt(i))) {
        return "(an invalid name of " + name.length() + " characters)";
      }
    }
    return name;
  }
}
