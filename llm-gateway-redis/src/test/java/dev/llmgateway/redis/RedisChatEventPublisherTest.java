package dev.llmgateway.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.llmgateway.AuditSink;
import dev.llmgateway.ChatRequest;
import dev.llmgateway.LlmGatewayClient;
import dev.llmgateway.RetryPolicy;
import dev.llmgateway.UserContext;
import dev.llmgateway.host.BackgroundChat;
import dev.llmgateway.host.ChatEvent;
import dev.llmgateway.host.ChatGateway;
import dev.llmgateway.host.InMemoryCreditLedger;
import dev.llmgateway.testkit.RedisServerExtension;
import dev.llmgateway.testkit.SseResponses;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A subscriber to a user's channel receives the JSON events of that user's background chats, in order. */
class RedisChatEventPublisherTest {
  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private static final UserContext USER = UserContext.builder().userId("u1").companyId("c1").role("recruiter").build();
  private static final String SSE = "data: {\"type\":\"session\",\"session_id\":\"s\",\"message_id\":\"m\"}\n\n"
      + "data: {\"type\":\"token\",\"content\":\"Hello\"}\n\n"
      + "data: {\"type\":\"token\",\"content\":\" \\\"world\\\"\"}\n\n"
      + "data: {\"type\":\"done\",\"finish_reason\":\"stop\","
      + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}\n\ndata: [DONE]\n\n";
  private static final long WAIT_SECONDS = 10;

  private final MockWebServer service = new MockWebServer();
  private final InMemoryCreditLedger ledger = InMemoryCreditLedger.create();
  private RedisConnections connections;
  private RedisClient subscriberClient;
  private StatefulRedisPubSubConnection<String, String> subscriber;
  private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
  private LlmGatewayClient client;

  @BeforeEach
  void setUp() throws IOException {
    service.start();
    client = LlmGatewayClient.builder().baseUrl(service.url("/").toString()).serviceToken("t")
        .environment(n -> null).retryPolicy(RetryPolicy.none()).auditSink(AuditSink.none()).build();
    ledger.deposit("u1", 100);
    connections = new RedisConnections(REDIS);
    subscriberClient = RedisClient.create(REDIS.uri());
    subscriber = subscriberClient.connectPubSub();
    subscriber.addListener(new RedisPubSubAdapter<>() {
      @Override
      public void message(String channel, String message) {
        received.add(channel + " " + message);
      }
    });
  }

  @AfterEach
  void tearDown() {
    subscriber.close();
    subscriberClient.shutdown();
    connections.close();
    client.close();
    service.close();
  }

  private List<String> take(int count) throws InterruptedException {
    List<String> messages = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String message = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(message).as("message %d of %d", i + 1, count).isNotNull();
      messages.add(message);
    }
    return messages;
  }

  @Test
  void aSubscriberReceivesTheJsonEventsOfABackgroundChatInOrder() throws Exception {
    RedisChatEventPublisher publisher = RedisChatEventPublisher.create(connections.connect());
    String channel = RedisChatEventPublisher.channel(RedisChatEventPublisher.DEFAULT_CHANNEL_PREFIX, USER);
    subscriber.sync().subscribe(channel);
    ChatGateway gateway = ChatGateway.builder().client(client).ledger(ledger).eventPublisher(publisher).build();
    service.enqueue(SseResponses.sse(SSE));

    BackgroundChat chat = gateway.chatInBackground(USER, ChatRequest.of("hi"));
    ChatEvent last = chat.completion().get(WAIT_SECONDS, TimeUnit.SECONDS);

    String id = chat.id();
    assertThat(channel).isEqualTo("llm-gateway:chat-events:c1:u1");
    assertThat(take(4)).containsExactly(
        channel + " {\"type\":\"started\",\"chat_id\":\"" + id + "\"}",
        channel + " {\"type\":\"token\",\"chat_id\":\"" + id + "\",\"text\":\"Hello\"}",
        channel + " {\"type\":\"token\",\"chat_id\":\"" + id + "\",\"text\":\" \\\"world\\\"\"}",
        channel + " " + last.toJson());
    assertThat(last.toJson()).isEqualTo("{\"type\":\"completed\",\"chat_id\":\"" + id
        + "\",\"session_id\":\"s\",\"answer\":\"Hello \\\"world\\\"\",\"credits\":3}");
    assertThat(publisher.failures()).isZero();
  }

  @Test
  void anotherUsersChannelHearsNothing() throws Exception {
    RedisChatEventPublisher publisher = RedisChatEventPublisher.builder(connections.connect())
        .channelPrefix("app:events:").build();
    UserContext other = USER.toBuilder().userId("u2").build();
    subscriber.sync().subscribe(publisher.channelOf(other));
    publisher.publish(new ChatEvent.Token("r1", "u1", "c1", "for u1 only"));
    publisher.publish(new ChatEvent.Token("r2", "u2", "c1", "for u2"));

    assertThat(take(1)).containsExactly("app:events:c1:u2 {\"type\":\"token\",\"chat_id\":\"r2\",\"text\":\"for u2\"}");
    assertThat(received).isEmpty();
  }

  @Test
  void idsWithColonsNeverShareAChannel() {
    UserContext first = UserContext.builder().userId("c").companyId("a:b").role("r").build();
    UserContext second = UserContext.builder().userId("b:c").companyId("a").role("r").build();
    UserContext third = UserContext.builder().userId("%3Ac").companyId("a%3Ab").role("r").build();

    String prefix = RedisChatEventPublisher.DEFAULT_CHANNEL_PREFIX;
    assertThat(RedisChatEventPublisher.channel(prefix, first)).isEqualTo(prefix + "a%3Ab:c");
    assertThat(RedisChatEventPublisher.channel(prefix, second)).isEqualTo(prefix + "a:b%3Ac");
    assertThat(RedisChatEventPublisher.channel(prefix, third)).isEqualTo(prefix + "a%253Ab:%253Ac");
  }

  @Test
  void aFailedPublishIsCountedNotThrown() throws Exception {
    StatefulRedisConnection<String, String> connection = connections.connect();
    RedisChatEventPublisher publisher = RedisChatEventPublisher.create(connection);
    connection.close();

    publisher.publish(new ChatEvent.Started("r1", "u1", "c1"));

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (publisher.failures() == 0 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(publisher.failures()).isEqualTo(1);
    assertThat(publisher.published()).isZero();
    assertThat(publisher.toString()).contains("failures=1");
  }

  @Test
  void settingsAreCheckedByName() {
    StatefulRedisConnection<String, String> connection = connections.connect();
    assertThat(catchThrowable(() -> RedisChatEventPublisher.builder(connection).channelPrefix("")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("channelPrefix");
    assertThat(catchThrowable(() -> RedisChatEventPublisher.channel("", USER)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("channelPrefix");
    assertThat(catchThrowable(() -> RedisChatEventPublisher.create((StatefulRedisConnection<String, String>) null)))
        .isInstanceOf(NullPointerException.class).hasMessage("connection");
  }
}
