package dev.llmgateway;

import dev.llmgateway.ValidationException.Violation;
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
 * session id is 1 to 128 characters of {@code [A-Za-z0-9_-]}; a list limit is 1 to 100; user ids
 * and roles are not blank; and every value that travels in an HTTP header is printable ASCII (no
 * CR, LF or other control characters), at most 256 characters.
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

  private static final Set<String> INTENTS = Set.of("search", "chat", "user_action");
  private static final Pattern PROFILE_ID = Pattern.compile("^(id_[a-f0-9]{8}|[a-f0-9]{24})$");
  private static final Pattern SESSION_ID = Pattern.compile("^[A-Za-z0-9_-]{1,128}$");
  private static final RequestValidator DEFAULTS = new RequestValidator(DEFAULT_MAX_QUERY_LENGTH);

  private final int maxQueryLength;

  private RequestValidator(int maxQueryLength) {
    this.maxQueryLength = maxQueryLength;
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
    if (maxQueryLength < 1) {
      throw new IllegalArgumentException("maxQueryLength < 1: " + maxQueryLength);
    }
    return maxQueryLength == DEFAULT_MAX_QUERY_LENGTH ? DEFAULTS : new RequestValidator(maxQueryLength);
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
    String query = request.query();
    if (query.isBlank()) {
      violations.add(new Violation("query", "must not be blank"));
    } else {
      int length = query.codePointCount(0, query.length());
      if (length > maxQueryLength) {
        violations.add(
            new Violation("query", "must be at most " + maxQueryLength + " characters, was " + length));
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
    for (String key : request.metadata().keySet()) {
      if (key == null || key.isEmpty()) {
        violations.add(new Violation("metadata", "keys must not be empty"));
        break;
      }
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
}
