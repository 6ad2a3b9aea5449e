package dev.llmgateway.examples.gateway;

import dev.llmgateway.UserContext;
import dev.llmgateway.host.ChatEvent;
import dev.llmgateway.host.ChatEventPublisher;
import dev.llmgateway.host.SseRelay;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The example hosts' push channel for background answers: a {@link ChatEventPublisher} that fans
 * each {@link ChatEvent} out to the open subscriptions of the user it belongs to (the browser tabs
 * holding {@code GET /events} open), in memory, on one instance.
 *
 * <p>{@link #publish} is called on the SDK's executor thread and never blocks there: each
 * subscription has a bounded queue ({@link Builder#queueCapacity}), filled without locks; a
 * subscription whose browser reads too slowly for its queue is closed (its browser subscribes again;
 * the answer it missed is in the session), never the SDK's thread held up or another
 * subscription's events dropped. A user has at most {@link Builder#maxSubscriptionsPerUser}
 * subscriptions: one more closes that user's oldest (typically the one of a page reloaded before
 * its old connection was seen to close). Events of one chat reach a subscription in the order
 * published; events of a user reach only that user's subscriptions (same user id and company id).
 *
 * <p>Behind a load balancer, a browser's subscription and its background chat may be on different
 * instances: there, publish through a shared channel instead (the Redis module's publisher, each
 * instance subscribing for its own browsers).
 *
 * <p>Thread-safe. {@link #close()} closes every subscription, and a subscription opened afterwards
 * is closed at once: the host is stopping.
 */
public final class ChatEventHub implements ChatEventPublisher, AutoCloseable {
  /** Events a subscription holds for its browser before it is closed as too slow. */
  public static final int DEFAULT_QUEUE_CAPACITY = 1024;
  /** Open subscriptions per user; one more closes the user's oldest. */
  public static final int DEFAULT_MAX_SUBSCRIPTIONS_PER_USER = 8;
  /** The longest silence on a subscription before a {@code : ping} comment: the relay's. */
  public static final Duration DEFAULT_HEARTBEAT = SseRelay.DEFAULT_HEARTBEAT;

  private final int queueCapacity;
  private final int maxSubscriptionsPerUser;
  private final Duration heartbeat;
  /** Each user's open subscriptions, oldest first; the lists are never changed once in the map. */
  private final ConcurrentHashMap<Owner, List<Subscription>> byOwner = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private ChatEventHub(Builder builder) {
    this.queueCapacity = builder.queueCapacity;
    this.maxSubscriptionsPerUser = builder.maxSubscriptionsPerUser;
    this.heartbeat = builder.heartbeat;
  }

  /**
   * Returns a hub with the defaults.
   *
   * @return a new hub
   */
  public static ChatEventHub create() {
    return builder().build();
  }

  /**
   * Starts a builder holding the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the longest silence on a subscription before a heartbeat comment */
  public Duration heartbeat() {
    return heartbeat;
  }

  /**
   * Opens a subscription to {@code user}'s events; if the user already has {@link
   * Builder#maxSubscriptionsPerUser} open, closes the oldest.
   *
   * @param user the signed-in user
   * @return the subscription, closed already if this hub is; close it when its browser has gone
   */
  public Subscription subscribe(UserContext user) {
    Owner owner = new Owner(user.companyId(), user.userId());
    Subscription subscription = new Subscription(this, owner, queueCapacity);
    List<Subscription> evicted = new ArrayList<>();
    byOwner.compute(owner, (key, open) -> {
      List<Subscription> next = new ArrayList<>(open == null ? List.of() : open);
      while (next.size() >= maxSubscriptionsPerUser) {
        evicted.add(next.remove(0));
      }
      next.add(subscription);
      return List.copyOf(next);
    });
    evicted.forEach(oldest -> oldest.close(Subscription.Reason.REPLACED));
    if (closed) {
      subscription.close(); // after close() began: it may not have seen this one
    }
    return subscription;
  }

  /**
   * Returns {@code user}'s open subscriptions, oldest first.
   *
   * @param user the user
   * @return a snapshot
   */
  public List<Subscription> subscriptions(UserContext user) {
    return byOwner.getOrDefault(new Owner(user.companyId(), user.userId()), List.of());
  }

  /**
   * Offers {@code event} to each open subscription of its user. Never blocks, never throws for a
   * subscription: one whose queue is full is closed.
   *
   * @param event the event
   */
  @Override
  public void publish(ChatEvent event) {
    List<Subscription> open = byOwner.get(new Owner(event.companyId(), event.userId()));
    if (open == null) {
      return;
    }
    for (Subscription subscription : open) {
      subscription.offer(event);
    }
  }

  /**
   * Closes every open subscription (their browsers' responses end), and every one opened from now
   * on. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    for (List<Subscription> open : byOwner.values()) {
      open.forEach(Subscription::close);
    }
  }

  private void remove(Subscription subscription) {
    byOwner.computeIfPresent(subscription.owner, (key, open) -> {
      List<Subscription> next = new ArrayList<>(open);
      next.remove(subscription);
      return next.isEmpty() ? null : List.copyOf(next);
    });
  }

  @Override
  public String toString() {
    return "ChatEventHub{users=" + byOwner.size() + ", queueCapacity=" + queueCapacity
        + ", maxSubscriptionsPerUser=" + maxSubscriptionsPerUser + ", heartbeat=" + heartbeat + "}";
  }

  /** A user, as the events name them: user ids are unique within a company. */
  private record Owner(String companyId, String userId) {}

  /**
   * One browser's subscription: a bounded queue of its user's events, read by the thread that
   * writes them to that browser ({@link #poll}). Thread-safe: the hub offers from the SDK's
   * threads, one reader polls, anyone may close.
   */
  public static final class Subscription implements AutoCloseable {
    private final ChatEventHub hub;
    private final Owner owner;
    private final int capacity;
    private final ConcurrentLinkedQueue<ChatEvent> queue = new ConcurrentLinkedQueue<>();
    /** Events queued and not yet polled; at most {@code capacity}. */
    private final AtomicInteger queued = new AtomicInteger();
    /** One permit per event queued, and one more when closed, so a waiting reader wakes up. */
    private final Semaphore ready = new Semaphore(0);
    private final AtomicBoolean open = new AtomicBoolean(true);
    private final CompletableFuture<Reason> closed = new CompletableFuture<>();

    /** Why a subscription was closed. */
    public enum Reason {
      /** {@link Subscription#close()}: its browser went away, or the host stopped. */
      CLOSED,
      /** Its queue was full: the browser read too slowly. */
      TOO_SLOW,
      /** Its user opened more subscriptions than allowed; this was the oldest. */
      REPLACED
    }

    private Subscription(ChatEventHub hub, Owner owner, int capacity) {
      this.hub = hub;
      this.owner = owner;
      this.capacity = capacity;
    }

    /**
     * Waits up to {@code wait} for the next event.
     *
     * @param wait how long to wait; zero to only look
     * @return the next event, or null when there was none within {@code wait} (write a heartbeat),
     *     or when the subscription is closed (see {@link #isOpen()})
     * @throws InterruptedException if the reading thread is interrupted while waiting
     */
    public @Nullable ChatEvent poll(Duration wait) throws InterruptedException {
      if (!open.get() || !ready.tryAcquire(wait.toNanos(), TimeUnit.NANOSECONDS) || !open.get()) {
        return null;
      }
      ChatEvent event = queue.poll(); // a permit is released only after its event was queued
      queued.decrementAndGet();
      return event;
    }

    /** @return whether events still reach this subscription */
    public boolean isOpen() {
      return open.get();
    }

    /**
     * Completes with the reason once this subscription is closed.
     *
     * @return the future (never completed exceptionally)
     */
    public CompletableFuture<Reason> closed() {
      return closed;
    }

    /** Stops events reaching this subscription and wakes its reader. Idempotent. */
    @Override
    public void close() {
      close(Reason.CLOSED);
    }

    private void offer(ChatEvent event) {
      if (!open.get()) {
        return;
      }
      if (queued.incrementAndGet() > capacity) {
        queued.decrementAndGet();
        close(Reason.TOO_SLOW);
        return;
      }
      queue.add(event);
      ready.release();
    }

    private void close(Reason reason) {
      if (open.compareAndSet(true, false)) {
        hub.remove(this);
        queue.clear();
        ready.release();
        closed.complete(reason);
      }
    }

    @Override
    public String toString() {
      return "Subscription{open=" + open.get() + ", queued=" + queued.get() + "}";
    }
  }

  /** Configures a {@link ChatEventHub}. Not thread-safe. */
  public static final class Builder {
    private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
    private int maxSubscriptionsPerUser = DEFAULT_MAX_SUBSCRIPTIONS_PER_USER;
    private Duration heartbeat = DEFAULT_HEARTBEAT;

    private Builder() {}

    /**
     * Sets how many events a subscription holds for a slow browser before it is closed. Default
     * {@value ChatEventHub#DEFAULT_QUEUE_CAPACITY}.
     *
     * @param queueCapacity at least 1
     * @return this builder
     * @throws IllegalArgumentException if less than 1
     */
    public Builder queueCapacity(int queueCapacity) {
      if (queueCapacity < 1) {
        throw new IllegalArgumentException("queueCapacity must be at least 1, was " + queueCapacity);
      }
      this.queueCapacity = queueCapacity;
      return this;
    }

    /**
     * Sets how many subscriptions a user may hold open; one more closes the oldest. Default
     * {@value ChatEventHub#DEFAULT_MAX_SUBSCRIPTIONS_PER_USER}.
     *
     * @param maxSubscriptionsPerUser at least 1
     * @return this builder
     * @throws IllegalArgumentException if less than 1
     */
    public Builder maxSubscriptionsPerUser(int maxSubscriptionsPerUser) {
      if (maxSubscriptionsPerUser < 1) {
        throw new IllegalArgumentException("maxSubscriptionsPerUser must be at least 1, was " + maxSubscriptionsPerUser);
      }
      this.maxSubscriptionsPerUser = maxSubscriptionsPerUser;
      return this;
    }

    /**
     * Sets the longest silence on a subscription before a {@code : ping} comment keeps proxies
     * from closing it, and the longest before a browser that went away is noticed. Default {@link
     * ChatEventHub#DEFAULT_HEARTBEAT}.
     *
     * @param heartbeat positive
     * @return this builder
     * @throws IllegalArgumentException if zero or negative
     */
    public Builder heartbeat(Duration heartbeat) {
      Objects.requireNonNull(heartbeat, "heartbeat");
      if (heartbeat.isZero() || heartbeat.isNegative()) {
        throw new IllegalArgumentException("heartbeat must be positive: " + heartbeat);
      }
      this.heartbeat = heartbeat;
      return this;
    }

    /**
     * Builds the hub.
     *
     * @return the hub
     */
    public ChatEventHub build() {
      return new ChatEventHub(this);
    }
  }
}
