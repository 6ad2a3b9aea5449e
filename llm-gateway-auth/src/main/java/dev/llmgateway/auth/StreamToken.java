package dev.llmgateway.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A stream token minted by a {@link StreamTokenIssuer}, with the URL a browser opens it with.
 *
 * <p>Hosts return {@link #toJson()} (or {@link #toMap()} to their JSON framework) to the browser:
 *
 * <pre>{@code
 * {"stream_token": "eyJ...", "url": "https://llm.example/api/v1/llm-chat/recruiter/chat/stream?token=eyJ...",
 *  "expires_at": "2026-11-20T10:05:00Z", "request_id": "5f0c..."}
 * }</pre>
 *
 * <p>Immutable and thread-safe. {@link #toString()} shows the request id, jti and expiry, never the
 * token or the URL carrying it.
 */
public final class StreamToken {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final String token;
  private final String url;
  private final Instant expiresAt;
  private final String requestId;
  private final String jti;

  StreamToken(String token, String url, Instant expiresAt, String requestId, String jti) {
    this.token = token;
    this.url = url;
    this.expiresAt = expiresAt;
    this.requestId = requestId;
    this.jti = jti;
  }

  /**
   * Returns the stream token. It is a single-use credential: hand it to the browser only, never
   * log it.
   *
   * @return the compact JWT
   */
  public String token() {
    return token;
  }

  /**
   * Returns the URL the browser opens with {@code EventSource}: the service's base URL, the stream
   * path and the token as the {@code token} query parameter, encoded.
   *
   * @return the absolute URL; contains the token
   */
  public String url() {
    return url;
  }

  /**
   * Returns when the token expires; the browser must open the stream before then.
   *
   * @return the {@code exp} claim
   */
  public Instant expiresAt() {
    return expiresAt;
  }

  /**
   * Returns the request id ({@code rid} claim), which the completion webhook echoes as {@code
   * request_id}.
   *
   * @return the request id
   */
  public String requestId() {
    return requestId;
  }

  /**
   * Returns the token's unique id.
   *
   * @return the {@code jti} claim
   */
  public String jti() {
    return jti;
  }

  /**
   * Returns the value for the browser as an ordered map: {@code stream_token}, {@code url}, {@code
   * expires_at} (ISO-8601 UTC text) and {@code request_id}.
   *
   * @return an unmodifiable map of strings
   */
  public Map<String, String> toMap() {
    Map<String, String> map = new LinkedHashMap<>();
    map.put("stream_token", token);
    map.put("url", url);
    map.put("expires_at", expiresAt.toString());
    map.put("request_id", requestId);
    return Collections.unmodifiableMap(map);
  }

  /**
   * Returns {@link #toMap()} as a JSON object.
   *
   * @return the JSON text
   */
  public String toJson() {
    try {
      return MAPPER.writeValueAsString(toMap());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot happen: a map of strings is always writable", e);
    }
  }

  /** Shows everything but the token and the URL carrying it. */
  @Override
  public String toString() {
    return "StreamToken{requestId=" + requestId + ", jti=" + jti + ", expiresAt=" + expiresAt
        + ", token=<redacted>}";
  }
}
