package dev.llmgateway.examples.gateway;

import dev.llmgateway.host.ChatPolicy;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The example hosts' authorization policy, shared by the JDK and the Spring host: only users whose
 * role is one of {@link #CHAT_ROLES} may use the assistant (chat, stream, direct streams,
 * background chats, their sessions), and the assistant is off for the companies the host lists (env {@value
 * GatewayExample#ENV_DISABLED_COMPANIES}, a comma-separated list of company ids). Everything else
 * is refused with {@code 403} before anything is spent. Thread-safe.
 */
public final class ExamplePolicy {
  /** The roles that may use the assistant. */
  public static final Set<String> CHAT_ROLES = Set.of("recruiter", "admin");

  private ExamplePolicy() {}

  /**
   * The example's policy.
   *
   * @param disabledCompanies the companies the assistant is off for; may be empty
   * @return deny by default, {@link #CHAT_ROLES} allowed every action, none of them for a disabled company
   */
  public static ChatPolicy of(Collection<String> disabledCompanies) {
    return ChatPolicy.denyByDefault()
        .allowRoles(CHAT_ROLES, ChatPolicy.Action.ALL)
        .and(ChatPolicy.disabledCompanies(disabledCompanies));
  }

  /**
   * Reads a comma-separated list of company ids, as {@value GatewayExample#ENV_DISABLED_COMPANIES}
   * holds it: blanks around ids and empty entries are ignored.
   *
   * @param commaSeparated the list, or null (none)
   * @return the ids, unmodifiable; empty when none
   */
  public static Set<String> companies(@Nullable String commaSeparated) {
    Set<String> ids = new LinkedHashSet<>();
    if (commaSeparated != null) {
      for (String id : commaSeparated.split(",", -1)) {
        if (!id.isBlank()) {
          ids.add(id.strip());
        }
      }
    }
    return Set.copyOf(ids);
  }
}
