/**
 * Completion webhooks from the service to the host, signed per Standard Webhooks (CONTRACT section
 * 5).
 *
 * <p>A host verifies each delivery with a {@link dev.llmgateway.webhooks.WebhookVerifier} over the
 * raw body bytes, before parsing anything, and reads the typed {@link
 * dev.llmgateway.webhooks.CompletionWebhook} from the {@link
 * dev.llmgateway.webhooks.VerifiedWebhook} it returns. A redelivered message is reported with
 * {@link dev.llmgateway.webhooks.VerifiedWebhook#isDuplicate()}, not as an error, so the host can
 * answer {@code 2xx} without acting twice. {@link dev.llmgateway.webhooks.WebhookSigner} is the
 * sending side, for tests and for services written in Java.
 *
 * <p>No webhook secret ever appears in an exception message, a log line or a {@code toString()}
 * of the types in this package.
 */
@NullMarked
package dev.llmgateway.webhooks;

import org.jspecify.annotations.NullMarked;
