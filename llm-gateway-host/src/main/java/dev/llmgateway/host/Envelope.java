package dev.llmgateway.host;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.llmgateway.host.internal.JsonWriter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The host's JSON response shape, for successes and failures alike:
 *
 * <pre>{@code
 * {"success": true, "message": "OK", "data": {...}, "meta": {"request_id": "4f1c..."}}
 * {"success": false, "message": "Too many requests. Please wait before trying again.",
 *  "data": {"retry_after_seconds": 7}, "meta": {"request_id": "4f1c...", "error_code": "rate_limited"}}
 * }</pre>
 *
 * <p>Every field is always present; {@code data} may be {@code null}. {@code meta} keeps its
 * insertion order. Immutable and thread-safe, provided {@code data} is not changed after the
 * envelope is made. Failures are best built by an {@link ErrorMapper}, which guarantees a
 * user-safe message.
 *
 * @param success whether the call succeeded
 * @param message a short text for the end user
 * @param data the payload: any value the JSON mapper can write, or null
 * @param meta facts about the response, such as {@value #META_REQUEST_ID}; no null keys or values
 */
public record Envelope(boolean success, String message, @Nullable Object data, Map<String, Object> meta) {
  /** The {@code meta} key of the request id. */
  public static final String META_REQUEST_ID = "request_id";
  /** The {@code meta} key of a failure's machine-readable {@link ErrorKind#code() code}. */
  public static final String META_ERROR_CODE = "error_code";
  /** The message of {@link #ok(Object, Map)}. */
  public static final String OK_MESSAGE = "OK";

  /**
   * Copies {@code meta}, keeping its order.
   *
   * @param success whether the call succeeded
   * @param message a short text for the end user
   * @param data the payload, or null
   * @param meta facts about the response
   * @throws NullPointerException if {@code meta} holds a null key or value
   */
  public Envelope {
    Objects.requireNonNull(message, "message");
    meta = copy(meta);
  }

  /**
   * Makes a success envelope with the message {@value #OK_MESSAGE}.
   *
   * @param data the payload, or null
   * @param meta facts about the response, e.g. {@code Map.of(Envelope.META_REQUEST_ID, id)}
   * @return the envelope
   * @throws NullPointerException if {@code meta} holds a null key or value
   */
  public static Envelope ok(@Nullable Object data, Map<String, ?> meta) {
    return new Envelope(true, OK_MESSAGE, data, copy(meta));
  }

  /**
   * Makes a success envelope with empty {@code meta}.
   *
   * @param data the payload, or null
   * @return the envelope
   */
  public static Envelope ok(@Nullable Object data) {
    return ok(data, Map.of());
  }

  /**
   * Makes a failure envelope without data.
   *
   * @param message a short, user-safe text: never an exception message, URL or upstream body
   * @param meta facts about the response, e.g. the request id
   * @return the envelope
   * @throws NullPointerException if {@code meta} holds a null key or value
   */
  public static Envelope error(String message, Map<String, ?> meta) {
    return error(message, null, meta);
  }

  /**
   * Makes a failure envelope.
   *
   * @param message a short, user-safe text: never an exception message, URL or upstream body
   * @param data details the client can act on (e.g. the invalid fields), or null
   * @param meta facts about the response, e.g. the request id
   * @return the envelope
   * @throws NullPointerException if {@code meta} holds a null key or value
   */
  public static Envelope error(String message, @Nullable Object data, Map<String, ?> meta) {
    return new Envelope(false, message, data, copy(meta));
  }

  /**
   * Returns this envelope with one more {@code meta} entry, added last (an existing key keeps its
   * place and takes the new value).
   *
   * @param key the key
   * @param value the value
   * @return a new envelope
   */
  public Envelope withMeta(String key, Object value) {
    Map<String, Object> more = new LinkedHashMap<>(meta);
    more.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return new Envelope(success, message, data, more);
  }

  /**
   * Writes the envelope as JSON with Jackson's default settings, fields in the order {@code
   * success, message, data, meta}. Records, maps, lists and beans in {@code data} are written as
   * Jackson writes them; use {@link #toJson(ObjectMapper)} for types that need modules (e.g.
   * {@code java.time}) or for snake_case names.
   *
   * @return the JSON text
   * @throws IllegalArgumentException if {@code data} or {@code meta} cannot be written as JSON
   */
  public String toJson() {
    return toJson(JsonWriter.mapper());
  }

  /**
   * Writes the envelope as JSON with the host's own mapper.
   *
   * @param mapper the mapper that writes {@code data} and {@code meta}
   * @return the JSON text
   * @throws IllegalArgumentException if {@code data} or {@code meta} cannot be written as JSON
   */
  public String toJson(ObjectMapper mapper) {
    Objects.requireNonNull(mapper, "mapper");
    Map<String, @Nullable Object> fields = new LinkedHashMap<>();
    fields.put("success", success);
    fields.put("message", message);
    fields.put("data", data);
    fields.put("meta", meta);
    return JsonWriter.write(mapper, fields);
  }

  private static Map<String, Object> copy(Map<String, ?> meta) {
    Objects.requireNonNull(meta, "meta");
    if (meta.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> copy = new LinkedHashMap<>();
    meta.forEach((key, value) ->
        copy.put(Objects.requireNonNull(key, "meta key"), Objects.requireNonNull(value, "meta value of " + key)));
    return Collections.unmodifiableMap(copy);
  }
}
