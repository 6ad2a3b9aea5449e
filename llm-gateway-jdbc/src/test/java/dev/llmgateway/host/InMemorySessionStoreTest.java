package dev.llmgateway.host;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link SessionStoreContract} on {@link InMemorySessionStore}, and what is only this store's. */
class InMemorySessionStoreTest extends SessionStoreContract {
  @Override
  protected SessionStore createStore() {
    return InMemorySessionStore.create();
  }

  @Test
  void toStringCountsTheSessionsAndShowsNoneOfTheirContent() {
    store.recordExchange("secret-session", ADA, "secret title", T0, 2, 1);

    assertThat(store.toString()).isEqualTo("InMemorySessionStore[1 sessions]");
  }
}
