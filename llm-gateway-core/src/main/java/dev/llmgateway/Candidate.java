package dev.llmgateway;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A profile the service suggests.
 *
 * @param profileId the profile id
 * @param name the display name, or null
 * @param headline the headline, or null
 * @param score relevance in [0, 1], or null
 * @param extra fields this SDK version does not know, as plain Java values (maps, lists, strings,
 *     numbers, booleans, null)
 */
public record Candidate(
    String profileId,
    @Nullable String name,
    @Nullable String headline,
    @Nullable Double score,
    Map<String, @Nullable Object> extra) {
  /** Copies {@code extra}. */
  public Candidate {
    extra = Values.copy(extra);
  }
}
