package dev.llmgateway.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LeavingBrowserTest {
  private static void write(LeavingBrowser browser, String text) throws IOException {
    browser.write(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void afterBytesTakesThatManyAndFailsTheWriteThatGoesPast() throws IOException {
    LeavingBrowser browser = LeavingBrowser.afterBytes(5);
    write(browser, "abc");
    write(browser, "de");
    assertThatThrownBy(() -> write(browser, "f")).isInstanceOf(IOException.class).hasMessage("Broken pipe");
    assertThat(browser.received()).isEqualTo("abcde");
    assertThat(browser.hasLeft()).isTrue();
  }

  @Test
  void onceGoneEveryWriteFails() throws IOException {
    LeavingBrowser browser = LeavingBrowser.onText("event: complete");
    write(browser, "event: chunk\n");
    assertThatThrownBy(() -> write(browser, "event: complete\n")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> browser.write('x')).isInstanceOf(IOException.class);
    assertThat(browser.received()).isEqualTo("event: chunk\n");
  }

  @Test
  void onTextNoticesTextSplitAcrossWrites() throws IOException {
    LeavingBrowser browser = LeavingBrowser.onText(" world");
    write(browser, "Hello wo");
    assertThatThrownBy(() -> write(browser, "rld")).isInstanceOf(IOException.class);
    assertThat(browser.received()).isEqualTo("Hello wo");
  }

  @Test
  void afterTextTakesTheTextThenLeaves() throws IOException {
    LeavingBrowser browser = LeavingBrowser.afterText(": ping\n");
    write(browser, "retry: 300\n\n");
    write(browser, ": ping\n\n");
    assertThat(browser.hasLeft()).isFalse();
    assertThatThrownBy(() -> write(browser, "data: x\n\n")).isInstanceOf(IOException.class);
    assertThat(browser.received()).isEqualTo("retry: 300\n\n: ping\n\n");
  }

  @Test
  void afterWritesWithItsOwnFailure() throws IOException {
    LeavingBrowser browser = LeavingBrowser.afterWrites(2).failingWith(() -> new InterruptedIOException("cancelled"));
    write(browser, "a");
    write(browser, "b");
    assertThatThrownBy(() -> write(browser, "c")).isInstanceOf(InterruptedIOException.class).hasMessage("cancelled");
  }

  @Test
  void refusesNonsense() {
    assertThatThrownBy(() -> LeavingBrowser.afterBytes(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> LeavingBrowser.onText("")).isInstanceOf(IllegalArgumentException.class);
  }
}
