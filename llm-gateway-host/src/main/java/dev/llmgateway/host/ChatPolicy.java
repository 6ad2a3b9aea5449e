package dev.llmgateway.host;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Decides whether a user may do what they ask of the {@link ChatGateway}: chat, stream, start a
 * direct stream, chat in the background, list, read or delete sessions. The gateway asks before anything else ({@link
 * ChatGateway.Builder#policy}): a refusal is a {@link ForbiddenException} ({@code 403}, {@link
 * ErrorKind#FORBIDDEN}), audited with {@link dev.llmgateway.AuditEvent.Outcome#FORBIDDEN} and
 * told to the client's shared listener ({@link dev.llmgateway.GatewayListener#callRefused}), with
 * nothing validated, no rate limit permit taken, no credits reserved and nothing sent to the
 * service. A policy that throws refuses too: the request fails ({@code 500}) with nothing spent.
 *
 * <p>The default, {@link #allowAll()}, allows everything (as the gateway did before it had a
 * policy). {@link #denyByDefault()} starts an immutable rule set that allows only what its rules
 * allow:
 *
 * <pre>{@code
 * ChatPolicy policy = ChatPolicy.denyByDefault()
 *     .allowRoles(Set.of("recruiter", "admin"), ChatPolicy.Action.ALL)
 *     .and(ChatPolicy.disabledCompanies(Set.of("acme")));
 * }</pre>
 *
 * <p>The completion webhook is not asked about: it comes from the service, signed, not from a
 * user. Implementations are called on the thread handling the request, for every request, so they
 * must be thread-safe, fast and non-blocking (read the host's flags from memory, not from a
 * database per request). Every policy this interface creates is immutable and thread-safe.
 */
@FunctionalInterface
public interface ChatPolicy {
  /**
   * Decides one request.
   *
   * @param user the authenticated end user, as the host passed it to the gateway (the policy runs
   *     before the user's ids are validated: compare them, do not trust their shape)
   * @param action what the user asks for
   * @param sessionId the session the request names: the session read or deleted, or the one a chat
   *     or stream continues; null when it names none (a new conversation, a listing)
   * @return true to let the request go on, false to refuse it with {@code 403}
   */
  boolean allows(UserContext user, Action action, @Nullable String sessionId);

  /**
   * Returns a policy that allows a request only when this one and {@code other} both do; {@code
   * other} is not asked when this one refuses.
   *
   * @param other the second policy
   * @return the combined policy, immutable and thread-safe when both are
   */
  default ChatPolicy and(ChatPolicy other) {
    Objects.requireNonNull(other, "other");
    return (user, action, sessionId) -> allows(user, action, sessionId) && other.allows(user, action, sessionId);
  }

  /**
   * Returns the policy that allows every request: the gateway's default.
   *
   * @return the shared allow-all policy
   */
  static ChatPolicy allowAll() {
    return Rules.ALLOW_ALL;
  }

  /**
   * Starts a rule set that refuses every request no rule allows. With no rules it refuses
   * everything.
   *
   * @return an empty, immutable rule set
   */
  static Rules denyByDefault() {
    return Rules.NONE;
  }

  /**
   * Returns a policy that refuses every request of a user of one of these companies (the assistant
   * is off for them) and allows every other; combine it with {@link #and}.
   *
   * @param companyIds the companies, compared exactly with {@link UserContext#companyId()}; may be empty
   * @return the policy, immutable (the ids are copied) and thread-safe
   */
  static ChatPolicy disabledCompanies(Collection<String> companyIds) {
    Set<String> disabled = Set.copyOf(Objects.requireNonNull(companyIds, "companyIds"));
    return (user, action, sessionId) -> !disabled.contains(user.companyId());
  }

  /** What a user asks of the gateway: one per {@link ChatGateway} entry point a user calls. */
  enum Action {
    /** A chat message answered at once ({@link ChatGateway#chat}). */
    CHAT(Operation.CHAT),
    /** A chat answer streamed through the host ({@link ChatGateway#stream}, relayed by {@link SseRelay}). */
    STREAM(Operation.CHAT_STREAM),
    /** A direct stream's start: the stream token the browser opens ({@link ChatGateway#initDirectStream}). */
    DIRECT_STREAM_INIT(Operation.CHAT_STREAM),
    /**
     * A chat answered in the background, its events published to the host's {@link ChatEventPublisher}
     * ({@link ChatGateway#chatInBackground}).
     */
    BACKGROUND_CHAT(Operation.CHAT_STREAM),
    /** A listing of the user's sessions ({@link ChatGateway#listSessions}). */
    LIST_SESSIONS(Operation.LIST_SESSIONS),
    /** A reading of one session ({@link ChatGateway#getSession}). */
    GET_SESSION(Operation.GET_SESSION),
    /** A deletion of one session ({@link ChatGateway#deleteSession}). */
    DELETE_SESSION(Operation.DELETE_SESSION);

    /** Every action, for rules that cover them all. Unmodifiable. */
    public static final Set<Action> ALL = Collections.unmodifiableSet(EnumSet.allOf(Action.class));

    /** Answering a user: the actions that send a message (and cost credits). Unmodifiable. */
    public static final Set<Action> MESSAGES =
        Collections.unmodifiableSet(EnumSet.of(CHAT, STREAM, DIRECT_STREAM_INIT, BACKGROUND_CHAT));

    /** The session actions: list, read, delete. Unmodifiable. */
    public static final Set<Action> SESSIONS =
        Collections.unmodifiableSet(EnumSet.of(LIST_SESSIONS, GET_SESSION, DELETE_SESSION));

    private final Operation operation;

    Action(Operation operation) {
      this.operation = operation;
    }

    /**
     * Returns the service operation this action is audited and counted as.
     *
     * @return e.g. {@link Operation#CHAT_STREAM} for {@link #STREAM} and {@link #DIRECT_STREAM_INIT}
     */
    public Operation operation() {
      return operation;
    }
  }

  /**
   * A deny-by-default rule set: a request is allowed when a rule for its action allows its user.
   * Immutable and thread-safe: each {@code allow...} method returns a new rule set and leaves this
   * one unchanged, so a rule set can be shared and extended.
   */
  final class Rules implements ChatPolicy {
    static final ChatPolicy ALLOW_ALL = new ChatPolicy() {
      @Override
      public boolean allows(UserContext user, Action action, @Nullable String sessionId) {
        return true;
      }

      @Override
      public String toString() {
        return "ChatPolicy.allowAll()";
      }
    };

    static final Rules NONE = new Rules(List.of());

    private final List<Rule> rules;

    private Rules(List<Rule> rules) {
      this.rules = rules;
    }

    /**
     * Returns a rule set that also allows {@code actions} to every user {@code who} accepts.
     *
     * @param actions the actions the rule covers, not empty (e.g. {@link Action#ALL})
     * @param who accepts the users the rule allows; called on request threads, must be thread-safe
     * @return a new rule set
     * @throws IllegalArgumentException if {@code actions} is empty
     */
    public Rules allow(Set<Action> actions, Predicate<UserContext> who) {
      Objects.requireNonNull(who, "who");
      return with(new Rule(actionsOf(actions), who, "users matching " + who));
    }

    /**
     * Returns a rule set that also allows {@code actions} to users whose {@link UserContext#role()}
     * is one of {@code roles} (compared exactly).
     *
     * @param roles the roles, not empty, none blank
     * @param actions the actions the rule covers, not empty (e.g. {@link Action#ALL})
     * @return a new rule set
     * @throws IllegalArgumentException if {@code roles} or {@code actions} is empty, or a role is blank
     */
    public Rules allowRoles(Set<String> roles, Set<Action> actions) {
      Set<String> allowed = Set.copyOf(Objects.requireNonNull(roles, "roles"));
      if (allowed.isEmpty()) {
        throw new IllegalArgumentException("roles is empty: name at least one role");
      }
      for (String role : allowed) {
        if (role.isBlank()) {
          throw new IllegalArgumentException("roles has a blank role");
        }
      }
      return with(new Rule(actionsOf(actions), user -> allowed.contains(user.role()), "roles " + allowed));
    }

    @Override
    public boolean allows(UserContext user, Action action, @Nullable String sessionId) {
      Objects.requireNonNull(action, "action");
      for (Rule rule : rules) {
        if (rule.actions.contains(action) && rule.who.test(user)) {
          return true;
        }
      }
      return false;
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder("ChatPolicy.denyByDefault()");
      for (Rule rule : rules) {
        b.append(".allow(").append(rule.actions).append(", ").append(rule.description).append(')');
      }
      return b.toString();
    }

    private Rules with(Rule rule) {
      List<Rule> more = new ArrayList<>(rules);
      more.add(rule);
      return new Rules(List.copyOf(more));
    }

    private static Set<Action> actionsOf(Set<Action> actions) {
      Objects.requireNonNull(actions, "actions");
      if (actions.isEmpty()) {
        throw new IllegalArgumentException("actions is empty: name at least one action (Action.ALL for every one)");
      }
      return Collections.unmodifiableSet(EnumSet.copyOf(actions));
    }

    private record Rule(Set<Action> actions, Predicate<UserContext> who, String description) {}
  }
}
