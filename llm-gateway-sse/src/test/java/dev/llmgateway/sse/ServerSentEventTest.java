package dev.llmgateway.sse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ServerSentEventTest {
  @Test
  void ofUsesTheDefaultTypeAndNoId() {
    ServerSentEvent event = ServerSentEvent.of("x");
    assertThat(event.type()).isEqualTo("message");
    assertThat(event.data()).isEqualTo("x");
    assertThat(event.id()).isNull();
  }

  @Test
  void emptyTypeMeansMessageAndEmptyIdMeansNone() {
    ServerSentEvent event = new ServerSentEvent("", "x", "");
    assertThat(event).isEqualTo(ServerSentEvent.of("x"));
  }

  @Test
  void refusesWhatTheWireCannotCarry() {
    assertThatThrownBy(() -> ServerSentEvent.of("a\nb", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("type contains CR or LF: the event stream cannot carry it");
    assertThatThrownBy(() -> new ServerSentEvent("t", "x", "a\u0000"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("id contains CR, LF or NUL: the event stream cannot carry it");
  }

  @Test
  void allowsNulInTypeAndAnythingInData() {
    ServerSentEvent event = new ServerSentEvent("a\u0000", "\r\n\u0000", "i d");
    assertThat(event.type()).isEqualTo("a\u0000");
    assertThat(event.data()).isEqualTo("\r\n\u0000");
  }

  @Test
  void refusesNulls() {
    assertThatThrownBy(() -> ServerSentEvent.of(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> ServerSentEvent.of(null, "x"))
        .isInstanceOf(NullPointerException.class);
  }
}
