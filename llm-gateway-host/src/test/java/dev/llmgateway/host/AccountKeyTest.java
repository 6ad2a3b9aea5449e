package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.llmgateway.Operation;
import dev.llmgateway.UserContext;
import org.junit.jupiter.api.Test;

class AccountKeyTest {
  private static final UserContext ADA =
      UserContext.builder().userId("123").companyId("acme").role("recruiter").build();
  private static final UserContext BOB =
      UserContext.builder().userId("456").companyId("acme").role("client").build();

  @Test
  void userAndCompanyKeysAnswerTheUserAndCompanyIds() {
    assertThat(AccountKey.USER.accountOf(ADA)).isEqualTo("123");
    assertThat(AccountKey.COMPANY.accountOf(ADA)).isEqualTo("acme");
  }

  @Test
  void ledgerKeysAccountsByUserByDefault() {
    InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
    ledger.deposit("123", 20);

    ledger.reserve(ADA, Operation.CHAT, 15);

    assertThat(ledger.balance("123")).isEqualTo(5);
    assertThat(ledger.balance("acme")).isZero();
    assertThatThrownBy(() -> ledger.reserve(BOB, Operation.CHAT, 1))
        .isInstanceOf(InsufficientCreditsException.class);
  }

  @Test
  void companyKeyMakesTheUsersOfACompanySpendItsCredits() {
    InMemoryCreditLedger ledger = InMemoryCreditLedger.builder().accountKey(AccountKey.COMPANY).build();
    ledger.deposit("acme", 20);

    Reservation ada = ledger.reserve(ADA, Operation.CHAT, 10);
    Reservation bob = ledger.reserve(BOB, Operation.CHAT, 10);

    assertThat(ledger.balance("acme")).isZero();
    assertThat(ledger.reserved("acme")).isEqualTo(20);
    assertThatThrownBy(() -> ledger.reserve(ADA, Operation.CHAT, 1))
        .isInstanceOf(InsufficientCreditsException.class);
    assertThat(ledger.commit(ada, 4)).isEqualTo(Settlement.COMMITTED);
    assertThat(ledger.release(bob, "test")).isEqualTo(Settlement.RELEASED);
    assertThat(ledger.balance("acme")).isEqualTo(16);
    assertThat(ledger.balance("123")).isZero();
  }

  @Test
  void hostFunctionPicksTheAccount() {
    InMemoryCreditLedger ledger = InMemoryCreditLedger.builder()
        .accountKey(user -> user.role().equals("client") ? "house" : user.companyId())
        .build();
    ledger.deposit("house", 5);

    ledger.reserve(BOB, Operation.CHAT, 5);

    assertThat(ledger.balance("house")).isZero();
    assertThatThrownBy(() -> ledger.reserve(ADA, Operation.CHAT, 1))
        .isInstanceOf(InsufficientCreditsException.class);
  }

  @Test
  void blankOrNullAccountIsRefusedBeforeAnyCreditMoves() {
    InMemoryCreditLedger blank = InMemoryCreditLedger.builder().accountKey(user -> " ").build();
    blank.deposit(" ", 10);
    @SuppressWarnings("NullAway")
    AccountKey nothing = user -> null;
    InMemoryCreditLedger none = InMemoryCreditLedger.builder().accountKey(nothing).build();

    assertThatThrownBy(() -> blank.reserve(ADA, Operation.CHAT, 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no account for user 123");
    assertThatThrownBy(() -> none.reserve(ADA, Operation.CHAT, 1))
        .isInstanceOf(IllegalStateException.class);
    assertThat(blank.balance(" ")).isEqualTo(10);
    assertThat(blank.pendingCount()).isZero();
  }
}
