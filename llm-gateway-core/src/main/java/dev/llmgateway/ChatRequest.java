package dev.llmgateway;

import dev.llmgateway.internal.Text;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One chat message to the service: the body of {@code POST .../chat} and {@code .../chat/stream}.
 *
 * <p>Immutable and thread-safe. Building does not validate; every call does, before any byte is
 * sent, and reports all problems at once in a {@link ValidationException} (see {@link
 * RequestValidator} for the rules).
 *
 * <pre>{@code
 * ChatRequest request = ChatRequest.builder()
 *     .query("Find senior Rails engineers in Berlin")
 *     .userIntent(Intent.SEARCH)
 *     .build();
 * }</pre>
 */
public final class ChatRequest {
  private final String query;
  private final @Nullable String sessionId;
  private final @Nullable String userIntent;
  private final @Nullable String profileId;
  private final Map<String, @Nullable Object> metadata;

  private ChatRequest(Builder builder) {
    this.query = Objects.requireNonNull(builder.query, "query == null: set ChatRequest.Builder.query");
    this.sessionId = builder.sessionId;
    this.userIntent = builder.userIntent;
    this.profileId = builder.profileId;
    this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(builder.metadata));
  }

  /**
   * Returns a request holding only a query.
   *
   * @param query the user's message
   * @return the request
   */
  public static ChatRequest of(String query) {
    return builder().query(query).build();
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
   * Starts a builder holding this request's values.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    Builder b = new Builder().query(query).sessionId(sessionId).profileId(profileId).metadata(metadata);
    b.userIntent = userIntent;
    return b;
  }

  /**
   * Returns the user's message.
   *
   * @return the query text
   */
  public String query() {
    return query;
  }

  /**
   * Returns the session to continue.
   *
   * @return the session id, or null to start a new conversation
   */
  public @Nullable String sessionId() {
    return sessionId;
  }

  /**
   * Returns the intent the caller asserts, as the service spells it.
   *
   * @return {@code search}, {@code chat}, {@code user_action} (others fail validation), or null
   */
  public @Nullable String userIntent() {
    return userIntent;
  }

  /**
   * Returns the profile the message is about.
   *
   * @return {@code id_} plus 8 hex digits, or 24 hex digits; or null
   */
  public @Nullable String profileId() {
    return profileId;
  }

  /**
   * Returns free-form metadata sent with the request.
   *
   * @return an unmodifiable map of JSON-compatible values; empty when none (nested maps and lists
   *     are the caller's own objects, not copies)
   */
  public Map<String, @Nullable Object> metadata() {
    return metadata;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ChatRequest)) {
      return false;
    }
    ChatRequest that = (ChatRequest) o;
    return query.equals(that.query)
        && Objects.equals(sessionId, that.sessionId)
        && Objects.equals(userIntent, that.userIntent)
        && Objects.equals(profileId, that.profileId)
        && metadata.equals(that.metadata);
  }

  @Override
  public int hashCode() {
    return Objects.hash(query, sessionId, userIntent, profileId, metadata);
  }

  /** Shows at most the first 50 characters of the query. */
  @Override
  public String toString() {
    return "ChatRequest{query=\"" + Text.preview(query) + "\""
        + (sessionId == null ? "" : ", sessionId=" + sessionId)
        + (userIntent == null ? "" : ", userIntent=" + userIntent)
        + (profileId == null ? "" : ", profileId=" + profileId)
        + (metadata.isEmpty() ? "" : ", metadata=" + metadata.keySet())
        + "}";
  }

  /** Builds a {@link ChatRequest}. Not thread-safe. */
  public static final class Builder {
    private @Nullable String query;
    private @Nullable String sessionId;
    private @Nullable String userIntent;
    private @Nullable String profileId;
    private final Map<String, @Nullable Object> metadata = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Sets the user's message. Required; at most 2000 characters by default, with a UTF-8
     * encoding (no unpaired surrogate).
     *
     * @param query the text
     * @return this builder
     */
    public Builder query(String query) {
      this.query = Objects.requireNonNull(query, "query");
      return this;
    }

    /**
     * Sets the session to continue.
     *
     * @param sessionId the id returned by an earlier response, or null for a new conversation
     * @return this builder
     */
    public Builder sessionId(@Nullable String sessionId) {
      this.sessionId = sessionId;
      return this;
    }

    /**
     * Sets the intent the caller asserts.
     *
     * @param intent {@link Intent#SEARCH}, {@link Intent#CHAT} or {@link Intent#USER_ACTION}; null
     *     to let the service decide
     * @return this builder
     * @throws IllegalArgumentException for {@link Intent#UNKNOWN}
     */
    public Builder userIntent(@Nullable Intent intent) {
      if (intent == Intent.UNKNOWN) {
        throw new IllegalArgumentException("userIntent UNKNOWN cannot be sent; use null to omit it");
      }
      this.userIntent = intent == null ? null : intent.wireValue();
      return this;
    }

    /**
     * Sets the intent as the service spells it, e.g. when passing through a browser's request.
     * Values other than {@code search}, {@code chat} and {@code user_action} fail validation.
     *
     * @param intent the wire value, or null
     * @return this builder
     */
    public Builder userIntent(@Nullable String intent) {
      this.userIntent = intent;
      return this;
    }

    /**
     * Sets the profile the message is about.
     *
     * @param profileId {@code id_} plus 8 lower-case hex digits, or 24 hex digits; or null
     * @return this builder
     */
    public Builder profileId(@Nullable String profileId) {
      this.profileId = profileId;
      return this;
    }

    /**
     * Replaces the metadata. The map is copied; nested maps and lists are not, so do not change
     * them while a call is made with this request. Each call checks the metadata (see {@link
     * RequestValidator}): only JSON values, no NaN or infinity, no text with an unpaired surrogate,
     * nothing that contains itself, at most {@value RequestValidator#DEFAULT_MAX_METADATA_DEPTH}
     * levels deep and {@value RequestValidator#DEFAULT_MAX_METADATA_BYTES} bytes as JSON by default ({@link
     * LlmGatewayClient.Builder#maxMetadataDepth(int)}, {@link
     * LlmGatewayClient.Builder#maxMetadataBytes(int)}).
     *
     * @param metadata JSON-compatible values: strings, finite numbers, booleans, null, maps with
     *     string keys, collections and object arrays
     * @return this builder
     */
    public Builder metadata(Map<String, ? extends @Nullable Object> metadata) {
      this.metadata.clear();
      this.metadata.putAll(metadata);
      return this;
    }

    /**
     * Adds one metadata entry; see {@link #metadata(Map)} for what a call accepts.
     *
     * @param key the key, not empty
     * @param value a JSON-compatible value
     * @return this builder
     */
    public Builder putMetadata(String key, @Nullable Object value) {
      this.metadata.put(Objects.requireNonNull(key, "key"), value);
      return this;
    }

    /**
     * Builds the request.
     *
     * @return the request
     * @throws NullPointerException if no query was set
     */
    public ChatRequest build() {
      return new ChatRequest(this);
    }
  }
}
