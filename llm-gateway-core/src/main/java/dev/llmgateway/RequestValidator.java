package dev.llmgateway;

import dev.llmgateway.ValidationException.Violation;
import dev.llmgateway.internal.Json;
import dev.llmgateway.internal.Text;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The input rules every call is checked against before any byte is sent. The client applies it
 * itself; hosts can call it earlier (e.g. to validate a browser's request before reserving
 * credits) and the auth module uses it before minting a stream token.
 *
 * <p>The rules: the query is required, not blank and at most {@link #maxQueryLength()} code points
 * (default {@value #DEFAULT_MAX_QUERY_LENGTH}); the user intent is one of {@code search}, {@code
 * chat}, {@code user_action}; a profile id matches {@code ^(id_[a-f0-9]{8}|[a-f0-9]{24})$}; a
 * session id is 1 to 128 characters of {@code [A-Za-z0-9_-]}; a list limit is 1 to 100 and a list
 * cursor at most {@value #MAX_CURSOR_LENGTH} characters; user ids and roles are not blank; and
 * every value that travels in an HTTP header is printable ASCII (no CR, LF, NUL or other control
 * characters, nothing beyond ASCII), at most 256 characters.
 *
 * <p>Text must have a UTF-8 encoding: a query, cursor or metadata string holding an unpaired UTF-16
 * surrogate is refused rather than sent altered.
 *
 * <p>Metadata holds only JSON values: strings, finite numbers ({@code Integer}, {@code Long},
 * {@code Short}, {@code Byte}, {@code Double}, {@code Float}, {@code BigInteger}, {@code
 * BigDecimal}; not NaN or infinite), booleans, null, maps with non-null string keys (top-level keys
 * not empty), collections and object arrays; no map or list inside itself; at most {@link
 * #maxMetadataDepth()} maps and lists deep, the metadata object itself counting as one (default
 * {@value #DEFAULT_MAX_METADATA_DEPTH}); and at most {@link #maxMetadataBytes()} bytes once
 * written as JSON (default {@value #DEFAULT_MAX_METADATA_BYTES}). Checking it walks the metadata
 * once and stops at the first problem, so its cost is bounded by the byte limit whatever the host
 * passes (a map that contains itself, a million-level nesting, shared sub-lists).
 *
 * <p>Immutable and thread-safe.
 */
public final class RequestValidator {
  /** Default longest query, in Unicode code points. */
  public static final int DEFAULT_MAX_QUERY_LENGTH = 2000;
  /** Longest session id the service accepts. */
  public static final int MAX_SESSION_ID_LENGTH = 128;
  /** Smallest page size of {@code sessions().list}. */
  public static final int MIN_LIST_LIMIT = 1;
  /** Largest page size of {@code sessions().list}. */
  public static final int MAX_LIST_LIMIT = 100;
  /** Longest value put into an HTTP header. */
  public static final int MAX_HEADER_VALUE_LENGTH = 256;
  /** Default deepest nesting of metadata, in maps and lists (the metadata object is level 1). */
  public static final int DEFAULT_MAX_METADATA_DEPTH = 16;
  /** Largest value {@link Builder#maxMetadataDepth(int)} accepts. */
  public static final int MAX_METADATA_DEPTH_LIMIT = 100;
  /** Default largest metadata, in bytes of its UTF-8 JSON encoding. */
  public static final int DEFAULT_MAX_METADATA_BYTES = 64 * 1024;
  /** Longest {@code sessions().list} cursor. */
  public static final int MAX_CURSOR_LENGTH = 1024;
  /**
   * Longest direct stream URL accepted (a stream token for a query of the default longest length
   * takes under 20,000 characters).
   */
  public static final int MAX_STREAM_URL_LENGTH = 64 * 1024;

  private static final Set<String> INTENTS = Set.of("search", "chat", "user_action");
  private static final Pattern PROFILE_ID = Pattern.compile("^(id_[a-f0-9]{8}|[a-f0-9]{24})$");
  private static final Pattern SESSION_ID = Pattern.compile("^[A-Za-z0-9_-]{1,128}$");
  private static final RequestValidator DEFAULTS = new Builder().build();

  private final int maxQueryLength;
  private final int maxMetadataDepth;
  private final int maxMetadataBytes;

  private RequestValidator(Builder builder) {
    this.maxQueryLength = builder.maxQueryLength;
    this.maxMetadataDepth = builder.maxMetadataDepth;
    this.maxMetadataBytes = builder.maxMetadataBytes;
  }

  /**
   * Returns the validator with the service's default limits.
   *
   * @return the shared default validator
   */
  public static RequestValidator ofDefaults() {
    return DEFAULTS;
  }

  /**
   * Returns a validator allowing queries of at most {@code maxQueryLength} code points.
   *
   * @param maxQueryLength the limit, at least 1
   * @return a validator
   * @throws IllegalArgumentException if {@code maxQueryLength < 1}
   */
  public static RequestValidator withMaxQueryLength(int maxQueryLength) {
    return builder().maxQueryLength(maxQueryLength).build();
  }

  /**
   * Starts a builder with every limit at its default.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the longest query accepted.
   *
   * @return the limit in code points
   */
  public int maxQueryLength() {
    return maxQueryLength;
  }

  /**
   * Returns the deepest metadata accepted.
   *
   * @return the limit in nested maps and lists, the metadata object counting as one
   */
  public int maxMetadataDepth() {
    return maxMetadataDepth;
  }

  /**
   * Returns the largest metadata accepted.
   *
   * @return the limit in bytes of the metadata's UTF-8 JSON encoding
   */
  public int maxMetadataBytes() {
    return maxMetadataBytes;
  }

  /**
   * Checks a chat request and its user, and throws when anything is wrong.
   *
   * @param request the request
   * @param user the user
   * @throws ValidationException listing every violation
   */
  public void validate(ChatRequest request, UserContext user) {
    List<Violation> violations = new ArrayList<>();
    checkRequest(request, violations);
    checkUser(user, violations);
    throwIfAny(violations, null);
  }

  /**
   * Checks a chat request (not its user).
   *
   * @param request the request
   * @param violations where violations are added
   */
  public void checkRequest(ChatRequest request, List<Violation> violations) {
    checkFields(request, violations);
    Json.checkMetadata(request.metadata(), maxMetadataDepth, maxMetadataBytes, violations);
  }

  /**
   * Checks a chat request like {@link #checkRequest} and, when it is valid, returns its JSON body:
   * the metadata is checked as it is written, so a call walks it once.
   *
   * @return the body, or null when a violation was added
   */
  byte @Nullable [] checkAndEncode(ChatRequest request, List<Violation> violations) {
    int before = violations.size();
    checkFields(request, violations);
    if (violations.size() > before) {
      Json.checkMetadata(request.metadata(), maxMetadataDepth, maxMetadataBytes, violations);
      return null;
    }
    return Json.chatRequestBody(request, maxMetadataDepth, maxMetadataBytes, violations);
  }

  private void checkFields(ChatRequest request, List<Violation> violations) {
    String query = request.query();
    if (query.isBlank()) {
      violations.add(new Violation("query", "must not be blank"));
    } else {
      int length = query.codePointCount(0, query.length());
      if (length > maxQueryLength) {
        violations.add(
            new Violation("query", "must be at most " + maxQueryLength + " characters, was " + length));
      } else {
        checkEncodable("query", query, violations);
      }
    }
    if (request.sessionId() != null) {
      checkSessionId("session_id", request.sessionId(), violations);
    }
    String intent = request.userIntent();
    if (intent != null && !INTENTS.contains(intent)) {
      violations.add(
          new Violation("user_intent", "must be one of search, chat, user_action, was \"" + Text.preview(intent) + "\""));
    }
    String profileId = request.profileId();
    if (profileId != null && !PROFILE_ID.matcher(profileId).matches()) {
      violations.add(new Violation("profile_id", "must be id_ followed by 8 hex digits, or 24 hex digits"));
    }
  }

  /**
   * Checks a user context: ids and role not blank, every value header-safe.
   *
   * @param user the user
   * @param violations where violations are added
   */
  public void checkUser(UserContext user, List<Violation> violations) {
    checkHeaderValue("user.user_id", user.userId(), violations);
    checkHeaderValue("user.company_id", user.companyId(), violations);
    checkHeaderValue("user.role", user.role(), violations);
    if (user.companyRole() != null) {
      checkHeaderValue("user.company_role", user.companyRole(), violations);
    }
  }

  /**
   * Checks a session id: 1 to 128 characters of {@code [A-Za-z0-9_-]}.
   *
   * @param field the field name to report
   * @param sessionId the id
   * @param violations where violations are added
   */
  public void checkSessionId(String field, @Nullable String sessionId, List<Violation> violations) {
    if (sessionId == null || sessionId.isBlank()) {
      violations.add(new Violation(field, "must not be blank"));
    } else if (sessionId.length() > MAX_SESSION_ID_LENGTH) {
      violations.add(new Violation(field, "must be at most " + MAX_SESSION_ID_LENGTH + " characters"));
    } else if (!SESSION_ID.matcher(sessionId).matches()) {
      violations.add(new Violation(field, "may contain only letters, digits, '_' and '-'"));
    }
  }

  /**
   * Checks a page size of {@code sessions().list}.
   *
   * @param limit the page size
   * @param violations where violations are added
   */
  public void checkListLimit(int limit, List<Violation> violations) {
    if (limit < MIN_LIST_LIMIT || limit > MAX_LIST_LIMIT) {
      violations.add(
          new Violation("limit", "must be between " + MIN_LIST_LIMIT + " and " + MAX_LIST_LIMIT + ", was " + limit));
    }
  }

  /**
   * Checks a {@code sessions().list} cursor: at most {@value #MAX_CURSOR_LENGTH} characters with a
   * UTF-8 encoding. Null or empty means the first page.
   *
   * @param cursor the cursor, or null
   * @param violations where violations are added
   */
  public void checkCursor(@Nullable String cursor, List<Violation> violations) {
    if (cursor == null) {
      return;
    }
    if (cursor.length() > MAX_CURSOR_LENGTH) {
      violations.add(new Violation("cursor", "must be at most " + MAX_CURSOR_LENGTH + " characters"));
    } else {
      checkEncodable("cursor", cursor, violations);
    }
  }

  private static void checkEncodable(String field, String text, List<Violation> violations) {
    int at = Text.unpairedSurrogate(text);
    if (at >= 0) {
      violations.add(new Violation(field, "must have a UTF-8 encoding: it holds an unpaired UTF-16 surrogate at index " + at));
    }
  }

  /**
   * Checks a value that will travel in an HTTP header: not blank, printable ASCII, at most {@value
   * #MAX_HEADER_VALUE_LENGTH} characters. The value itself is never echoed in the violation.
   *
   * @param field the field name to report
   * @param value the value
   * @param violations where violations are added
   */
  public void checkHeaderValue(String field, @Nullable String value, List<Violation> violations) {
    if (value == null || value.isBlank()) {
      violations.add(new Violation(field, "must not be blank"));
    } else if (value.length() > MAX_HEADER_VALUE_LENGTH) {
      violations.add(new Violation(field, "must be at most " + MAX_HEADER_VALUE_LENGTH + " characters"));
    } else if (!Text.isHeaderSafe(value)) {
      violations.add(
          new Violation(field, "must be printable ASCII without CR, LF or other control characters"));
    }
  }

  /**
   * Throws a {@link ValidationException} when {@code violations} is not empty.
   *
   * @param violations the violations collected
   * @param requestId the request id to put on the exception, or null
   * @throws ValidationException when there is at least one violation
   */
  public static void throwIfAny(List<Violation> violations, @Nullable String requestId) {
    if (!violations.isEmpty()) {
      throw new ValidationException(violations, requestId);
    }
  }

  /** Builds a {@link RequestValidator}. Not thread-safe. */
  public static final class Builder {
    private int maxQueryLength = DEFAULT_MAX_QUERY_LENGTH;
    private int maxMetadataDepth = DEFAULT_MAX_METADATA_DEPTH;
    private int maxMetadataBytes = DEFAULT_MAX_METADATA_BYTES;

    private Builder() {}

    /**
     * Sets the longest query accepted. Default {@value #DEFAULT_MAX_QUERY_LENGTH}.
     *
     * @param maxQueryLength the limit in code points, at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxQueryLength(int maxQueryLength) {
      this.maxQueryLength = checkMaxQueryLength(maxQueryLength);
      return this;
    }

    /**
     * Sets the deepest metadata accepted. Default {@value #DEFAULT_MAX_METADATA_DEPTH}.
     *
     * @param maxMetadataDepth nested maps and lists, the metadata object counting as one; 1 to
     *     {@value #MAX_METADATA_DEPTH_LIMIT}
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder maxMetadataDepth(int maxMetadataDepth) {
      this.maxMetadataDepth = checkMaxMetadataDepth(maxMetadataDepth);
      return this;
    }

    /**
     * Sets the largest metadata accepted. Default {@value #DEFAULT_MAX_METADATA_BYTES}.
     *
     * @param maxMetadataBytes bytes of the metadata's UTF-8 JSON encoding, at least 2 (the size of
     *     {@code {}})
     * @return this builder
     * @throws IllegalArgumentException if below 2
     */
    public Builder maxMetadataBytes(int maxMetadataBytes) {
      this.maxMetadataBytes = checkMaxMetadataBytes(maxMetadataBytes);
      return this;
    }

    /**
     * Builds the validator.
     *
     * @return the validator
     */
    public RequestValidator build() {
      return new RequestValidator(this);
    }
  }

  static int checkMaxQueryLength(int maxQueryLength) {
    if (maxQueryLength < 1) {
      throw new IllegalArgumentException("maxQueryLength < 1: " + maxQueryLength);
    }
    return maxQueryLength;
  }

  static int checkMaxMetadataDepth(int maxMetadataDepth) {
    if (maxMetadataDepth < 1 || maxMetadataDepth > MAX_METADATA_DEPTH_LIMIT) {
      throw new IllegalArgumentException(
          "maxMetadataDepth must be 1 to " + MAX_METADATA_DEPTH_LIMIT + ": " + maxMetadataDepth);
    }
    return maxMetadataDepth;
  }

  static int checkMaxMetadataBytes(int maxMetadataBytes) {
    if (maxMetadataBytes < 2) {
      throw new IllegalArgumentException("maxMetadataBytes < 2: " + maxMetadataBytes);
    }
    return maxMetadataBytes;
  }
}
