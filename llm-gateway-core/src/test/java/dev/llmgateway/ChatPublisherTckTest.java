package dev.llmgateway;

import static dev.llmgateway.TestSupport.USER;

import dev.llmgateway.testkit.NoDelayServerSocketFactory;
import java.io.IOException;
import java.util.concurrent.Flow;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okio.BufferedSink;
import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowPublisherVerification;
import org.testng.annotations.AfterMethod;
import org.testng.annotations.BeforeMethod;

/**
 * The Reactive Streams TCK (TestNG, run on the JUnit Platform by testng-engine) against {@link
 * LlmGatewayClient#chatPublisher}: a real client reading real streams from a fresh MockWebServer
 * per test, whose answer to the query {@code "elements N"} is a stream of exactly N events.
 */
public class ChatPublisherTckTest extends FlowPublisherVerification<StreamEvent> {
  /** Waits for expected signals (returns as soon as they come); generous for a loaded machine. */
  private static final long SIGNAL_TIMEOUT_MILLIS = 5_000;
  /** How long the TCK watches for signals that must not come. */
  private static final long NO_SIGNALS_TIMEOUT_MILLIS = 100;
  /**
   * The TCK's {@code expectError} (rule 3.9's tests) sleeps one poll interval and then gives up: in
   * 1.0.4 it computes the time left with {@code =-} instead of {@code -=}. So this is the real
   * timeout for an expected {@code onError}, and each of those three tests lasts that long.
   */
  private static final long POLL_MILLIS = 2_000;
  /** How long the TCK waits, after a cancel, before it checks that the subscriber can be collected. */
  private static final long GC_TIMEOUT_MILLIS = 1_000;
  private static final Pattern ELEMENTS = Pattern.compile("elements (\\d+)");

  private MockWebServer server;
  private LlmGatewayClient client;

  public ChatPublisherTckTest() {
    super(new TestEnvironment(SIGNAL_TIMEOUT_MILLIS, NO_SIGNALS_TIMEOUT_MILLIS, POLL_MILLIS), GC_TIMEOUT_MILLIS);
  }

  @BeforeMethod
  public void startServer() throws IOException {
    server = new MockWebServer();
    server.setServerSocketFactory(new NoDelayServerSocketFactory());
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        Matcher m = ELEMENTS.matcher(request.getBody() == null ? "" : request.getBody().utf8());
        return m.find() ? events(Long.parseLong(m.group(1))) : TestSupport.json(400, "{\"detail\":\"no count\"}");
      }
    });
    server.start();
    client = newClient();
  }

  @AfterMethod
  public void stopServer() {
    client.close();
    server.close();
  }

  private LlmGatewayClient newClient() {
    return TestSupport.client(server, new FakeTime()).auditSink(event -> {}).build();
  }

  @Override
  public Flow.Publisher<StreamEvent> createFlowPublisher(long elements) {
    return client.chatPublisher(ChatRequest.of("elements " + elements), USER);
  }

  /** A publisher of a closed client: it hands out a subscription, then signals onError. */
  @Override
  public Flow.Publisher<StreamEvent> createFailedFlowPublisher() {
    LlmGatewayClient closed = newClient();
    Flow.Publisher<StreamEvent> publisher = closed.chatPublisher(ChatRequest.of("elements 1"), USER);
    closed.close();
    return publisher;
  }

  /**
   * A stream of exactly {@code n} events ({@code n - 1} tokens, then {@code done}) and {@code
   * [DONE]}, written as the client reads: a stream of billions ends when the client goes away.
   */
  private static MockResponse events(long n) {
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "text/event-stream")
        .body(new MockResponseBody() {
          @Override
          public long getContentLength() {
            return -1;
          }

          @Override
          public void writeTo(BufferedSink sink) throws IOException {
            for (long i = 1; i < n; i++) {
              sink.writeUtf8("data: {\"type\":\"token\",\"content\":\"t" + i + "\"}\n\n").flush();
            }
            if (n > 0) {
              sink.writeUtf8("data: {\"type\":\"done\",\"finish_reason\":\"stop\"}\n\n");
            }
            sink.writeUtf8("data: [DONE]\n\n").flush();
          }
        }).build();
  }
}
