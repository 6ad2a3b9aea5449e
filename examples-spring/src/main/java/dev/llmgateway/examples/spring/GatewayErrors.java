package dev.llmgateway.examples.spring;

import dev.llmgateway.examples.gateway.GatewayRoutes;
import dev.llmgateway.examples.gateway.GatewayRoutes.Reply;
import dev.llmgateway.host.Envelope;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.core.task.TaskRejectedException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.async.AsyncRequestNotUsableException;

/**
 * Every error Spring MVC raises itself (no route: 404, wrong method: 405, an unreadable request:
 * 4xx) answered in the host's envelope, as the JDK host does, instead of Spring Boot's
 * {@code {timestamp, status, error, path}} JSON; anything else through the SDK's {@code ErrorMapper}.
 */
@RestControllerAdvice
class GatewayErrors {
  private final GatewayRoutes routes;

  GatewayErrors(GatewayRoutes routes) {
    this.routes = routes;
  }

  @ExceptionHandler(Exception.class)
  @Nullable ResponseEntity<byte[]> handle(Exception failure) {
    if (failure instanceof AsyncRequestNotUsableException) {
      return null; // the browser has gone (a relay it left): nothing to answer, as Spring's own resolver does
    }
    if (failure instanceof ErrorResponse spring) {
      int status = spring.getStatusCode().value();
      Map<String, String> headers = new LinkedHashMap<>();
      spring.getHeaders().forEach((name, values) -> headers.put(name, String.join(", ", values)));
      Envelope envelope = switch (status) {
        case 404 -> GatewayRoutes.notFound().envelope();
        case 405 -> GatewayRoutes.methodNotAllowed().envelope();
        default -> {
          HttpStatus known = HttpStatus.resolve(status);
          yield Envelope.error(known == null ? "Error" : known.getReasonPhrase(), Map.of());
        }
      };
      return GatewayController.send(new Reply(status, headers, envelope));
    }
    if (failure instanceof TaskRejectedException) {
      // Every relay thread (or event subscription thread) is busy: nothing was reserved yet.
      return GatewayController.send(new Reply(503, Map.of("Retry-After", "1"),
          Envelope.error("The assistant is busy. Try again in a moment.", Map.of())));
    }
    return GatewayController.send(routes.error(failure));
  }
}
