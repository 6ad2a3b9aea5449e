package dev.llmgateway;

/**
 * Describes one logical call to listeners. Holds nothing secret: the query only as a preview.
 *
 * @param requestId the {@code X-Request-Id}, the same on every attempt
 * @param operation the operation
 * @param method the HTTP method
 * @param path the URL path (no query string, no host)
 * @param userId the end user's id
 * @param companyId the end user's company id
 * @param queryPreview at most the first 50 characters of the query; empty for calls without one
 */
public record CallInfo(
    String requestId,
    Operation operation,
    String method,
    String path,
    String userId,
    String companyId,
    String queryPreview) {}
