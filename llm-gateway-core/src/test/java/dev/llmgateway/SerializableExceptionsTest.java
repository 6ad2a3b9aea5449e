package dev.llmgateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Exceptions are Serializable (as every Throwable): those that carry lists keep them. */
class SerializableExceptionsTest {

  @Test
  void aValidationExceptionSurvivesSerializationWithItsViolations() throws Exception {
    ValidationException sent = new ValidationException(
        List.of(new ValidationException.Violation("query", "must not be blank")), "req-1");

    ValidationException received = roundTrip(sent);

    assertThat(received.violations()).containsExactly(new ValidationException.Violation("query", "must not be blank"));
    assertThat(received.requestId()).isEqualTo("req-1");
  }

  @Test
  void anApiExceptionSurvivesSerializationWithItsFieldErrors() throws Exception {
    ApiException.FieldError error = new ApiException.FieldError(List.of("body", "query"), "field required", "missing");
    ApiException sent = new ApiException("POST /chat answered 422", 422, null, List.of(error), "{}",
        Duration.ofSeconds(3), Map.of("retry-after", List.of("3")), "req-2", 1, false);

    ApiException received = roundTrip(sent);

    assertThat(received.fieldErrors()).containsExactly(error);
    assertThat(received.status()).isEqualTo(422);
    assertThat(received.retryAfter()).isEqualTo(Duration.ofSeconds(3));
    assertThat(received.header("Retry-After")).isEqualTo("3");
  }

  @SuppressWarnings("unchecked")
  private static <T extends Throwable> T roundTrip(T exception) throws IOException, ClassNotFoundException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(exception);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }
}
