package dev.llmgateway.sandbox.internal;

import dev.llmgateway.internal.Text;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The simulated model: turns a query into an intent, an answer, candidates, actions and token
 * usage. Every result is a function of its arguments only, so two sandboxes answer alike and a
 * streamed answer equals the synchronous one.
 *
 * <p>Stateless and thread-safe.
 */
final class SandboxModel {
  /** The {@code model} the sandbox reports. */
  static final String MODEL = "sandbox-1";
  /** Prompt tokens added to the query's word count, standing in for the system prompt. */
  static final int PROMPT_OVERHEAD_TOKENS = 20;
  /** How many candidates a search returns. */
  static final int CANDIDATE_COUNT = 3;
  /** Longest session title, in code points, before the ellipsis. */
  static final int TITLE_CODE_POINTS = 40;

  static final String SEARCH = "search";
  static final String CHAT = "chat";
  static final String USER_ACTION = "user_action";

  private static final int WORDS = Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;
  private static final Pattern ACTION_WORDS =
      Pattern.compile("\\b(?:shortlist\\w*|invit\\w*|add\\s+(?:\\S+\\s+){0,5}?to)\\b", WORDS);
  private static final Pattern INVITE_WORDS = Pattern.compile("\\binvit\\w*", WORDS);
  private static final Pattern SEARCH_WORDS =
      Pattern.compile(
          "\\b(?:find\\w*|search\\w*|look(?:ing)?\\s+for|candidates?|engineers?|developers?)\\b", WORDS);
  private static final Pattern LOCATION = Pattern.compile("\\bin\\s+(\\p{Lu}[\\p{L}'-]*)");

  private record Skill(Pattern pattern, String label) {
    Skill(String regex, String label) {
      this(Pattern.compile(regex, WORDS), label);
    }
  }

  private static final List<Skill> SKILLS =
      List.of(
          new Skill("\\brails\\b", "Rails"),
          new Skill("\\bruby\\b", "Ruby"),
          new Skill("\\bjava\\b", "Java"),
          new Skill("\\bkotlin\\b", "Kotlin"),
          new Skill("\\bpython\\b", "Python"),
          new Skill("\\bgolang\\b", "Go"),
          new Skill("\\brust\\b", "Rust"),
          new Skill("\\breact\\b", "React"),
          new Skill("\\btypescript\\b", "TypeScript"),
          new Skill("\\bjavascript\\b", "JavaScript"),
          new Skill("\\bnode(?:\\.?js)?\\b", "Node.js"),
          new Skill("\\bios\\b", "iOS"),
          new Skill("\\bandroid\\b", "Android"),
          new Skill("\\bdevops\\b", "DevOps"),
          new Skill("\\bdata\\b", "Data"),
          new Skill("\\b(?:ml|machine\\s+learning)\\b", "Machine Learning"),
          new Skill("\\bfront[- ]?end\\b", "Frontend"),
          new Skill("\\bback[- ]?end\\b", "Backend"));

  private static final List<String> NAMES =
      List.of(
          "Ada L.", "Grace H.", "Alan T.", "Barbara L.", "Edsger D.", "Margaret H.",
          "Donald K.", "Katherine J.", "Dennis R.", "Frances A.", "Ken T.", "Radia P.");
  private static final List<String> LEVELS = List.of("Senior", "Staff", "Lead");

  /** A fake candidate, as in the {@code candidates} array. */
  record Candidate(String profileId, String name, String headline, double score) {}

  /** A fake action, as in the {@code actions} array. */
  record Action(String type, String profileId) {}

  /** Token counts, as in {@code usage}. */
  record TokenUsage(int promptTokens, int completionTokens) {
    int totalTokens() {
      return promptTokens + completionTokens;
    }
  }

  /** Everything one chat turn produces. */
  record Generation(
      String intent, String answer, List<Candidate> candidates, List<Action> actions, TokenUsage usage) {}

  private SandboxModel() {}

  /**
   * Answers one query.
   *
   * @param query the query as sent (sandbox directives are left out of the answer, but counted
   *     in the usage, since the service would see them)
   * @param userIntent the caller's intent, or null to classify the query
   * @param profileId the request's profile id, or null
   */
  static Generation generate(String query, @Nullable String userIntent, @Nullable String profileId) {
    String text = FaultDirective.strip(query);
    String intent = userIntent != null ? userIntent : classify(text);
    String quoted = "\"" + Text.preview(text) + "\"";
    List<Candidate> candidates = List.of();
    List<Action> actions = List.of();
    String answer;
    switch (intent) {
      case SEARCH -> {
        candidates = candidates(text);
        Candidate best = candidates.get(0);
        answer =
            "I found " + candidates.size() + " candidates for " + quoted + ". The strongest match is "
                + best.name() + ", " + best.headline() + " (score "
                + String.format(Locale.ROOT, "%.2f", best.score()) + ").";
      }
      case USER_ACTION -> {
        String target = profileId != null ? profileId : profileId(text, 0);
        boolean invite = INVITE_WORDS.matcher(text).find();
        actions = List.of(new Action(invite ? "invite" : "shortlist", target));
        answer =
            invite
                ? "Done: I invited " + target + " to apply, as you asked in " + quoted + "."
                : "Done: I added " + target + " to your shortlist, as you asked in " + quoted + ".";
      }
      default ->
          answer =
              "You said " + quoted + ". This is the sandbox, so no model ran; ask me to find"
                  + " candidates, or to shortlist someone, to see the other kinds of answer.";
    }
    TokenUsage usage = new TokenUsage(countWords(query) + PROMPT_OVERHEAD_TOKENS, countWords(answer));
    return new Generation(intent, answer, candidates, actions, usage);
  }

  /**
   * Classifies a query by keywords, case-insensitively: action words ({@code shortlist},
   * {@code invite}, {@code add ... to}) give {@code user_action}; otherwise search words ({@code
   * find}, {@code search}, {@code look for}, {@code candidates}, {@code engineers}, {@code
   * developers}) give {@code search}; otherwise {@code chat}. Action words win so that "invite the
   * top candidate" is an action, not a search.
   */
  static String classify(String text) {
    if (ACTION_WORDS.matcher(text).find()) {
      return USER_ACTION;
    }
    if (SEARCH_WORDS.matcher(text).find()) {
      return SEARCH;
    }
    return CHAT;
  }

  /** Returns three candidates derived from the query, best first. */
  static List<Candidate> candidates(String text) {
    byte[] hash = sha256(text);
    int firstName = Byte.toUnsignedInt(hash[0]) % NAMES.size();
    String skill = skill(text);
    Matcher location = LOCATION.matcher(text);
    String where = location.find() ? ", " + location.group(1) : "";
    List<Candidate> out = new ArrayList<>(CANDIDATE_COUNT);
    for (int i = 0; i < CANDIDATE_COUNT; i++) {
      // Steps of 0.08 minus a jitter of at most 0.03 keep the scores strictly descending.
      double score = (97 - 8 * i - (hash[1 + i] & 3)) / 100.0;
      out.add(
          new Candidate(
              profileId(text, i),
              NAMES.get((firstName + i) % NAMES.size()),
              LEVELS.get(i) + " " + skill + " Engineer" + where,
              score));
    }
    return List.copyOf(out);
  }

  /** Returns {@code id_} plus 8 hex digits derived from the query and {@code index}. */
  static String profileId(String text, int index) {
    byte[] hash = sha256(text + '\u0000' + index);
    int bits =
        (hash[0] & 0xff) << 24 | (hash[1] & 0xff) << 16 | (hash[2] & 0xff) << 8 | (hash[3] & 0xff);
    return "id_" + hex8(bits);
  }

  /**
   * Splits an answer into word-sized pieces, each word carrying the whitespace before it, so that
   * the pieces concatenate to exactly the answer.
   */
  static List<String> tokens(String answer) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 1; i < answer.length(); i++) {
      if (Character.isWhitespace(answer.charAt(i)) && !Character.isWhitespace(answer.charAt(i - 1))) {
        out.add(answer.substring(start, i));
        start = i;
      }
    }
    out.add(answer.substring(start));
    return out;
  }

  /** Counts whitespace-separated words. */
  static int countWords(String text) {
    int words = 0;
    boolean inWord = false;
    for (int i = 0; i < text.length(); i++) {
      boolean space = Character.isWhitespace(text.charAt(i));
      if (!space && !inWord) {
        words++;
      }
      inWord = !space;
    }
    return words;
  }

  /**
   * Returns a session title from the first query: whitespace and control characters collapsed to
   * single spaces, cut to {@value #TITLE_CODE_POINTS} code points with an ellipsis.
   */
  static String title(String text) {
    StringBuilder flat = new StringBuilder();
    text.codePoints()
        .map(cp -> Character.isWhitespace(cp) || Character.isISOControl(cp) ? ' ' : cp)
        .forEach(flat::appendCodePoint);
    String title = flat.toString().strip().replaceAll(" {2,}", " ");
    if (title.isEmpty()) {
      return "New chat";
    }
    if (title.codePointCount(0, title.length()) <= TITLE_CODE_POINTS) {
      return title;
    }
    return title.substring(0, title.offsetByCodePoints(0, TITLE_CODE_POINTS)).strip() + "\u2026";
  }

  static String sessionId(long counter) {
    return "sess_" + hex8(scramble((int) counter ^ 0x5e55_1000));
  }

  static String messageId(long counter) {
    return "msg_" + hex8(scramble((int) counter ^ 0x3e55_a6e0));
  }

  /** A bijection on 32-bit ints (each step is invertible), so distinct counters give distinct ids. */
  private static int scramble(int x) {
    x *= 0x9e3779b1;
    x ^= x >>> 15;
    x *= 0x85ebca6b;
    x ^= x >>> 13;
    return x;
  }

  private static String skill(String text) {
    for (Skill skill : SKILLS) {
      if (skill.pattern().matcher(text).find()) {
        return skill.label();
      }
    }
    return "Software";
  }

  private static String hex8(int value) {
    String hex = Integer.toHexString(value);
    return "0".repeat(8 - hex.length()) + hex;
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every Java platform has SHA-256", e);
    }
  }
}
