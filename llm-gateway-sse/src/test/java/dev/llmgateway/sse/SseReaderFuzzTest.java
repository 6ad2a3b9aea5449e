package dev.llmgateway.sse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import okio.Buffer;
import okio.Okio;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes {@link SseReader} with arbitrary bytes, arbitrary limits and arbitrary chunkings.
 *
 * <p>A fuzz input is {@code [limit][chunking seed][stream bytes...]}: the first byte is the
 * {@linkplain SseReader.Builder#maxEventSize(int) size limit} in bytes, 0 meaning {@value
 * #MAX_EVENT_SIZE}; the second seeds the random chunking; the rest is the stream. The stream is read
 * whole, in random chunks, and byte by byte through an {@code InputStream}; all three must give the
 * same transcript. The only failure allowed is {@link SseLimitExceededException} (the sources are in
 * memory, so any other {@code IOException} would be the reader's own), no event, type, id or
 * comment may exceed the limit, and a failed reader must refuse to go on.
 *
 * <p>Without {@code JAZZER_FUZZ} this runs the seeds in {@code SseReaderFuzzTestInputs/} as
 * regression tests: every conformance vector of {@link SseConformanceTest} is one (see {@link
 * #seedCorpusHoldsEveryConformanceVector()}). {@code .ci/fuzz} runs it in fuzzing mode.
 */
class SseReaderFuzzTest {
  static final int MAX_EVENT_SIZE = 4096;

  /** A comment line as the listener saw it. */
  record Comment(String text) {}

  /** All a reader reports about a stream. */
  record Transcript(
      List<Object> log,
      @Nullable Duration retry,
      @Nullable String lastEventId,
      boolean limitExceeded) {}

  /** One decoded fuzz input. */
  record Input(int maxEventSize, int chunkSeed, byte[] stream) {
    static Input decode(byte[] raw) {
      int limit = raw.length > 0 ? raw[0] & 0xFF : 0;
      int seed = raw.length > 1 ? raw[1] & 0xFF : 0;
      byte[] stream = raw.length > 2 ? Arrays.copyOfRange(raw, 2, raw.length) : new byte[0];
      return new Input(limit == 0 ? MAX_EVENT_SIZE : limit, seed, stream);
    }

    /** The fuzz input for a conformance vector: its limit, if small, and its bytes. */
    static byte[] seedFor(SseConformanceTest.Vector vector) {
      int limit = vector.maxEventSize() <= 0xFF ? vector.maxEventSize() : 0;
      byte[] raw = new byte[vector.input().length + 2];
      raw[0] = (byte) limit;
      raw[1] = (byte) vector.name().length();
      System.arraycopy(vector.input(), 0, raw, 2, vector.input().length);
      return raw;
    }
  }

  @FuzzTest(maxDuration = "30s")
  void readsArbitraryBytesInArbitraryChunks(byte[] raw) throws IOException {
    Input input = Input.decode(raw);
    byte[] bytes = input.stream();

    Transcript whole = read(input, SseReader.builder(), b -> b.build(new Buffer().write(bytes)));
    Random random = new Random(input.chunkSeed());
    List<byte[]> chunks = ChunkedSource.randomChunks(bytes, random);
    Transcript chunked =
        read(input, SseReader.builder(), b -> b.build(Okio.buffer(ChunkedSource.of(chunks))));
    Transcript bytewise =
        read(
            input,
            SseReader.builder(),
            b -> b.build(ChunkedSource.inputStream(ChunkedSource.bytewise(bytes))));

    assertThat(chunked).as("random chunks vs whole").isEqualTo(whole);
    assertThat(bytewise).as("byte by byte vs whole").isEqualTo(whole);
  }

  /** The seed corpus holds every conformance vector, so new vectors are not forgotten there. */
  @Test
  void seedCorpusHoldsEveryConformanceVector() throws IOException {
    List<byte[]> seeds = new ArrayList<>();
    try (Stream<Path> files = Files.list(inputsDirectory("readsArbitraryBytesInArbitraryChunks"))) {
      for (Path file : (Iterable<Path>) files::iterator) {
        seeds.add(Files.readAllBytes(file));
      }
    }
    SseConformanceTest.vectors()
        .forEach(
            vector ->
                assertThat(seeds)
                    .as("seed for vector '%s'", vector.name())
                    .anySatisfy(seed -> assertThat(seed).isEqualTo(Input.seedFor(vector))));
  }

  static Path inputsDirectory(String method) {
    URL url = SseReaderFuzzTest.class.getResource("SseReaderFuzzTestInputs/" + method);
    assertThat(url).as("inputs directory of %s", method).isNotNull();
    try {
      return Paths.get(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private interface ReaderFactory {
    SseReader build(SseReader.Builder builder);
  }

  private static Transcript read(Input input, SseReader.Builder builder, ReaderFactory factory) {
    int limit = input.maxEventSize();
    List<Object> log = new ArrayList<>();
    builder
        .maxEventSize(limit)
        .commentListener(
            text -> {
              assertThat(text.length()).as("comment length").isLessThanOrEqualTo(limit);
              log.add(new Comment(text));
            });
    try (SseReader reader = factory.build(builder)) {
      boolean limitExceeded = false;
      try {
        for (ServerSentEvent event; (event = reader.next()) != null; ) {
          // Each byte decodes to at most one char, so the char count bounds the bytes read.
          assertThat(event.data().length()).as("data length").isLessThanOrEqualTo(limit);
          if (!event.type().equals(ServerSentEvent.DEFAULT_TYPE)) {
            assertThat(event.type().length()).as("type length").isLessThanOrEqualTo(limit);
          }
          if (event.id() != null) {
            assertThat(event.id().length()).as("id length").isLessThanOrEqualTo(limit);
          }
          log.add(event);
        }
        assertThat(reader.next()).as("next() after the end").isNull();
      } catch (SseLimitExceededException e) {
        limitExceeded = true;
        assertThat(e.limit()).isEqualTo(limit);
        assertThat(e).hasMessageContaining("maxEventSize");
        assertThatThrownBy(reader::next)
            .as("next() after a failure")
            .isInstanceOf(IllegalStateException.class);
      }
      return new Transcript(log, reader.retry(), reader.lastEventId(), limitExceeded);
    } catch (IOException e) {
      throw new UncheckedIOException("an in-memory stream failed to read: " + e, e);
    }
  }
}
