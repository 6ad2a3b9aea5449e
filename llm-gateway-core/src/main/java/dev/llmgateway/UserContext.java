package dev.llmgateway;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The end user on whose behalf the host calls the service: the host authenticated this user, the
 * SDK forwards the identity (as scheme-1 headers or scheme-2 JWT claims).
 *
 * <p>Immutable and thread-safe. The values are checked when a call is made (non-blank, at most 256
 * characters of printable ASCII, as an HTTP header needs: no CR, LF, NUL or other control
 * character, nothing beyond ASCII), so a bad value yields a {@link ValidationException} listing
 * every problem.
 *
 * <pre>{@code
 * UserContext user = UserContext.builder()
 *     .userId("123").companyId("456").role("recruiter").companyRole("owner")
 *     .build();
 * }</pre>
 */
public final class UserContext {
  private final String userId;
  private final String companyId;
  private final String role;
  private final @Nullable String companyRole;
  /** Computed once: the user is a cache key on every request (service-JWT cache). */
  private final int hash;

  private UserContext(Builder builder) {
    this.userId = Objects.requireNonNull(builder.userId, "userId == null: set UserContext.Builder.userId");
    this.companyId =
        Objects.requireNonNull(builder.companyId, "companyId == null: set UserContext.Builder.companyId");
    this.role = Objects.requireNonNull(builder.role, "role == null: set UserContext.Builder.role");
    this.companyRole = builder.companyRole;
    this.hash = Objects.hash(userId, companyId, role, companyRole);
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
   * Starts a builder holding this context's values.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    return new Builder().userId(userId).companyId(companyId).role(role).companyRole(companyRole);
  }

  /**
   * Returns the end user's id ({@code X-User-Id}, JWT {@code sub}).
   *
   * @return the user id
   */
  public String userId() {
    return userId;
  }

  /**
   * Returns the user's company id ({@code X-Company-Id}, JWT {@code company_id}).
   *
   * @return the company id
   */
  public String companyId() {
    return companyId;
  }

  /**
   * Returns the user's role, e.g. {@code client}, {@code recruiter}, {@code admin}.
   *
   * @return the role
   */
  public String role() {
    return role;
  }

  /**
   * Returns the user's role in the company, e.g. {@code owner}, {@code member}.
   *
   * @return the company role, or null when not set
   */
  public @Nullable String companyRole() {
    return companyRole;
  }

  @Override
  public boolean equals(Object o) {
    return o == this || (o instanceof UserContext
        && ((UserContext) o).hash == hash
        && ((UserContext) o).userId.equals(userId)
        && ((UserContext) o).companyId.equals(companyId)
        && ((UserContext) o).role.equals(role)
        && Objects.equals(((UserContext) o).companyRole, companyRole));
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "UserContext{userId=" + userId + ", companyId=" + companyId + ", role=" + role
        + (companyRole == null ? "" : ", companyRole=" + companyRole) + "}";
  }

  /** Builds a {@link UserContext}. Not thread-safe. */
  public static final class Builder {
    private @Nullable String userId;
    private @Nullable String companyId;
    private @Nullable String role;
    private @Nullable String companyRole;

    private Builder() {}

    /**
     * Sets the end user's id. Required.
     *
     * @param userId the id, as a string even when numeric
     * @return this builder
     */
    public Builder userId(String userId) {
      this.userId = Objects.requireNonNull(userId, "userId");
      return this;
    }

    /**
     * Sets the user's company id. Required.
     *
     * @param companyId the id, as a string even when numeric
     * @return this builder
     */
    public Builder companyId(String companyId) {
      this.companyId = Objects.requireNonNull(companyId, "companyId");
      return this;
    }

    /**
     * Sets the user's role. Required.
     *
     * @param role e.g. {@code client}, {@code recruiter}, {@code admin}
     * @return this builder
     */
    public Builder role(String role) {
      this.role = Objects.requireNonNull(role, "role");
      return this;
    }

    /**
     * Sets the user's role in the company. Optional.
     *
     * @param companyRole e.g. {@code owner}, {@code member}; null to leave it out
     * @return this builder
     */
    public Builder companyRole(@Nullable String companyRole) {
      this.companyRole = companyRole;
      return this;
    }

    /**
     * Builds the context.
     *
     * @return the context
     * @throws NullPointerException if user id, company id or role was not set
     */
    public UserContext build() {
      return new UserContext(this);
    }
  }
}
