package dev.llmgateway.webhooks;

import dev.llmgateway.LlmGatewayException;
import dev.llmgateway.auth.ReplayStore;
import dev.llmgateway.auth.internal.Hmac;
import dev.llmgateway.webhooks.WebhookVerificationException.Reason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Verifies completion webhooks per Standard Webhooks (CONTRACT section 5).
 *
 * <p>Hand it the headers and the <em>raw</em> body bytes, exactly as received, before any JSON
 * parsing: re-serialized JSON does not verify. It checks, in order: the three headers are present
 * and well-formed (after removing only spaces and horizontal tabs at their ends, as HTTP parsers
 * do: {@code webhook-id} 1 to 256 visible ASCII characters, {@code webhook-timestamp} 1 to 19
 * ASCII digits; any other character, such as a Unicode space or a sign, is malformed); one {@code
 * v1} entry of {@code webhook-signature} (a space-separated list; other versions such as {@code
 * v1a} or {@code v2} are ignored) equals HMAC-SHA256(secret, {@code id + "." + timestamp + "." +
 * body}), compared in constant time; the timestamp is within the tolerance (5 minutes by default)
 * of the clock; the body is exactly one JSON object (nothing after it, no name twice in an object).
 * It then records the {@code webhook-id} and reports a redelivery as {@link
 * VerifiedWebhook#isDuplicate()}, not as an error. No refusal's message holds a header value or
 * part of the body.
 *
 * <p><b>Repeated headers.</b> Several {@code webhook-signature} headers are joined (the
 * specification allows several signatures). A {@code webhook-id} or {@code webhook-timestamp} that
 * appears more than once with different values is refused as malformed by {@link #verify(Map,
 * byte[])}, which sees every value. {@link #verify(Function, byte[])} sees what the lookup returns:
 * a lookup that joins repeated values with commas (JAX-RS {@code HttpHeaders.getHeaderString})
 * yields a value that is refused (its signature cannot match), but a lookup that returns
 * only the first value cannot tell that a header was repeated. Hosts whose lookup is such a
 * first-value one (Servlet {@code HttpServletRequest.getHeader}, Spring {@code
 * HttpHeaders.getFirst}, Vert.x {@code MultiMap.get}, the JDK's {@code Headers.getFirst}) should
 * use the map variant: Spring's {@code HttpHeaders} and the JDK's {@code Headers} are such maps
 * already; a servlet host builds one from {@code getHeaders(name)}.
 *
 * <pre>{@code
 * WebhookVerifier verifier = WebhookVerifier.builder()
 *     .secret(WebhookSecret.parse(System.getenv("LLM_WEBHOOK_SECRET")))
 *     .build();
 *
 * // in the handler (headers: every value of every header, e.g. Spring's HttpHeaders):
 * VerifiedWebhook webhook;
 * try {
 *   webhook = verifier.verify(headers, rawBody);
 * } catch (WebhookVerificationException e) {
 *   return 400;
 * }
 * if (!webhook.isDuplicate()) {
 *   try {
 *     settleCredits(webhook.completion());
 *   } catch (RuntimeException e) {
 *     verifier.forget(webhook.id());   // so the redelivery is processed
 *     return 500;
 *   }
 * }
 * return 204;
 * }</pre>
 *
 * <p>Ids are remembered for {@link #DEFAULT_DUPLICATE_WINDOW} by default in {@link
 * ReplayStore#inMemoryEvicting} (one JVM); hosts running several instances need a shared {@link
 * ReplayStore}. Immutable and thread-safe: create one and share it.
 */
public final class WebhookVerifier {
  /** Default largest distance between the timestamp and the clock. */
  public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);
  /** Default time a message id is remembered to recognise redeliveries. */
  public static final Duration DEFAULT_DUPLICATE_WINDOW = Duration.ofHours(24);

  /** Unix seconds as ASCII digits; 19 digits hold every positive {@code long}. */
  private final Duration tolerance;
  private final Duration duplicateWindow;
  private final Clock clock;
  private final ReplayStore idStore;
  private final SecretKeySpec key;
  /** Initialised with the key and never updated: each verify uses a clone. */
  private final Mac macPrototype;

  private WebhookVerifier(Builder builder, WebhookSecret secret, ReplayStore idStore) {
    this.tolerance = builder.tolerance;
    this.duplicateWindow = builder.duplicateWindow;
    this.clock = builder.clock;
    this.idStore = idStore;
    this.key = WebhookSigner.key(secret);
    this.macPrototype = Hmac.initialised(key);
  }

  /**
   * Starts a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Verifies a delivery whose headers are a multi-map, as most frameworks give them (header names
   * in any case). Sees repeated headers: a repeated {@code webhook-id} or {@code
   * webhook-timestamp} whose values differ is refused.
   *
   * @param headers the request headers; names are matched ignoring case
   * @param body the raw body bytes, exactly as received
   * @return the verified delivery, telling whether it is a duplicate
   * @throws WebhookVerificationException if the delivery must be refused
   * @throws LlmGatewayException if the id store cannot be reached
   */
  public VerifiedWebhook verify(Map<String, ? extends List<String>> headers, byte[] body) {
    Objects.requireNonNull(headers, "headers");
    return verify(
        header(headers, WebhookHeaders.ID, false),
        header(headers, WebhookHeaders.TIMESTAMP, false),
        header(headers, WebhookHeaders.SIGNATURE, true),
        body);
  }

  /**
   * Verifies a delivery whose headers are read one at a time. The function is called with the
   * lower-case name and, when that gives null, with the capitalised one ({@code Webhook-Id}).
   *
   * <p>This variant sees only what the lookup returns. If the lookup returns the first of several
   * values (Servlet {@code HttpServletRequest::getHeader}, Spring {@code HttpHeaders::getFirst},
   * Vert.x {@code MultiMap::get}), a repeated {@code webhook-id} or {@code webhook-timestamp}
   * cannot be told apart from a single one: such hosts should call {@link #verify(Map, byte[])}
   * with every value of each header. A lookup that joins repeated values with commas is safe:
   * the joined value is refused (malformed, or a signature that cannot match).
   *
   * @param headers returns a header's value, or null when absent
   * @param body the raw body bytes, exactly as received
   * @return the verified delivery, telling whether it is a duplicate
   * @throws WebhookVerificationException if the delivery must be refused
   * @throws LlmGatewayException if the id store cannot be reached
   */
  public VerifiedWebhook verify(Function<String, @Nullable String> headers, byte[] body) {
    Objects.requireNonNull(headers, "headers");
    return verify(
        header(headers, WebhookHeaders.ID),
        header(headers, WebhookHeaders.TIMESTAMP),
        header(headers, WebhookHeaders.SIGNATURE),
        body);
  }

  /**
   * Forgets a message id, so that its next delivery is not a duplicate. Call it when acting on a
   * webhook failed and the host answers non-{@code 2xx}, so that the redelivery is processed.
   *
   * @param webhookId the {@link VerifiedWebhook#id()}
   * @throws LlmGatewayException if the id store cannot be reached
   */
  public void forget(String webhookId) {
    idStore.forget(Objects.requireNonNull(webhookId, "webhookId"));
  }

  private VerifiedWebhook verify(
      @Nullable String id, @Nullable String timestamp, @Nullable String signatures, byte[] body) {
    Objects.requireNonNull(body, "body");
    id = required(WebhookHeaders.ID, id);
    timestamp = required(WebhookHeaders.TIMESTAMP, timestamp);
    signatures = required(WebhookHeaders.SIGNATURE, signatures);
    if (!WebhookSigner.isMessageId(id)) {
      throw fail(Reason.MALFORMED_HEADER, WebhookHeaders.ID + " must be 1 to "
          + WebhookSigner.MAX_MESSAGE_ID_LENGTH + " visible ASCII characters");
    }
    long sent = timestampSeconds(timestamp);
    if (scanSignatures(signatures, null) == NO_ENTRY) {
      throw fail(Reason.MALFORMED_HEADER,
          WebhookHeaders.SIGNATURE + " must hold space-separated version,signature entries");
    }

    byte[] expected = Base64.getEncoder().encode(
        WebhookSigner.digest(Hmac.fresh(macPrototype, key), id, timestamp, body));
    int scanned = scanSignatures(signatures, expected);
    if (scanned != MATCH) {
      throw fail(Reason.BAD_SIGNATURE, scanned == NO_V1
          ? WebhookHeaders.SIGNATURE + " holds no v1 signature"
          : "no v1 signature matches the raw body; verify the bytes as received, not re-serialized JSON");
    }

    Instant now = clock.instant();
    long age = now.getEpochSecond() - sent; // sent is at most Long.MAX_VALUE and now positive: no overflow
    if (age > tolerance.toSeconds()) {
      throw fail(Reason.STALE_TIMESTAMP, WebhookHeaders.TIMESTAMP + " is older than the tolerance");
    }
    if (-age > tolerance.toSeconds()) {
      throw fail(Reason.FUTURE_TIMESTAMP, WebhookHeaders.TIMESTAMP
          + " lies further in the future than the tolerance; check the clocks");
    }
    CompletionWebhook completion = CompletionWebhook.parse(body);
    boolean duplicate = !idStore.markUsed(id, now.plus(duplicateWindow));
    return new VerifiedWebhook(id, Instant.ofEpochSecond(sent), duplicate, body.clone(), completion);
  }

  private static final int NO_ENTRY = 0;
  private static final int NO_V1 = 1;
  private static final int NO_MATCH = 2;
  private static final int MATCH = 3;

  /**
   * Scans the space-separated {@code version,signature} entries of the signature header in place
   * (no split, no substrings). Entries without a comma after a non-empty version are skipped.
   * Every {@code v1} candidate is compared, in time independent of where it differs.
   *
   * @param expected the expected base64 signature as ASCII bytes, or null to compare none
   * @return {@link #NO_ENTRY} if no entry has a version, {@link #NO_V1} if none is {@code v1},
   *     {@link #MATCH} if one equals {@code expected}, else {@link #NO_MATCH}
   */
  private static int scanSignatures(String header, byte @Nullable [] expected) {
    int result = NO_ENTRY;
    int length = header.length();
    for (int start = 0; start <= length; ) {
      int end = header.indexOf(' ', start);
      if (end < 0) {
        end = length;
      }
      int comma = header.indexOf(',', start);
      if (comma > start && comma < end) {
        result = Math.max(result, NO_V1);
        if (comma - start == WebhookSigner.VERSION.length() && header.startsWith(WebhookSigner.VERSION, start)) {
          result = Math.max(result, NO_MATCH);
          if (expected != null && equalsAscii(expected, header, comma + 1, end)) {
            result = MATCH;
          }
        }
      }
      start = end + 1;
    }
    return result;
  }

  /** Compares in time independent of where the values differ (as {@code MessageDigest.isEqual}). */
  private static boolean equalsAscii(byte[] expected, String text, int from, int to) {
    if (to - from != expected.length) {
      return false;
    }
    int difference = 0;
    for (int i = 0; i < expected.length; i++) {
      difference |= expected[i] ^ text.charAt(from + i);
    }
    return difference == 0;
  }

  private static long timestampSeconds(String timestamp) {
    if (isOneTo19Digits(timestamp)) {
      try {
        return Long.parseLong(timestamp);
      } catch (NumberFormatException e) {
        // 19 digits beyond Long.MAX_VALUE: refused below
      }
    }
    throw fail(Reason.MALFORMED_HEADER, WebhookHeaders.TIMESTAMP + " must be Unix seconds: 1 to 19 ASCII digits");
  }

  private static boolean isOneTo19Digits(String value) {
    if (value.isEmpty() || value.length() > 19) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private static String required(String name, @Nullable String value) {
    String trimmed = value == null ? "" : trimOptionalWhitespace(value);
    if (trimmed.isEmpty()) {
      throw fail(Reason.MISSING_HEADER, name + " header is required");
    }
    return trimmed;
  }

  /**
   * Removes spaces and horizontal tabs at both ends, the optional whitespace HTTP parsers remove
   * around a field value (RFC 9110 section 5.5); nothing else, so a Unicode space stays and is
   * refused by the syntax checks.
   */
  static String trimOptionalWhitespace(String value) {
    int start = 0;
    int end = value.length();
    while (start < end && isOptionalWhitespace(value.charAt(start))) {
      start++;
    }
    while (end > start && isOptionalWhitespace(value.charAt(end - 1))) {
      end--;
    }
    return value.substring(start, end);
  }

  private static boolean isOptionalWhitespace(char c) {
    return c == ' ' || c == '\t';
  }

  private static @Nullable String header(
      Map<String, ? extends List<String>> headers, String name, boolean joinRepeats) {
    List<String> values = new ArrayList<>();
    for (Map.Entry<String, ? extends List<String>> entry : headers.entrySet()) {
      if (entry.getKey() != null && entry.getKey().equalsIgnoreCase(name) && entry.getValue() != null) {
        for (String value : entry.getValue()) {
          String trimmed = value == null ? "" : trimOptionalWhitespace(value);
          if (!trimmed.isEmpty() && !values.contains(trimmed)) {
            values.add(trimmed);
          }
        }
      }
    }
    if (values.isEmpty()) {
      return null;
    }
    if (values.size() > 1 && !joinRepeats) {
      throw fail(Reason.MALFORMED_HEADER, name + " header appears more than once with different values");
    }
    return String.join(" ", values);
  }

  private static @Nullable String header(Function<String, @Nullable String> headers, String name) {
    String value = headers.apply(name);
    if (value == null) {
      value = headers.apply(capitalised(name));
    }
    return value;
  }

  private static String capitalised(String name) {
    StringBuilder out = new StringBuilder(name.length());
    boolean upper = true;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      out.append(upper ? Character.toUpperCase(c) : c);
      upper = c == '-';
    }
    return out.toString();
  }

  private static WebhookVerificationException fail(Reason reason, String detail) {
    return new WebhookVerificationException(reason, "Webhook refused (" + reason + "): " + detail);
  }

  /** Shows the settings, never the secret. */
  @Override
  public String toString() {
    return "WebhookVerifier{tolerance=" + tolerance.toSeconds() + "s, duplicateWindow="
        + duplicateWindow.toSeconds() + "s, idStore=" + idStore + ", secret=<redacted>}";
  }

  /** Builds a {@link WebhookVerifier}. Not thread-safe. */
  public static final class Builder {
    private @Nullable WebhookSecret secret;
    private Duration tolerance = DEFAULT_TOLERANCE;
    private Duration duplicateWindow = DEFAULT_DUPLICATE_WINDOW;
    private Clock clock = Clock.systemUTC();
    private @Nullable ReplayStore idStore;

    private Builder() {}

    /**
     * Sets the shared secret. Required.
     *
     * @param secret the secret
     * @return this builder
     */
    public Builder secret(WebhookSecret secret) {
      this.secret = Objects.requireNonNull(secret, "secret");
      return this;
    }

    /**
     * Sets the largest distance between {@code webhook-timestamp} and the clock, either way.
     * Default 5 minutes.
     *
     * @param tolerance from 1 second to 1 hour
     * @return this builder
     * @throws IllegalArgumentException if outside that range
     */
    public Builder tolerance(Duration tolerance) {
      Objects.requireNonNull(tolerance, "tolerance");
      if (tolerance.compareTo(Duration.ofSeconds(1)) < 0 || tolerance.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("tolerance must be between 1 s and 1 h, was " + tolerance);
      }
      this.tolerance = tolerance;
      return this;
    }

    /**
     * Sets how long a message id is remembered to recognise redeliveries. Default 24 hours; make it
     * longer than the service's whole redelivery schedule.
     *
     * @param duplicateWindow positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder duplicateWindow(Duration duplicateWindow) {
      Objects.requireNonNull(duplicateWindow, "duplicateWindow");
      if (duplicateWindow.isNegative() || duplicateWindow.isZero()) {
        throw new IllegalArgumentException("duplicateWindow must be positive, was " + duplicateWindow);
      }
      this.duplicateWindow = duplicateWindow;
      return this;
    }

    /**
     * Sets the clock timestamps are checked against; also the default id store's clock. Default
     * {@link Clock#systemUTC()}.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets where message ids are recorded. Default {@link ReplayStore#inMemoryEvicting} with this
     * builder's clock and {@value ReplayStore#DEFAULT_MAX_ENTRIES} entries.
     *
     * @param idStore the store
     * @return this builder
     */
    public Builder idStore(ReplayStore idStore) {
      this.idStore = Objects.requireNonNull(idStore, "idStore");
      return this;
    }

    /**
     * Builds the verifier.
     *
     * @return the verifier
     * @throws IllegalStateException if no secret was set
     */
    public WebhookVerifier build() {
      if (secret == null) {
        throw new IllegalStateException(
            "WebhookVerifier needs the secret: call secret(WebhookSecret.parse(\"whsec_...\"))");
      }
      ReplayStore store = idStore != null
          ? idStore
          : ReplayStore.inMemoryEvicting(clock, ReplayStore.DEFAULT_MAX_ENTRIES);
      return new WebhookVerifier(this, secret, store);
    }
  }
}
