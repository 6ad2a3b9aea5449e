package dev.llmgateway.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.UserContext;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Users and queries shared by the interop tests. */
final class Fixtures {
  static final UserContext ADA =
      UserContext.builder().userId("123").companyId("456").role("recruiter").companyRole("owner").build();
  static final UserContext BOB =
      UserContext.builder().userId("789").companyId("456").role("recruiter").companyRole("member").build();

  /** The service answers it with intent search, candidates and an action. */
  static final String SEARCH_QUERY = "Find senior Rails engineers in Berlin";
  /** The service answers it with intent chat and no candidates. */
  static final String CHAT_QUERY = "How quickly do strong candidates usually reply?";

  private Fixtures() {}

  /** Runs {@code call}, asserts it throws a {@code type}, and returns that exception. */
  static <T extends Throwable> T thrown(Class<T> type, ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).as("expected %s to be thrown", type.getSimpleName()).isInstanceOf(type);
    return type.cast(thrown);
  }

  /** {@code query} with a fault directive the reference service acts on (and strips before answering). */
  static String withFault(String query, String directive) {
    return query + " #fault:" + directive;
  }
}
