package dev.llmgateway;

import java.io.Serializable;
import java.util.List;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Input was refused before any byte was sent. Lists every {@linkplain #violations() violation},
 * not only the first one. {@link #isRetryable()} is false: fix the input first. Immutable and
 * thread-safe.
 */
public final class ValidationException extends LlmGatewayException {
  private static final long serialVersionUID = 1L;

  @SuppressWarnings("serial") // List.copyOf of serializable records: serializable
  private final List<Violation> violations;

  /**
   * Creates a validation exception.
   *
   * @param violations the violations found; at least one
   * @param requestId the request id of the refused call, or null
   * @throws IllegalArgumentException if {@code violations} is empty
   */
  public ValidationException(List<Violation> violations, @Nullable String requestId) {
    super(describe(violations), requestId, 0, null);
    if (violations.isEmpty()) {
      throw new IllegalArgumentException("violations must not be empty");
    }
    this.violations = List.copyOf(violations);
  }

  /**
   * Returns every violation found, in the order the fields were checked.
   *
   * @return an immutable, non-empty list
   */
  public List<Violation> violations() {
    return violations;
  }

  private static String describe(List<Violation> violations) {
    return "Invalid request: "
        + violations.stream().map(Violation::toString).collect(Collectors.joining("; "));
  }

  /**
   * One refused field.
   *
   * @param field the field, in wire spelling where one exists (e.g. {@code query},
   *     {@code user.user_id})
   * @param reason why it was refused, safe to show to the end user
   */
  public record Violation(String field, String reason) implements Serializable {
    @Override
    public String toString() {
      return field + ": " + reason;
    }
  }
}
