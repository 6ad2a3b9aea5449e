package dev.llmgateway.internal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * The OkHttp pools and threads, and the limit on calls in flight, shared by a client and the
 * clients derived from it with {@code newBuilder()}. Reference counted: the last client to close
 * shuts down what the SDK created, and never anything the host passed in.
 */
public final class HttpResources {
  private final OkHttpClient root;
  private final @Nullable ExecutorService ownedExecutor;
  private final @Nullable ConnectionPool ownedPool;
  private final ConcurrencyLimiter limiter;
  private final AtomicInteger references = new AtomicInteger(1);

  private HttpResources(OkHttpClient root, @Nullable ExecutorService ownedExecutor, @Nullable ConnectionPool ownedPool,
      int maxConcurrentRequests) {
    this.root = root;
    this.ownedExecutor = ownedExecutor;
    this.ownedPool = ownedPool;
    this.limiter = new ConcurrencyLimiter(maxConcurrentRequests);
  }

  /**
   * Creates the resources for a client. With a host client, its connection pool and threads are
   * shared and only the dispatcher's limits are the SDK's own.
   */
  public static HttpResources create(@Nullable OkHttpClient hostClient, int maxConcurrentRequests) {
    if (hostClient == null) {
      Dispatcher dispatcher = new Dispatcher();
      dispatcher.setMaxRequests(maxConcurrentRequests);
      dispatcher.setMaxRequestsPerHost(maxConcurrentRequests);
      ConnectionPool pool = new ConnectionPool();
      OkHttpClient root = new OkHttpClient.Builder().dispatcher(dispatcher).connectionPool(pool).build();
      return new HttpResources(root, dispatcher.executorService(), pool, maxConcurrentRequests);
    }
    Dispatcher dispatcher = new Dispatcher(hostClient.dispatcher().executorService());
    dispatcher.setMaxRequests(maxConcurrentRequests);
    dispatcher.setMaxRequestsPerHost(maxConcurrentRequests);
    return new HttpResources(hostClient.newBuilder().dispatcher(dispatcher).build(), null, null,
        maxConcurrentRequests);
  }

  public OkHttpClient root() {
    return root;
  }

  /** The limit on logical calls in flight, shared by every client using these resources. */
  public ConcurrencyLimiter limiter() {
    return limiter;
  }

  /** The threads of OkHttp's dispatcher: the SDK's own, or those of the host's OkHttp client. */
  public ExecutorService dispatcherExecutor() {
    return root.dispatcher().executorService();
  }

  /**
   * Adds a client to the users of these resources, unless the last user has already released them
   * (what the SDK created is shut down then).
   *
   * @return false when they were released: the client needs resources of its own
   */
  public boolean retain() {
    int n;
    do {
      n = references.get();
      if (n == 0) {
        return false;
      }
    } while (!references.compareAndSet(n, n + 1));
    return true;
  }

  /** Removes a client; the last one releases what the SDK created. */
  public void release() {
    if (references.decrementAndGet() == 0) {
      if (ownedExecutor != null) {
        ownedExecutor.shutdown();
      }
      if (ownedPool != null) {
        ownedPool.evictAll();
      }
    }
  }
}
