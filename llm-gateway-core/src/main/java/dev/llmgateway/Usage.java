package dev.llmgateway;

/**
 * Token counts the service reported for one generation; the basis of billing.
 *
 * @param promptTokens tokens read
 * @param completionTokens tokens generated
 * @param totalTokens the sum the service reports
 */
public record Usage(long promptTokens, long completionTokens, long totalTokens) {}
